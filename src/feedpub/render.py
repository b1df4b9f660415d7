"""A group → its Atom document and its RSS document, as bytes.

The only module that imports feedgen. feedgen 1.0.0 has traps, each worked
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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .content import xml_text as clean  # a last guard: parse removes them first
from .group import feed_id, topic_url
from .model import Article, Config, Content, Group, GroupKind, Image, Person
from .urls import quote_iri

MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
GENERATOR = "feedpub"
GENERATOR_URI = "https://pypi.org/project/feedpub/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"

_ATOM_DATES = {"published", "updated"}
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _zulu(element: etree._Element) -> None:
    """Write an Atom date child's ``+00:00`` as ``Z``, the form most readers print."""
    for child in element:
        if child.tag in _ATOM_DATES and child.text and child.text.endswith("+00:00"):
            child.text = child.text[:-6] + "Z"


class _FeedExtension(BaseExtension):  # type: ignore[misc]
    """Declares the Media RSS namespace and normalises the feed's own dates."""

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        _zulu(feed)
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        return rss


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
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.updated is not None:
            updated = etree.SubElement(item, f"{{{ATOM_NS}}}updated")
            updated.text = self.updated.isoformat().replace("+00:00", "Z")
        self._media(item)
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


def feed_title(config: Config, group: Group) -> str:
    """ "<site>" for all articles, "<site>: <section or topic>" for the others."""
    site = config.site.title
    return site if group.kind is GroupKind.ALL else f"{site}: {group.name}"


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


class Renderer:
    """Renders the documents of one build, each article's entry built once per format."""

    def __init__(
        self, config: Config, contents: Mapping[str, Content], articles: Mapping[str, Article]
    ) -> None:
        self.config = config
        self.contents = contents
        self.articles = articles
        self._entries: dict[tuple[str, bool], _Entry] = {}

    def atom(self, group: Group) -> bytes:
        """The Atom 1.0 document of `group`."""
        return _document(self._generator(group, rss=False).atom_str)

    def rss(self, group: Group) -> bytes:
        """The RSS 2.0 document of `group`."""
        return _document(self._generator(group, rss=True).rss_str)

    def _generator(self, group: Group, *, rss: bool) -> FeedGenerator:
        config = self.config
        site = config.site
        fg = FeedGenerator()
        fg.register_extension("feedpub", _FeedExtension, _EntryExtension, atom=True, rss=True)
        fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
        fg.id(feed_id(site, group))
        fg.title(clean(feed_title(config, group)))
        description = site.description or feed_title(config, group)
        if group.kind is not GroupKind.ALL:
            kind = "section" if group.kind is GroupKind.SECTION else "topic"
            description = f"{site.title}: articles in the {kind} {group.name}"
        fg.subtitle(clean(description))
        # The RSS channel <link> is the last link added: self first, the web page last.
        self_path, self_type = (group.rss_path, RSS_TYPE) if rss else (group.atom_path, ATOM_TYPE)
        fg.link(href=quote_iri(site.feeds_url + self_path), rel="self", type=self_type)
        fg.link(href=group.page_url, rel="alternate", type="text/html")
        fg.language(site.language)
        fg.generator(GENERATOR, uri=GENERATOR_URI)
        fg.author(_person(site.author))
        if site.rights:
            fg.rights(clean(site.rights))
        if site.icon:
            fg.icon(site.icon)
        if site.logo:
            fg.logo(site.logo)
        # An entry whose file vanished between loading and rendering has no article here.
        articles = [self.articles[e.source] for e in group.entries if e.source in self.articles]
        newest = max((_utc(article.updated) for article in articles), default=EPOCH)
        fg.updated(newest)
        fg.lastBuildDate(newest)
        for article in articles:
            key = (article.source, rss)
            entry = self._entries.get(key)
            if entry is None:
                content = self.contents[article.source]
                entry = self._entries[key] = _entry(config, article, content, rss=rss)
            fg.add_entry(entry, order="append")
        return fg


def _person(person: Person) -> dict[str, str]:
    data = {"name": clean(person.name)}
    if person.email:
        data["email"] = clean(person.email)
    if person.uri:
        data["uri"] = person.uri
    return data


def _entry(config: Config, article: Article, content: Content, *, rss: bool) -> _Entry:
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
    for topic in article.topics:
        fe.category(term=clean(topic), scheme=topic_url(config.site, topic))
    # RSS readers take a description as HTML: escape what HTML would read as
    # markup or as an entity, so the plain-text summary shows as written.
    fe.summary(_as_html(content.summary) if rss else content.summary)
    if content.html is not None:
        fe.content(content.html, type="html")
    extension = fe.feedpub
    extension.links = links
    extension.base = article.url
    extension.image = image
    extension.updated = _utc(article.updated)
    return fe


def _as_html(text: str) -> str:
    return _ENTITY_LIKE.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _document(render: Callable[..., bytes]) -> bytes:
    data = render(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data if data.endswith(b"\n") else data + b"\n"


def render_atom(config: Config, group: Group, contents: Mapping[str, Content]) -> bytes:
    """The Atom 1.0 document of a group of whole articles; `contents` by source."""
    return Renderer(config, contents, _articles(group)).atom(group)


def render_rss(config: Config, group: Group, contents: Mapping[str, Content]) -> bytes:
    """The RSS 2.0 document of a group of whole articles."""
    return Renderer(config, contents, _articles(group)).rss(group)


def _articles(group: Group) -> dict[str, Article]:
    return {entry.source: entry for entry in group.entries if isinstance(entry, Article)}
