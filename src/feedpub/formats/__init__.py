"""The document formats, each a module behind one small interface.

A format module provides a class built once per build from a :class:`Shared`
(the configuration, and every entry's article and content) whose
``render(page)`` returns one document's bytes, and a function ``is_ours(head)``
that tells from a file's first bytes whether feedpub wrote it. Adding a format
is a module here and a line in :data:`feedpub.layout.FORMATS`.

Which documents exist, and where, is :mod:`feedpub.layout`'s business.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..model import Article, Config, Content, ContentMode, Group, GroupKind, Page, Person


@dataclass(frozen=True, slots=True)
class Shared:
    """What every document of one build is rendered from besides its page."""

    config: Config
    contents: Mapping[str, Content]  # by source
    articles: Mapping[str, Article]  # every entry's whole article, by source
    groups: tuple[Group, ...] = ()  # every feed, for the documents that list them
    # How many of the pages to render hold each entry, by format, then by content mode and
    # source: a renderer forgets an entry it has built once its last page is rendered, so that
    # a large archive's entries are never all in memory at once. Each format's counts are its
    # renderer's to count down (see uses_of).
    uses: Mapping[str, Uses] = field(default_factory=dict)


Uses = dict[ContentMode, dict[str, int]]  # one format's counts (see Shared.uses)


def uses_of(pages: Iterable[Page]) -> dict[str, Uses]:
    """How many of `pages` hold each entry, in each format and content mode: made afresh
    for each set of renderers (each counts its own format's down). Keyed by source within
    each content mode, not by pairs: at 300,000 articles the pairs were 34 MB of tuples."""
    by_kind: dict[tuple[str, ContentMode], list[Page]] = {}
    for page in pages:
        by_kind.setdefault((page.format, page.content), []).append(page)
    uses: dict[str, Uses] = {}
    for (name, mode), chosen in by_kind.items():
        uses.setdefault(name, {})[mode] = Counter(e.source for page in chosen for e in page.entries)
    return uses


class Renderer(Protocol):
    def render(self, page: Page) -> bytes: ...


class Splicer(Renderer, Protocol):
    def splice(self, page: Page, last: bytes, fresh: AbstractSet[str]) -> bytes | None: ...


SPLICED = ("atom", "rss")  # the formats whose renderers are Splicers


def can_splice(page: Page) -> bool:
    """An archive page that can be made from its last document with a few entries written
    anew (see Splicer, feedpub.incremental.Rules.spliceable): an Atom or RSS page of a group
    whose head does not name its entries' authors (an author's group's does)."""
    return page.archive and page.format in SPLICED and page.group.kind is not GroupKind.AUTHOR


def renderers(shared: Shared) -> dict[str, Renderer]:
    """A renderer for each configured format and for the indexes, sharing what entries
    they build."""
    from . import indexes, jsonfeed, xml

    made: dict[str, Callable[[Shared], Renderer]] = {
        "atom": xml.AtomRenderer,
        "rss": xml.RssRenderer,
        "json": jsonfeed.JsonRenderer,
    }
    found = {name: made[name](shared) for name in shared.config.feeds.formats}
    found["opml"] = indexes.OpmlRenderer(shared)
    found["html"] = indexes.HtmlRenderer(shared)
    return found


def is_ours(format_name: str, head: bytes) -> bool:
    """True when a document's first bytes say feedpub wrote it."""
    from . import indexes, jsonfeed, xml

    tests = {"json": jsonfeed.is_ours, "opml": indexes.is_ours, "html": indexes.is_ours}
    return tests.get(format_name, xml.is_ours)(head)


def entries_of(page: Page, shared: Shared) -> list[Article]:
    """The whole articles of a page's entries (one whose file vanished since it was listed
    is left out)."""
    return [shared.articles[e.source] for e in page.entries if e.source in shared.articles]


def render_group(
    config: Config, group: Group, format_name: str, contents: Mapping[str, Content]
) -> bytes:
    """One group's feed in one format, from a group whose entries are whole articles."""
    from ..layout import document_path

    articles = {e.source: e for e in group.entries if isinstance(e, Article)}
    shared = Shared(config, contents, articles)
    page = Page(group, format_name, document_path(group, format_name), group.entries,
                config.feeds.content)  # fmt: skip
    return renderers(replace(shared, config=_with_format(config, format_name)))[format_name].render(
        page
    )


def _with_format(config: Config, format_name: str) -> Config:
    return replace(config, feeds=replace(config.feeds, formats=(format_name,)))


def forget(built: dict[tuple[str, ContentMode], Any], left: Uses, page: Page) -> None:
    """Count a rendered page's entries off `left`; forget those built that no page needs again."""
    counts = left.get(page.content)
    if counts is None:
        return  # not counted (a renderer used on its own): kept
    for entry in page.entries:
        source = entry.source
        count = counts.get(source)
        if count is None:
            continue
        if count <= 1:
            del counts[source]
            built.pop((source, page.content), None)
        else:
            counts[source] = count - 1


def feed_author(config: Config, group: Group, articles: list[Article]) -> Person:
    """A feed's author: the site's; for an author's feed, that person as their articles name
    them (with the e-mail address and web page they give)."""
    from ..names import slugify

    if group.kind is not GroupKind.AUTHOR:
        return config.site.author
    for article in articles:
        for person in article.authors:
            if slugify(person.name) == group.slug:
                return person
    return Person(group.name)
