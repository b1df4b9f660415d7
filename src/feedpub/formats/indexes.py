"""The two documents that list every feed: ``index.opml`` (OPML 2.0, for feed readers to
import) and ``index.html`` (a page a person can read).

Both list the feeds in the same order and groups: the all-articles feed, then
the sections, topics, authors and sections × topics. Neither depends on the
clock: a feed's "last update" is its newest entry's, as in the feeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape

from .. import layout
from ..content import xml_text as clean
from ..model import Group, GroupKind, Page
from . import Shared
from .xml import _DAYS, _DECLARATION, _MONTHS, _attribute, _text

MARKER = "generator: feedpub"  # a comment in both documents: how a sweep knows them
HEADINGS = {
    GroupKind.SECTION: "Sections",
    GroupKind.TOPIC: "Topics",
    GroupKind.AUTHOR: "Authors",
    GroupKind.SECTION_TOPIC: "Sections and topics",
}
_READER_ORDER = ("rss", "atom", "json")  # the document an OPML outline names (type="rss")


def is_ours(head: bytes) -> bool:
    """True when an index document's first bytes say feedpub wrote it."""
    return MARKER.encode() in head


def _kinds(groups: tuple[Group, ...]) -> Iterator[tuple[str | None, list[Group]]]:
    """The groups as both indexes list them: the all-articles feed, then one list per kind."""
    alls = [group for group in groups if group.kind is GroupKind.ALL]
    if alls:
        yield None, alls
    for kind, heading in HEADINGS.items():
        members = [group for group in groups if group.kind is kind]
        if members:
            yield heading, members


class _Index:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def updated(self, group: Group) -> datetime | None:
        articles = self.shared.articles
        found = [articles[e.source].updated for e in group.entries if e.source in articles]
        return max(found).astimezone(UTC) if found else None


class OpmlRenderer(_Index):
    """OPML 2.0: each feed once, as an outline with text, title, type, xmlUrl and htmlUrl."""

    def render(self, page: Page) -> bytes:
        site = self.shared.config.site
        formats = self.shared.config.feeds.formats
        chosen = next(name for name in (*_READER_ORDER, *formats) if name in formats)
        head = [f"    <title>{_text(clean(f'{site.title}: feeds'))}</title>\n"]
        newest = [moment for group in self.shared.groups if (moment := self.updated(group))]
        if newest:
            head.append(f"    <dateModified>{_gmt(max(newest))}</dateModified>\n")
        if site.author.name:
            head.append(f"    <ownerName>{_text(clean(site.author.name))}</ownerName>\n")
        head.append("    <docs>http://opml.org/spec2.opml</docs>\n")
        body = []
        for heading, groups in _kinds(self.shared.groups):
            indent = "    "
            if heading is not None:
                named = _attribute(heading)
                body.append(f'    <outline text="{named}" title="{named}">\n')
                indent = "      "
            for group in groups:
                title = _attribute(clean(layout.title(site, group)))
                address = layout.feed_url(site, layout.document_path(group, chosen))
                body.append(f'{indent}<outline text="{title}" title="{title}" type="rss" '
                            f'xmlUrl="{_attribute(address)}" '
                            f'htmlUrl="{_attribute(group.page_url)}"/>\n')  # fmt: skip
            if heading is not None:
                body.append("    </outline>\n")
        # As lxml's pretty printer wrote it, with the marker after the declaration.
        parts = [_DECLARATION, f"<!-- {MARKER} -->\n", '<opml version="2.0">\n',
                 "  <head>\n", *head, "  </head>\n",
                 *(("  <body>\n", *body, "  </body>\n") if body else ("  <body/>\n",)),
                 "</opml>\n"]  # fmt: skip
        return "".join(parts).encode()


def _gmt(moment: datetime) -> str:
    """An RFC 822 date in UTC, as ``email.utils.format_datetime(usegmt=True)`` writes it."""
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 46rem; padding: 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
ul { list-style: none; padding: 0; } li { border-top: 1px solid #ddd; padding: .6rem 0; }
.name { font-weight: 600; } .meta { color: #555; font-size: .9rem; }
a.format { display: inline-block; margin-right: .6rem; padding: .1rem .5rem;
  border: 1px solid #bbb; border-radius: .3rem; text-decoration: none; }
"""


class HtmlRenderer(_Index):
    """A page listing every feed with its article count, last update and a link per format;
    `<link rel="alternate">` for the all-articles and section feeds; no script."""

    def render(self, page: Page) -> bytes:
        config = self.shared.config
        site = config.site
        formats = config.feeds.formats
        out = [
            "<!DOCTYPE html>",
            f"<!-- {MARKER} -->",
            f'<html lang="{escape(site.language)}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="feedpub">',
            f"<title>{escape(clean(site.title))}: feeds</title>",
        ]
        for group in self.shared.groups:
            if group.kind in (GroupKind.ALL, GroupKind.SECTION):
                title = escape(clean(layout.title(site, group)))
                for name in formats:
                    href = layout.feed_url(site, layout.document_path(group, name))
                    kind = layout.FORMATS[name].media_type
                    out.append(f'<link rel="alternate" type="{kind}" title="{title}" '
                               f'href="{escape(href)}">')  # fmt: skip
        out += [f"<style>{_STYLE}</style>", "</head>", "<body>",
                f"<h1>{escape(clean(site.title))}: feeds</h1>",
                '<p>Subscribe in a feed reader, or import <a href="index.opml">every feed at '
                "once (OPML)</a>.</p>"]  # fmt: skip
        for heading, groups in _kinds(self.shared.groups):
            if heading is not None:
                out.append(f"<h2>{escape(heading)}</h2>")
            out.append("<ul>")
            for group in groups:
                out.append(self._item(group))
            out.append("</ul>")
        out += ["</body>", "</html>", ""]
        return "\n".join(out).encode()

    def _item(self, group: Group) -> str:
        name = escape(clean(group.name if group.kind is not GroupKind.ALL else "All articles"))
        count = f"{group.total} article{'s' if group.total != 1 else ''}"
        updated = self.updated(group)
        when = (f'<time datetime="{updated.isoformat().replace("+00:00", "Z")}">'
                f"{updated:%Y-%m-%d %H:%M} UTC</time>") if updated else "never"  # fmt: skip
        links = " ".join(
            f'<a class="format" href="{escape(layout.document_path(group, fmt))}" '
            f'type="{layout.FORMATS[fmt].media_type}">{fmt.upper() if fmt != "json" else "JSON"}'
            "</a>"
            for fmt in self.shared.config.feeds.formats
        )
        page = escape(group.page_url)
        return (f'<li><a class="name" href="{page}">{name}</a>'
                f'<div class="meta">{count} · last update {when}</div>'
                f"<div>{links}</div></li>")  # fmt: skip
