"""The Atom and RSS renderer of feedgen 1.0.0, as feedpub used it before its documents were
written from templates: the reference that ``test_templated_formats.py`` holds
``feedpub.formats.xml`` to, byte for byte. Its workarounds are those the traps
of ``test_feedgen_traps.py`` pin.

feedgen 1.0.0 has traps, each worked
around here and pinned by a regression test in ``tests/test_feedgen_traps.py``
that fails when a release changes the behaviour:

- Atom entry links lose every attribute but ``href``: the entry extension
  below puts ``rel``, ``type`` and ``length`` back.
- ``add_entry()`` prepends: entries are added with ``order="append"``.
- The RSS channel ``<link>`` is the last link added: the self link is added
  first and the web page last.
- ``content(type="CDATA")`` writes an invalid Atom ``type``: content is
  always ``type="html"``.
- An enclosure without a length writes ``length="None"``: enclosures are
  added only when type and length are both known.
- Authors without an e-mail vanish from RSS: RSS gets every author as a
  ``dc:creator`` instead, and no ``<author>`` (an item with both draws a
  validator warning, and RSS ``<author>`` must be an e-mail address).
- The clock is stamped into dates, and the version into ``<generator>``:
  every date and the generator are set explicitly.
- Characters XML forbids make serialisation fail: every text is cleaned.
- Naive datetimes and dates raise: every date passed is aware, in UTC.
- RSS gets no link but ``self`` and the channel's ``<link>``: the hub and
  archive links are added by the feed extension, in both formats alike.

And two traps of the readers built on feedparser, both from its reading
``media:description`` (the image caption) as a description: when an entry has a
summary but no content, the caption becomes the content (a reader shows it in
place of the article); and a caption met after the summary replaces the
entry's ``summary_detail`` (rss2email mails it as the whole article). An entry
with a lead image therefore always carries content (in summary mode, the
figure and the summary), and its summary comes after its media elements.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feedpub import layout
from feedpub.content import figure
from feedpub.content import xml_text as clean  # a last guard: parse removes them first
from feedpub.formats import Shared, entries_of, feed_author, forget
from feedpub.group import section_url, topic_url
from feedpub.model import Article, Config, Content, ContentMode, Image, Page, Person

MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
GENERATOR = "feedpub"
GENERATOR_URI = "https://pypi.org/project/feedpub/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How a feed says feedpub wrote it: what `is_ours` looks for.
GENERATOR_MARKERS = (b'<generator uri="https://pypi.org/project/feedpub/">feedpub</generator>',
                     b"<generator>feedpub</generator>")  # fmt: skip

_ATOM_DATES = {"published", "updated"}
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _zulu(element: etree._Element) -> None:
    """Write an Atom date child's ``+00:00`` as ``Z``, the form most readers print."""
    for child in element:
        if child.tag in _ATOM_DATES and child.text and child.text.endswith("+00:00"):
            child.text = child.text[:-6] + "Z"


def is_ours(head: bytes) -> bool:
    """True when an Atom or RSS document's first bytes carry feedpub's generator."""
    return any(marker in head for marker in GENERATOR_MARKERS)


