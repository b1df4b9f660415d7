"""Atom 1.0 and RSS 2.0 documents, as bytes, written from templates.

Each entry is written once per format and content mode, as text at the depth
it has in every document, and spliced into each page that holds it: an
article appears in the all-articles feed, its section's, its topics' and
their archive pages, so a cold build of a large archive writes each entry's
XML once rather than once a document.

The layout is that of the feedgen 1.0.0 documents the project published
before (``tests/feedgen_reference.py`` keeps that renderer, and a test holds
the two byte-identical), with the traps of feedgen avoided as it avoided them
(``tests/test_feedgen_traps.py``):

- Atom entry links carry ``rel``, ``type`` and ``length``; entries keep their
  order; the RSS channel ``<link>`` is the web page; content is
  ``type="html"``; an enclosure is written only when its type and length are
  known; RSS names every author as a ``dc:creator`` (RSS ``<author>`` must be
  an e-mail address); every date and the generator are explicit; characters
  XML forbids are removed from every text; the hub and archive links are
  written in both formats.

And two traps of the readers built on feedparser, both from its reading
``media:description`` (the image caption) as a description: when an entry has a
summary but no content, the caption becomes the content (a reader shows it in
place of the article); and a caption met after the summary replaces the
entry's ``summary_detail`` (rss2email mails it as the whole article). An entry
with a lead image therefore always carries content (in summary mode, the
figure and the summary), and its summary comes after its media elements.

Escaping follows libxml2's serialiser: ``&``, ``<`` and ``>`` in text (and a
carriage return as ``&#13;``); in attributes also ``"``, tab and line feed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from itertools import repeat

from .. import layout
from ..content import figure
from ..content import xml_text as clean  # a last guard: parse removes them first
from ..group import section_url, topic_url
from ..model import Article, Content, ContentMode, Image, Page, Person
from . import Shared, entries_of, feed_author, forget

MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
GENERATOR = "feedpub"
GENERATOR_URI = "https://pypi.org/project/feedpub/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How a feed says feedpub wrote it: what `is_ours` looks for.
GENERATOR_MARKERS = (b'<generator uri="https://pypi.org/project/feedpub/">feedpub</generator>',
                     b"<generator>feedpub</generator>")  # fmt: skip
RSS_DOCS = "http://www.rssboard.org/rss-specification"

_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_ATOM_ROOT = f'<feed xmlns:media="{MEDIA_NS}" xmlns:fh="{HISTORY_NS}" xmlns="{ATOM_NS}"'
_RSS_ROOT = (
    f'<rss xmlns:media="{MEDIA_NS}" xmlns:fh="{HISTORY_NS}" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    f'xmlns:atom="{ATOM_NS}" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'version="2.0">\n  <channel>\n'
)
_ISO_DATE = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")  # iso_date's
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")  # fmt: skip


def is_ours(head: bytes) -> bool:
    """True when an Atom or RSS document's first bytes carry feedpub's generator."""
    return any(marker in head for marker in GENERATOR_MARKERS)


def _text(value: str) -> str:
    """`value` as XML character data."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def _attribute(value: str) -> str:
    """`value` as the text of a double-quoted XML attribute."""
    value = _text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\t" in value:
        value = value.replace("\t", "&#9;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    return value


def _element(indent: str, tag: str, text: str) -> str:
    return f"{indent}<{tag}>{_text(text)}</{tag}>\n"


def _link(indent: str, tag: str, attributes: list[tuple[str, str]]) -> str:
    written = " ".join(f'{name}="{_attribute(value)}"' for name, value in attributes)
    return f"{indent}<{tag} {written}/>\n"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def iso_date(moment: datetime) -> str:
    """An Atom (and JSON Feed) date, in UTC, to the second, written with ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"


def _rfc822(moment: datetime) -> str:
    """An RSS date, in UTC, as the C locale's ``%a, %d %b %Y %H:%M:%S %z`` writes it."""
    m = _utc(moment)
    return (f"{_DAYS[m.weekday()]}, {m.day:02d} {_MONTHS[m.month]} {m.year} "
            f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} +0000")  # fmt: skip


def _newest(articles: list[Article]) -> datetime:
    """The latest update of `articles`, in UTC (compared as instants, converted once)."""
    return _utc(max((article.updated for article in articles), default=EPOCH))


def _person(indent: str, person: Person) -> str:
    """An Atom person construct; nothing for a person without a name."""
    name = clean(person.name)
    if not name:
        return ""
    inner = indent + "  "
    parts = [f"{indent}<author>\n", _element(inner, "name", name)]
    email = clean(person.email) if person.email else ""
    if email:
        parts.append(_element(inner, "email", email))
    if person.uri:
        parts.append(_element(inner, "uri", person.uri))
    parts.append(f"{indent}</author>\n")
    return "".join(parts)


def _media(indent: str, image: Image | None) -> str:
    """The Media RSS elements of an entry's lead image."""
    if image is None:
        return ""
    attributes = [("url", image.url), ("medium", "image")]
    if image.type:
        attributes.append(("type", image.type))
    if image.length is not None:
        attributes.append(("fileSize", str(image.length)))
    children = []
    inner = indent + "  "
    if image.caption:
        description = _text(clean(image.caption))
        children.append(f'{inner}<media:description type="plain">{description}'
                        "</media:description>\n")  # fmt: skip
    if image.credit:
        children.append(_element(inner, "media:credit", clean(image.credit)))
    content = _link(indent, "media:content", attributes)
    if children:
        content = content[:-3] + ">\n" + "".join(children) + f"{indent}</media:content>\n"
    return content + _link(indent, "media:thumbnail", [("url", image.url)])


def _enclosure(article: Article) -> Image | None:
    """The lead image, when it can be an enclosure (its type and length known)."""
    image = article.image
    return image if image is not None and image.type and image.length is not None else None


class _Renderer:
    """Renders the documents of one build in one format, each entry written once."""

    rss = False
    media_type = layout.FORMATS["atom"].media_type

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._entries: dict[tuple[str, ContentMode], bytes] = {}  # encoded once, joined as is
        self._categories: dict[tuple[bool, str], str] = {}  # (topic?, name) → its category
        self._people: dict[Person, str] = {}  # an entry's author → its element
        name = "rss" if self.rss else "atom"
        self._left = shared.uses.get(name, {})  # counted down here

    # How the documents are laid out, as splice reads them: an entry's first and last
    # bytes, its date's start tag, and the document's end.
    _opening, _closing = b"  <entry ", b"  </entry>\n"
    _updated = b"\n    <updated>"
    _tail = b"</feed>\n"

    def render(self, page: Page) -> bytes:
        """The document of `page`."""
        articles = entries_of(page, self.shared)
        parts = [self._head(page, _newest(articles), articles).encode()]
        parts += map(self._written, articles, repeat(page.content))
        parts.append(self._tail)
        forget(self._entries, self._left, page)
        return b"".join(parts)  # the document's one copy

    def splice(self, page: Page, last: bytes, fresh: AbstractSet[str]) -> bytes | None:
        """The document of `page` made from `last`, the document the last build rendered
        from the same entries (see feedpub.incremental.Rules.spliceable): the entries of
        the articles in `fresh` written anew, the others as `last` holds them, and the
        head written anew (its date is the newest entry's). None when `last` is not laid
        out as this renderer writes documents, or an entry to write has no article."""
        tail = self._tail
        start = last.find(b"\n" + self._opening) + 1
        if not start or not last.endswith(tail):
            return None
        blocks = last[start : len(last) - len(tail)].split(self._closing)
        if len(blocks) != len(page.entries) + 1 or blocks[-1]:
            return None
        made = self._spliced(page, blocks, fresh)
        if made is None:
            return None
        parts, newest = made
        forget(self._entries, self._left, page)
        return b"".join((self._head(page, newest, []).encode(), *parts, tail))

    def _spliced(
        self, page: Page, blocks: list[bytes], fresh: AbstractSet[str]
    ) -> tuple[list[bytes], datetime] | None:
        """The entries of `page`, and the latest of their updates: each from its element in
        the last document (`blocks`: the document's entries split at their end tags, which
        each block lacks), but those of the articles in `fresh`, written anew."""
        opening, closing, updated = self._opening, self._closing, self._updated
        articles = self.shared.articles
        parts: list[bytes] = []
        newest = b""
        for entry, block in zip(page.entries, blocks, strict=False):  # the last block is b""
            if not block.startswith(opening):
                return None
            source = entry.source
            if source in fresh:
                if source not in articles:
                    return None
                article = articles[source]
                parts.append(self._written(article, page.content))
                date = iso_date(article.updated).encode()
            else:
                at = block.find(updated) + len(updated)
                date = block[at : block.find(b"<", at)] if at >= len(updated) else b""
                parts += (block, closing)
            newest = max(newest, date)
        # Dates written alike (iso_date's) compare as their instants: only the latest is read.
        if not newest:
            return parts, EPOCH
        if _ISO_DATE.fullmatch(newest) is None:
            return None
        try:
            return parts, datetime.fromisoformat(newest.decode())
        except ValueError:  # a day or an hour that does not exist
            return None

    def _written(self, article: Article, mode: ContentMode) -> bytes:
        """An entry as written, once a build for each article and content mode."""
        key = (article.source, mode)
        entry = self._entries.get(key)
        if entry is None:
            content = self.shared.contents[article.source]
            entry = self._entries[key] = self._entry(
                article, content, full=mode is ContentMode.FULL
            ).encode()
        return entry

    def _extra_links(self, page: Page, indent: str, tag: str) -> str:
        """The archive and hub links, and the archive marker."""
        site = self.shared.config.site
        parts = [
            _link(indent, tag, [("href", layout.feed_url(site, path)), ("rel", rel),
                                ("type", self.media_type)])
            for rel, path in page.links
        ]  # fmt: skip
        parts += [_link(indent, tag, [("href", hub), ("rel", "hub")])
                  for hub in self.shared.config.websub.hubs]  # fmt: skip
        if page.archive:
            parts.append(f"{indent}<fh:archive/>\n")
        return "".join(parts)

    def _categories_of(self, article: Article) -> str:
        """An entry's categories, its section first (scheme: its web page); each name's is
        written once a build."""
        made = self._categories
        parts = []
        for key in [(False, article.section), *((True, topic) for topic in article.topics)]:
            category = made.get(key)
            if category is None:
                site = self.shared.config.site
                topic, name = key
                scheme = topic_url(site, name) if topic else section_url(site, name)
                category = made[key] = self._category(clean(name), scheme)
            parts.append(category)
        return "".join(parts)

    def _category(self, term: str, scheme: str) -> str:
        raise NotImplementedError

    def _head(self, page: Page, newest: datetime, articles: list[Article]) -> str:
        """The document up to its first entry; `newest`: the entries' latest update."""
        raise NotImplementedError

    def _entry(self, article: Article, content: Content, *, full: bool) -> str:
        raise NotImplementedError


class AtomRenderer(_Renderer):
    """Atom 1.0 documents."""

    def _category(self, term: str, scheme: str) -> str:
        return _link("    ", "category", [("term", term), ("scheme", scheme)])

    def _head(self, page: Page, newest: datetime, articles: list[Article]) -> str:
        config = self.shared.config
        site = config.site
        group = page.group
        i = "  "
        language = f' xml:lang="{_attribute(site.language)}"' if site.language else ""
        parts = [
            _DECLARATION, _ATOM_ROOT, language, ">\n",
            _element(i, "id", layout.feed_id(site, group)),
            self._extra_links(page, i, "link"),
            _element(i, "title", clean(layout.title(site, group))),
            _element(i, "updated", iso_date(newest)),
            _person(i, feed_author(config, group, articles)),
            _link(i, "link", [("href", layout.feed_url(site, page.path)), ("rel", "self"),
                              ("type", self.media_type)]),
            _link(i, "link", [("href", group.page_url), ("rel", "alternate"),
                              ("type", "text/html")]),
            f'{i}<generator uri="{GENERATOR_URI}">{GENERATOR}</generator>\n',
        ]  # fmt: skip
        if site.icon:
            parts.append(_element(i, "icon", site.icon))
        if site.logo:
            parts.append(_element(i, "logo", site.logo))
        rights = clean(site.rights) if site.rights else ""
        if rights:
            parts.append(_element(i, "rights", rights))
        subtitle = clean(layout.description(site, group))
        if subtitle:
            parts.append(_element(i, "subtitle", subtitle))
        return "".join(parts)

    def _entry(self, article: Article, content: Content, *, full: bool) -> str:
        i = "    "
        url = _attribute(article.url)
        updated = iso_date(article.updated)
        parts = [
            f'  <entry xml:base="{url}">\n{i}<id>{_text(article.id)}</id>\n'
            f"{i}<title>{_text(clean(article.title))}</title>\n"
            f"{i}<updated>{updated}</updated>\n",
            *map(self._author, article.authors),
        ]
        body = entry_html(article, content, full=full)
        if body is not None:
            parts.append(f'{i}<content type="html">{_text(body)}</content>\n' if body
                         else f'{i}<content type="html"/>\n')  # fmt: skip
        parts.append(f'{i}<link href="{url}" rel="alternate" type="text/html"/>\n')
        image = _enclosure(article)
        if image is not None:
            attributes = [("href", image.url), ("rel", "enclosure"), ("type", image.type or ""),
                          ("length", str(image.length))]  # fmt: skip
            if image.caption:  # readers that merge media by address keep the caption
                attributes.append(("title", clean(image.caption)))
            parts.append(_link(i, "link", attributes))
        summary = (f"{i}<summary>{_text(content.summary)}</summary>\n" if content.summary
                   else f"{i}<summary/>\n")  # fmt: skip
        media = _media(i, article.image)
        if not media:
            parts.append(summary)
        parts.append(self._categories_of(article))
        # One instant, one date (most articles were never updated): written once.
        published = updated if article.published == article.updated \
            else iso_date(article.published)  # fmt: skip
        parts.append(f"{i}<published>{published}</published>\n")
        if media:
            parts += [media, summary]
        parts.append("  </entry>\n")
        return "".join(parts)

    def _author(self, person: Person) -> str:
        """An entry's author, written once a build for each person."""
        written = self._people.get(person)
        if written is None:
            written = self._people[person] = _person("    ", person)
        return written


class RssRenderer(_Renderer):
    """RSS 2.0 documents."""

    rss = True
    media_type = layout.FORMATS["rss"].media_type
    _opening, _closing = b"    <item>\n", b"    </item>\n"
    _updated = b"<atom:updated>"
    _tail = b"  </channel>\n</rss>\n"

    def _category(self, term: str, scheme: str) -> str:
        return f'      <category domain="{_attribute(scheme)}">{_text(term)}</category>\n'

    def _author(self, person: Person) -> str:
        """An item's author (RSS has no place for a name but Dublin Core's), once a build."""
        written = self._people.get(person)
        if written is None:
            written = self._people[person] = _element("      ", "dc:creator", clean(person.name))
        return written

    def _head(self, page: Page, newest: datetime, articles: list[Article]) -> str:
        site = self.shared.config.site
        group = page.group
        i = "    "
        title = clean(layout.title(site, group))
        parts = [
            _DECLARATION, _RSS_ROOT,
            _element(i, "title", title),
            _element(i, "link", group.page_url),
            _element(i, "description", clean(layout.description(site, group))),
            _link(i, "atom:link", [("href", layout.feed_url(site, page.path)), ("rel", "self"),
                                   ("type", self.media_type)]),
        ]  # fmt: skip
        rights = clean(site.rights) if site.rights else ""
        if rights:
            parts.append(_element(i, "copyright", rights))
        parts += [_element(i, "docs", RSS_DOCS), _element(i, "generator", GENERATOR)]
        if site.logo:
            inner = i + "  "
            parts += [f"{i}<image>\n", _element(inner, "url", site.logo),
                      _element(inner, "title", title), _element(inner, "link", group.page_url),
                      f"{i}</image>\n"]  # fmt: skip
        if site.language:
            parts.append(_element(i, "language", site.language))
        parts.append(_element(i, "lastBuildDate", _rfc822(newest)))
        parts.append(self._extra_links(page, i, "atom:link"))
        return "".join(parts)

    def _entry(self, article: Article, content: Content, *, full: bool) -> str:
        i = "      "
        title = clean(article.title)
        parts = [
            f"    <item>\n{i}<title>{_text(title)}</title>\n" if title else "    <item>\n",
            f"{i}<link>{_text(article.url)}</link>\n",
        ]
        # RSS readers take a description as HTML: escape what HTML would read as
        # markup or as an entity, so the plain-text summary shows as written.
        summary = _as_html(content.summary)
        body = entry_html(article, content, full=full)
        description = encoded = ""
        if summary:
            description = _element(i, "description", summary)
            if body is not None:
                encoded = _element(i, "content:encoded", body)
        elif body is not None:
            description = _element(i, "description", body)
        media = _media(i, article.image)
        parts += [encoded] if media else [description, encoded]
        parts.append(f'{i}<guid isPermaLink="false">{_text(article.id)}</guid>\n')
        parts.append(self._categories_of(article))
        image = _enclosure(article)
        if image is not None:
            parts.append(_link(i, "enclosure", [("url", image.url), ("length", str(image.length)),
                                                ("type", image.type or "")]))  # fmt: skip
        parts.append(f"{i}<pubDate>{_rfc822(article.published)}</pubDate>\n"
                     f"{i}<atom:updated>{iso_date(article.updated)}</atom:updated>\n")  # fmt: skip
        if media:
            parts += [media, description]
        parts += map(self._author, article.authors)
        parts.append("    </item>\n")
        return "".join(parts)


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
