"""The articles folder as the build sees it: listings, whole articles and their content.

The build asks; :class:`Source` decides where each answer comes from: the
parse cache, the last build's state (the whole articles of its entries and
their rendered content), or the file itself. The build never reads a file,
and never knows which of them answered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from .cards import Cards
from .load import (
    Loaded,
    Progress,
    Scan,
    forking,
    load_articles,
    read_articles,
    read_bodies,
    scan,
    take_chunk,
)
from .model import Article, Config, Content, ContentMode, Listed, Page
from .state import Cached, Card, File, Rendered, State, article_from, unpack_card


class Source:
    """The articles under one folder, for one build."""

    def __init__(
        self, root: Path, config: Config, previous: State, *, trusted: bool, now: datetime,
        jobs: int = 1, progress: Progress | None = None, cards: Cards | None = None,
    ) -> None:  # fmt: skip
        self.now = now  # expiry dates are judged against it
        self.root = root
        self.config = config
        self.previous = previous
        self.trusted = trusted
        self.jobs = jobs
        self.progress = progress
        archives = config.archives
        # Archive pages in summary mode are made from each article's card (state.Card).
        self.cards = archives.enabled and archives.content is ContentMode.SUMMARY
        # The cards earlier builds made, for archived articles not parsed this build.
        self.card_log = cards if self.cards else None
        self._summaries: dict[str, tuple[str, str]] = {}  # source → (digest, summary)

    def scan(self) -> Scan:
        """Every article file, with one stat each (see :func:`feedpub.load.scan`: the last
        build's files are checked first, half of them in a second process when there are
        many, and no folder is listed when none of them changed)."""
        previous = self.previous
        if not self.trusted:
            return scan(self.root)
        return scan(self.root, previous.files, previous.folders, helper=self.jobs > 1)

    def listings(self, files: list[File], cache: Mapping[str, Cached]) -> Loaded:
        """Every article's listing: from the cache where its file is unchanged, else parsed."""
        return load_articles(
            self.root, self.config, max_bytes=self.config.build.max_article_bytes, files=files,
            cache=cache, progress=self.progress, jobs=self.jobs, now=self.now, cards=self.cards,
        )  # fmt: skip

    def parsed(self, files: Sequence[File]) -> Loaded:
        """The given files parsed in full, with every problem a full build would report."""
        return load_articles(
            self.root, self.config, max_bytes=self.config.build.max_article_bytes,
            files=list(files), now=self.now,
        )  # fmt: skip

    def whole(self, listed: Mapping[str, Listed]) -> dict[str, Article]:
        """The whole article behind every listing: parsed this build, kept in the state from
        the last one (when its file is unchanged), made from its card, or else read again
        from its file."""
        whole: dict[str, Article] = {}
        wanting: list[Listed] = []
        kept = self.previous.kept
        for source, listing in listed.items():
            last = kept.get(source) if self.trusted else None
            card = getattr(listing, "card", None)
            if isinstance(listing, Article):
                whole[source] = listing
            elif last is not None and last.digest == listing.digest:
                whole[source] = last if last.path == listing.path else replace(
                    last, path=listing.path
                )  # fmt: skip
                if card is not None:
                    self._summaries[source] = (listing.digest, unpack_card(card)[-1])
            elif card is not None:
                whole[source] = self._from_card(listing, card)
            else:
                wanting.append(listing)
        logged = self._logged(wanting)
        for listing in wanting:
            card = logged.get(listing.source)
            if card is not None:
                whole[listing.source] = self._from_card(listing, card)
        again = [listing for listing in wanting if listing.source not in logged]
        whole.update(read_articles(self.root, self.config, again, now=self.now))
        return whole

    def _logged(self, wanting: Sequence[Listed]) -> dict[str, Card]:
        """The cards the log holds of `wanting` (articles with no card, no whole article and no
        last version), when they are many: the log is read whole (0.4 s for 100,000 cards); a
        few articles are read faster from their files (half a millisecond each, their
        summaries included)."""
        log = self.card_log
        if log is None or len(wanting) < max(CARD_LOG_FROM, len(self.previous.files) // 100):
            return {}
        found = {}
        for listing in wanting:
            card = log.get(listing.source, listing.digest)
            if card is not None:
                found[listing.source] = card
        return found

    def archived(
        self, listed: Mapping[str, Listed], kept: Collection[str], *,
        feeds: Mapping[str, Article], shown: Mapping[str, Content],
    ) -> Archived:  # fmt: skip
        """The whole articles and contents of every entry: those of the feeds (`feeds`,
        `shown`) and those only archive pages hold (`listed`). Of these, each article with a
        card is made from it when a page asks for it (see :class:`Archived`); the others are
        made as :meth:`whole` and :meth:`contents` make them."""
        articles, contents, carded = self._archived(listed, kept)
        return Archived(
            {**feeds, **articles}, {**shown, **contents}, carded,
            # Pages rendered whole after all may be rendered in the forked helper, which
            # is a worker and may not start workers of its own.
            more=lambda wanted: self._archived(wanted, kept, jobs=1),
        )  # fmt: skip

    def _archived(
        self, listed: Mapping[str, Listed], kept: Collection[str], *, jobs: int | None = None
    ) -> tuple[dict[str, Article], dict[str, Content], dict[str, tuple[Listed, Card]]]:
        """The articles and contents of `listed` (see :meth:`archived`), and their cards;
        their contents rendered over `jobs` processes (by default, the source's)."""
        carded: dict[str, tuple[Listed, Card]] = {}
        others: dict[str, Listed] = {}
        wanting: list[str] = []  # those with no card, no article and no last version
        last_kept = self.previous.kept if self.trusted else {}
        for source, listing in listed.items():
            card = getattr(listing, "card", None) if self.cards else None
            last = last_kept.get(source)
            if isinstance(listing, Article) or source in kept or (
                last is not None and last.digest == listing.digest
            ):  # fmt: skip
                others[source] = listing
            elif card is not None:
                carded[source] = (listing, card)
            else:
                others[source] = listing
                wanting.append(source)
        for source, card in self._logged([others[source] for source in wanting]).items():
            carded[source] = (others.pop(source), card)
        whole = self.whole(others)
        contents = self.contents(whole, kept, archived=True, jobs=jobs)
        return whole, {key: item.content for key, item in contents.items()}, carded

    def _from_card(self, listing: Listed, card: Card) -> Article:
        """The article a card was made from (at its file's path now), its summary noted."""
        unpacked = unpack_card(card)
        self._summaries[listing.source] = (listing.digest, unpacked[-1])
        article = article_from(unpacked[:-1])
        return article if article.path == listing.path else replace(article, path=listing.path)

    def contents(
        self, articles: Mapping[str, Article], kept: Collection[str], *, archived: bool = False,
        jobs: int | None = None,
    ) -> dict[str, Rendered]:  # fmt: skip
        """The content of every article, with its warnings: the state's where still valid,
        else rendered.

        An article kept for its broken file (its source in `kept`) always has its
        last good content, rendered when it was good: its file's current text is
        never published. The contents of articles only on archive pages (`archived`)
        in summary mode come from their cards where they have one.
        """
        previous = self.previous.contents
        contents: dict[str, Rendered] = {}
        missing: list[Article] = []
        summaries = self._summaries if archived and self.cards else None
        for source, article in articles.items():
            last = previous.get(source)
            if summaries is not None and source not in kept:
                summary = _summary(article, summaries.get(source))
                if summary is not None:
                    contents[source] = Rendered(article.digest, Content(summary, None))
                    continue
            if last is not None and (
                source in kept or (self.trusted and last.digest == article.digest)
            ):
                contents[source] = last
            else:
                missing.append(article)
        bodies = read_bodies(self.root, [article for article in missing if not article.body])
        work = []
        for article in missing:
            body = article.body or bodies.get(article.source)
            last = previous.get(article.source)
            if body is None and last is not None:  # its file went away since it was loaded
                contents[article.source] = last
                continue
            work.append((article, body or ""))
        contents.update(zip((article.source for article, _ in work), self._render_all(work, jobs),
                            strict=True))  # fmt: skip
        return contents

    def _render_all(
        self, work: list[tuple[Article, str]], jobs: int | None = None
    ) -> list[Rendered]:
        """Each article's content, rendered over every core when there are many (a cold
        build's feeds hold about 900 articles: 1.0 s of Markdown in one process)."""
        jobs = self.jobs if jobs is None else jobs
        if jobs < 2 or len(work) < PARALLEL_RENDER or not forking():
            return [self._render(article, body) for article, body in work]
        import multiprocessing

        from . import content  # noqa: F401 - imported before the fork, so no worker imports it

        # The workers inherit the work and take the next chunk of it no process has taken (a
        # shared counter), as this process does meanwhile: they send back only their chunks'
        # contents, and a worker fewer is started (pickling every article and its body to
        # send it cost the parent more than a core).
        context = multiprocessing.get_context("fork")
        size = max(1, len(work) // (jobs * 4))
        chunks = -(-len(work) // size)
        counter = context.Value("q", 0)
        _rendering[:] = [(self, work, counter, size)]
        done: dict[int, list[Rendered]] = {}
        try:
            with context.Pool(jobs - 1) as pool:
                theirs = [pool.apply_async(_render_in_worker) for _ in range(chunks)]
                while (chunk := take_chunk(counter, len(work), size)) is not None:
                    done[chunk] = _render_chunk(chunk)
                for result in theirs:
                    found = result.get()
                    if found is not None:
                        done[found[0]] = found[1]
        finally:
            _rendering.clear()
        return [rendered for chunk in range(chunks) for rendered in done[chunk]]

    def _render(self, article: Article, body: str) -> Rendered:
        from .content import render_article

        config = self.config
        feeds = config.feeds
        if config.archives.enabled and config.archives.content is ContentMode.FULL:
            feeds = replace(feeds, content=ContentMode.FULL)  # archive pages carry the body
        rendered = render_article(article, feeds, body, markdown=config.markdown)
        problems = rendered.problems
        if any(problem.line for problem in problems):  # count lines from the file's start
            offset = self._body_offset(article, body)
            problems = tuple(
                replace(problem, line=problem.line + offset) if problem.line else problem
                for problem in problems
            )
        return Rendered(article.digest, rendered.content, problems)

    def _body_offset(self, article: Article, body: str) -> int:
        """How many lines of its file come before an article's body (its front matter)."""
        from .content import body_first_line
        from .errors import ArticleError
        from .frontmatter import decode

        try:
            text = decode((self.root / article.source).read_bytes(), article.path)
        except (OSError, ArticleError):
            return 0
        return body_first_line(text, body) - 1 if text.endswith(body) else 0


class Archived:
    """The whole articles and contents of a build's entries, as two mappings by source.

    Those made from cards (archived articles: made all at once, 240 MB at 100,000 articles
    once cards were packed) are made when a page asks for one. After :meth:`expect` (the
    pages this process renders), each is kept until the last page that holds it is
    released; without, each is made again whenever asked for.
    """

    def __init__(
        self, articles: dict[str, Article], contents: dict[str, Content],
        carded: dict[str, tuple[Listed, Card]], *, more: More | None = None,
    ) -> None:  # fmt: skip
        self._whole, self._contents = articles, contents
        self._more = more
        self._carded = carded
        self._made: dict[str, tuple[Article, Content]] = {}
        self._left: dict[str, int] = {}
        self.articles: Mapping[str, Article] = _Made(articles, self._article, self)
        self.contents: Mapping[str, Content] = _Made(contents, self._content, self)

    def expect(self, pages: Iterable[Page]) -> None:
        """`pages` are those this process is to render, in order (see :meth:`release`)."""
        carded = self._carded
        self._left = Counter(entry.source for page in pages if page.archive
                             for entry in page.entries if entry.source in carded)  # fmt: skip
        self._made.clear()

    def admit(self, page: Page) -> None:
        """Make the articles of `page` not made yet: of a page to be made from its last
        document (its other entries as that holds them) that must be rendered whole."""
        wanted = {e.source: e for e in page.entries if e.source not in self.articles}
        if wanted and self._more is not None:
            articles, contents, carded = self._more(wanted)
            self._whole.update(articles)
            self._contents.update(contents)
            self._carded.update(carded)

    def release(self, page: Page) -> None:
        """`page` is rendered: forget each article no page still to render holds."""
        left = self._left
        for entry in page.entries:
            count = left.get(entry.source)
            if count is None:
                continue
            if count <= 1:
                del left[entry.source]
                self._made.pop(entry.source, None)
            else:
                left[entry.source] = count - 1

    def forget_cards(self) -> None:
        """Drop the cards, and what was made of them: every page is rendered."""
        self._carded.clear()
        self._made.clear()
        self._left.clear()

    def carded(self, source: str) -> tuple[Article, Content]:
        """The article made from the card of `source` (at its file's path now) and its
        content in summary mode, the card's summary (KeyError: it has no card here)."""
        made = self._made.get(source)
        if made is None:
            listing, card = self._carded[source]
            unpacked = unpack_card(card)
            article = article_from(unpacked[:-1])
            if article.path != listing.path:
                article = replace(article, path=listing.path)
            made = (article, Content(unpacked[-1], None))
            if source in self._left:
                self._made[source] = made
        return made

    def _article(self, source: str) -> Article:
        return self.carded(source)[0]

    def _content(self, source: str) -> Content:
        return self.carded(source)[1]

    def has_card(self, source: str) -> bool:
        return source in self._carded

    def sources(self) -> Iterator[str]:
        return iter(self._carded)


V = TypeVar("V", Article, Content)


# What makes more of the articles and contents of an Archived: those of the listings given.
More = Callable[
    [Mapping[str, Listed]],
    tuple[dict[str, Article], dict[str, Content], dict[str, tuple[Listed, Card]]],
]


class _Made(Mapping[str, V]):
    """One of :class:`Archived`'s mappings: those made at once, then those made from cards."""

    def __init__(
        self, made: dict[str, V], carded: Callable[[str], V], archived: Archived
    ) -> None:  # fmt: skip
        self._made: dict[str, V] = made
        self._make: Callable[[str], V] = carded
        self._archived = archived

    def __getitem__(self, source: str) -> V:
        found = self._made.get(source)
        return self._make(source) if found is None else found

    def __contains__(self, source: object) -> bool:
        return source in self._made or (
            type(source) is str and self._archived.has_card(source)
        )  # fmt: skip

    def __iter__(self) -> Iterator[str]:
        return chain(self._made, (key for key in self._archived.sources()
                                  if key not in self._made))  # fmt: skip

    def __len__(self) -> int:
        return sum(1 for _ in self)


CARD_LOG_FROM = 50  # archived articles wanted: fewer are read from their files, not the log
PARALLEL_RENDER = 200  # contents to render: fewer are rendered faster than processes start
# The source whose contents forked workers render, what they render (articles, bodies), the
# counter of the chunks taken and the size of a chunk: inherited by the workers.
_rendering: list[tuple[Source, list[tuple[Article, str]], Any, int]] = []


def _render_chunk(chunk: int) -> list[Rendered]:
    source, work, _counter, size = _rendering[0]
    return [
        source._render(article, body) for article, body in work[chunk * size : (chunk + 1) * size]
    ]


def _render_in_worker() -> tuple[int, list[Rendered]] | None:
    """In a worker: the number of the next chunk no process has taken and its contents, or
    None when every chunk is taken."""
    _source, work, counter, size = _rendering[0]
    chunk = take_chunk(counter, len(work), size)
    return None if chunk is None else (chunk, _render_chunk(chunk))


def _summary(article: Article, card: tuple[str, str] | None) -> str | None:
    """An archived article's summary without rendering its body: its card's, or its deck
    (a summary-mode entry shows nothing else); None when only its body can tell."""
    if card is not None and card[0] == article.digest:
        return card[1]
    if article.subtitle:
        from .content import xml_text

        return xml_text(article.subtitle)
    return None