class _FeedExtension(BaseExtension):  # type: ignore[misc]
    """Declares the namespaces; adds the hub and archive links and the archive marker;
    normalises the feed's own dates."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str, str | None]] = []  # rel, href, type
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS, "fh": HISTORY_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        _zulu(feed)
        self._extend(feed, "link", feed.find("title"))
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss.find("channel")
        assert channel is not None
        self._extend(channel, f"{{{ATOM_NS}}}link", channel.find("item"))
        return rss

    def _extend(self, parent: etree._Element, tag: str, before: etree._Element | None) -> None:
        """Add the links and the marker before `before` (the first entry; or at the end)."""
        added = []
        for rel, href, type_ in self.links:
            link = etree.Element(tag, href=href, rel=rel)
            if type_:
                link.set("type", type_)
            added.append(link)
        if self.archive:
            added.append(etree.Element(f"{{{HISTORY_NS}}}archive"))
        for element in added:
            if before is not None:
                before.addprevious(element)
            else:
                parent.append(element)


class _EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Per entry: restores Atom link attributes, sets ``xml:base``, adds Media RSS.

    In RSS, which has no updated date of its own, it adds ``atom:updated``.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.base: str | None = None
        self.image: Image | None = None
        self.updated: datetime | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for data, link in zip(self.links, entry.findall("link"), strict=True):
            for key in ("rel", "type", "length", "title"):
                if key in data:
                    link.set(key, data[key])
        if self.base:
            entry.set(XML_BASE, self.base)
        _zulu(entry)
        self._media(entry)
        _summary_last(entry, "summary")
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.updated is not None:
            updated = etree.SubElement(item, f"{{{ATOM_NS}}}updated")
            updated.text = self.updated.isoformat().replace("+00:00", "Z")
        self._media(item)
        _summary_last(item, "description")
        return item

    def _media(self, parent: etree._Element) -> None:
        image = self.image
        if image is None:
            return
        attributes = {"url": image.url, "medium": "image"}
        if image.type:
            attributes["type"] = image.type
        if image.length is not None:
            attributes["fileSize"] = str(image.length)
        media = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", attributes)
        if image.caption:
            description = etree.SubElement(media, f"{{{MEDIA_NS}}}description", type="plain")
            description.text = clean(image.caption)
        if image.credit:
            credit = etree.SubElement(media, f"{{{MEDIA_NS}}}credit")
            credit.text = clean(image.credit)
        etree.SubElement(parent, f"{{{MEDIA_NS}}}thumbnail", url=image.url)


def _summary_last(entry: etree._Element, tag: str) -> None:
    """Move the entry's summary after its media elements (see the module's note): feedparser
    takes a media:description it meets after the summary for the entry's summary_detail,
    and rss2email mails that; met before, the summary that follows takes its place."""
    summary = entry.find(tag)
    if summary is not None and entry.find(f"{{{MEDIA_NS}}}content") is not None:
        entry.append(summary)


class _Entry(FeedEntry):  # type: ignore[misc]
    """A feed entry built once and placed in every document it belongs to.

    An article appears in the all-articles feed, its section's and each of
    its topics': its element is built on first use and then moved from one
    document to the next (each document is serialised before the next is
    built, so no document loses an entry it still needs).
    """

    def __init__(self) -> None:
        super().__init__()
        self._element: etree._Element | None = None

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        if self._element is None:
            self._element = super().atom_entry(extensions)
        return self._element

    def rss_entry(self, extensions: bool = True) -> etree._Element:
        if self._element is None:
            self._element = super().rss_entry(extensions)
        return self._element


class _Renderer:
    """Renders the documents of one build in one format, each entry built once."""

    rss = False
    media_type = layout.FORMATS["atom"].media_type

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._entries: dict[tuple[str, ContentMode], _Entry] = {}
        name = "rss" if self.rss else "atom"
        self._left = shared.uses.get(name, {})  # counted down here

    def render(self, page: Page) -> bytes:
        """The document of `page`."""
        fg = self._generator(page)
        data = _document(fg.rss_str if self.rss else fg.atom_str)
        forget(self._entries, self._left, page)
        return data

    def _generator(self, page: Page) -> FeedGenerator:
        config = self.shared.config
        site = config.site
        group = page.group
        fg = FeedGenerator()
        fg.register_extension("feedpub", _FeedExtension, _EntryExtension, atom=True, rss=True)
        fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
        fg.id(layout.feed_id(site, group))
        fg.title(clean(layout.title(site, group)))
        fg.subtitle(clean(layout.description(site, group)))
        # The RSS channel <link> is the last link added: self first, the web page last.
        fg.link(href=layout.feed_url(site, page.path), rel="self", type=self.media_type)
        fg.link(href=group.page_url, rel="alternate", type="text/html")
        extension = fg.feedpub
        extension.links = [(rel, layout.feed_url(site, path), self.media_type)
                           for rel, path in page.links]  # fmt: skip
        extension.links += [("hub", hub, None) for hub in config.websub.hubs]
        extension.archive = page.archive
        fg.language(site.language)
        fg.generator(GENERATOR, uri=GENERATOR_URI)
        articles = entries_of(page, self.shared)
        fg.author(_person(feed_author(config, group, articles)))
        if site.rights:
            fg.rights(clean(site.rights))
        if site.icon:
            fg.icon(site.icon)
        if site.logo:
            fg.logo(site.logo)
        newest = max((_utc(article.updated) for article in articles), default=EPOCH)
        fg.updated(newest)
        fg.lastBuildDate(newest)
        for article in articles:
            key = (article.source, page.content)
            entry = self._entries.get(key)
            if entry is None:
                content = self.shared.contents[article.source]
                entry = self._entries[key] = _entry(
                    config, article, content, rss=self.rss, full=page.content is ContentMode.FULL
                )
            fg.add_entry(entry, order="append")
        return fg


class AtomRenderer(_Renderer):
    """Atom 1.0 documents."""


class RssRenderer(_Renderer):
    """RSS 2.0 documents."""

    rss = True
    media_type = layout.FORMATS["rss"].media_type


def _person(person: Person) -> dict[str, str]:
    data = {"name": clean(person.name)}
    if person.email:
        data["email"] = clean(person.email)
    if person.uri:
        data["uri"] = person.uri
    return data


def _entry(config: Config, article: Article, content: Content, *, rss: bool, full: bool) -> _Entry:
    fe = _Entry()
    fe.register_extension("feedpub", _EntryExtension, atom=True, rss=True)
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    fe.id(article.id)
    fe.title(clean(article.title))
    links = [{"href": article.url, "rel": "alternate", "type": "text/html"}]
    image = article.image
    if image is not None and image.type and image.length is not None:
        enclosure = {"href": image.url, "rel": "enclosure", "type": image.type}
        enclosure["length"] = str(image.length)
        if image.caption and not rss:  # readers that merge media by address keep the caption
            enclosure["title"] = clean(image.caption)
        links.append(enclosure)
    for link in links:
        fe.link(**link)
    fe.published(_utc(article.published))
    fe.updated(_utc(article.updated))
    for person in article.authors:
        if rss:
            fe.dc.dc_creator(clean(person.name), replace=False)
        else:
            fe.author(_person(person))
    fe.category(term=clean(article.section), scheme=section_url(config.site, article.section))
    for topic in article.topics:
        fe.category(term=clean(topic), scheme=topic_url(config.site, topic))
    # RSS readers take a description as HTML: escape what HTML would read as
    # markup or as an entity, so the plain-text summary shows as written.
    fe.summary(_as_html(content.summary) if rss else content.summary)
    body = entry_html(article, content, full=full)
    if body is not None:
        fe.content(body, type="html")
    extension = fe.feedpub
    extension.links = links
    extension.base = article.url
    extension.image = image
    extension.updated = _utc(article.updated)
    return fe


def entry_html(article: Article, content: Content, *, full: bool) -> str | None:
    """An entry's HTML content: the article's, or in summary mode none, but for an article
    with a lead image, whose figure and summary are its content (see the module's note)."""
    if full and content.html is not None:
        return content.html
    if article.image is None:
        return None
    return clean(figure(article)) + f"<p>{html.escape(content.summary, quote=False)}</p>"


def _as_html(text: str) -> str:
    return _ENTITY_LIKE.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _document(render: Callable[..., bytes]) -> bytes:
    data = render(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data if data.endswith(b"\n") else data + b"\n"
