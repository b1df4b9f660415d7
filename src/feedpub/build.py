"""Orchestration: load → plan → render what changed → store → save state.

The clock and the folders come in as arguments; the report goes out to the
command line, which decides what to print and which exit code to use. What
makes a rerun cheap is :mod:`feedpub.incremental`'s; where articles come from,
:mod:`feedpub.source`'s; where documents go, :mod:`feedpub.layout`'s and
:mod:`feedpub.store`'s.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from operator import itemgetter
from pathlib import Path
from typing import cast

from . import layout
from .cards import Cards, cards_lost
from .errors import OutputError, Problem, Severity
from .formats import Shared
from .group import plan
from .incremental import Rules, Spliceable
from .load import Loaded, Progress
from .model import Article, Config, Group, Listed, Page
from .regroup import Regrouped
from .source import Archived, Source
from .state import (
    Cached,
    Document,
    File,
    Files,
    Rendered,
    State,
    Totals,
    by_source,
    edited_records,
    fingerprint,
    group_records,
    keep_last_good,
    order_of,
)
from .store import LocalStore, Staged

DEFAULT_WAIT = 60.0


class Mode(Enum):
    """What a build does with the documents it renders."""

    WRITE = "write"  # write what changed
    CHECK = "check"  # write nothing; report what is out of date
    VALIDATE = "validate"  # load and group only; render and write nothing


@dataclass(frozen=True, slots=True)
class Report:
    """What a build found and did."""

    problems: tuple[Problem, ...]
    files: int
    articles: int
    published: int
    groups: tuple[Group, ...]
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    out_of_date: tuple[str, ...] = ()
    held_back: bool = False
    feeds: int = 0
    parsed: int = 0
    documents: int = 0  # this build's documents: every format of every feed

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity is Severity.WARNING)

    @property
    def skipped(self) -> int:
        """Files that did not become an article, for an error."""
        return len({problem.path for problem in self.errors})


@dataclass(frozen=True, slots=True)
class Options:
    """How to build: what to do with the output, and how much to trust the cache."""

    mode: Mode = Mode.WRITE
    strict: bool = False
    wait: float = DEFAULT_WAIT
    use_cache: bool = True
    jobs: int = 1
    progress: Progress | None = None


def build(
    articles: Path, out: Path, config: Config, now: datetime, options: Options | None = None
) -> Report:
    """Build the feeds of the articles under `articles` into `out`, as of `now`."""
    options = options or Options()
    store = LocalStore(out)
    # A build makes hundreds of thousands of small objects and no reference
    # cycles worth collecting: the cyclic collector, run again and again over an
    # ever larger heap, would cost a large archive a third of its time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if options.mode is Mode.WRITE:
            with store.locked(options.wait):
                return _build(articles, store, config, now, options)
        return _build(articles, store, config, now, options)
    finally:
        if collecting:
            gc.enable()


def _build(
    root: Path, store: LocalStore, config: Config, now: datetime, options: Options
) -> Report:
    previous = store.read_state()  # read only, for the last good versions, when validating
    # A cards log lost since the last build is made again by a build that trusts nothing: no
    # other build parses the articles whose cards it held.
    use_cache = options.use_cache and not (previous.fingerprint and cards_lost(store.root, config))
    rules = Rules(previous, fingerprint(config), now, started=time.time_ns(),
                  use_cache=use_cache)  # fmt: skip
    cards = Cards(store.root, rules.fingerprint, trusted=rules.trusted)
    source = Source(root, config, previous, trusted=rules.trusted, now=now, jobs=options.jobs,
                    progress=options.progress, cards=cards)  # fmt: skip
    scanned = source.scan()
    writing = options.mode is not Mode.VALIDATE
    # A problem the walk met that the last build did not report (a folder nested too deep,
    # say) is this build's to report: the build that finds nothing changed reports the last.
    if (
        writing and set(scanned.problems) <= set(previous.problems)
        and rules.nothing_changed(store, scanned.files, scanned.folders)
    ):  # fmt: skip
        return _unchanged_report(previous, options)

    # Plan: the groups, from the last build's with a few entries rewritten, or from scratch.
    files = list(scanned.files)
    quick = rules.quick_edit(files, source.parsed) if writing and not scanned.problems \
        else None  # fmt: skip
    regrouped = rules.regroup(files, source.parsed, config) \
        if writing and not scanned.problems and not quick else None  # fmt: skip
    if quick:
        planned = _quick_plan(previous, files, *quick)
    elif regrouped:
        planned = _regrouped_plan(previous, files, regrouped)
    else:
        planned = _plan(source, store, rules, files=files, scan_problems=scanned.problems,
                        unreadable=scanned.unreadable)  # fmt: skip
    # What reading the state found wrong is this build's to report, not the next one's.
    report = replace(planned.report, problems=_ordered((*store.problems, *planned.report.problems)))
    if writing and options.strict and report.errors:
        return replace(report, held_back=True)

    # Whole articles and their content: every feed's entries (the last good versions the
    # state keeps); rendering them finds problems of their own, which `check` reports too.
    pages = layout.documents(config, report.groups)
    in_feeds = source.whole({e.source: e for page in pages if not page.archive
                             for e in page.entries})  # fmt: skip
    kept = {a.source for a in planned.kept}
    contents = source.contents(in_feeds, kept)
    rendering = [problem for item in contents.values() for problem in item.problems]
    if not writing:
        return replace(report, problems=_ordered((*report.problems, *rendering)))

    # Render what changed: only documents whose inputs are not those they were made from,
    # and for archive pages only their entries are read (the rest of the archive is not).
    prints = rules.fingerprints(pages, report.groups, moved=planned.moved, fresh=planned.fresh)
    stale = _render_order(
        [page for page in pages if not rules.current(store, page.path, prints[page.path])]
    )
    # Of the archive pages to render, most are made from their last documents, with only
    # the entries whose files changed written anew: only those entries' articles are read.
    spliced = _spliceable(rules, store, stale)
    paths, fresh = spliced
    archived = source.archived(
        {e.source: e for page in stale if page.archive for e in page.entries
         if e.source not in in_feeds and (page.path not in paths or e.source in fresh)},
        kept, feeds=in_feeds, shown={key: item.content for key, item in contents.items()},
    )  # fmt: skip
    shared = Shared(config, archived.contents, archived.articles, report.groups)
    if options.mode is Mode.CHECK:
        changed = sorted(name for name, data in _render(shared, stale, archived, store, spliced)
                         if store.differs(name, data))  # fmt: skip
        out_of_date = (*changed, *store.stale(previous, prints))
        return replace(report, problems=_ordered((*report.problems, *rendering)),
                       out_of_date=out_of_date, documents=len(prints))  # fmt: skip

    # Store (one format's documents rendered and staged by a second process on a large
    # build), then save the state the next build starts from. The parse cache and the cards
    # log hold what the article files say, whatever becomes of the documents: the second
    # process saves them once its documents are staged (it ends first), or this one does last.
    save = _saver(store, rules, planned, cards if source.cards else None)
    ours, helper, failed = _shared_out(
        store, shared, stale, previous, options.jobs, save=save, archived=archived,
        spliced=spliced,
    )  # fmt: skip
    written = store.write_documents(_render(shared, ours, archived, store, spliced), prints,
                                    previous, helper=helper)  # fmt: skip
    if failed is not None:  # the helper saved the cards: none is wanted here any more
        _let_go_of_cards(planned, archived, cards)
    store.write_state(_next_state(
        rules, previous, planned, prints=prints, refused=written.refused, store=store,
        in_feeds=in_feeds, contents=contents, folders=scanned.folders,
    ))  # fmt: skip
    if failed is None:
        save()
    elif failed:
        raise failed[0]
    refusals = [Problem(str(store.root / name), "this file was not written by feedpub (or is a "
                        "link), so it is left alone and the document that belongs there is not "
                        "written; move it away") for name in written.refused]  # fmt: skip
    return replace(
        report, problems=_ordered((*report.problems, *rendering, *refusals)),
        written=written.written,
        unchanged=written.unchanged, removed=written.removed, documents=len(prints),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Planned:
    """What a build found, ready to render and write."""

    report: Report
    files: Sequence[File]
    due: datetime | None
    kept: list[Article]  # last good versions of broken files
    cache: Mapping[str, Cached]  # the parse cache as read
    cacheable: Mapping[str, Cached]  # the parse cache as it now stands
    reparsed: bool = True  # False: the last build's listings stand (the quick and regroup paths)
    edited: tuple[Article, ...] = ()  # the quick path's: no article moved between groups
    listed: Sequence[Listed] = ()  # the full path's: every listing grouped
    clean: bool = False  # the full path's grouping met no problem (see state.Order)
    regrouped: Regrouped | None = None  # the regroup path's groups, as the state records them
    moved: Mapping[str, int] | None = None  # the regroup path's (see Regrouped.moved)
    fresh: frozenset[int] = frozenset()  # either path's: the indices of the files parsed


def _plan(
    source: Source, store: LocalStore, rules: Rules, *, files: list[File],
    scan_problems: Sequence[Problem], unreadable: Sequence[str],
) -> _Planned:  # fmt: skip
    """Every article listed (from the cache or its file), then grouped into feeds."""
    previous = rules.previous
    cache = store.read_cache(rules.fingerprint) if rules.trusted else {}
    loaded = source.listings(files, cache)
    broken = dict(loaded.broken)
    for prefix in unreadable:  # files in a folder that cannot be read count as broken
        for key in previous.kept:
            if key.startswith(prefix):
                broken.setdefault(key, str(source.root / key))
    kept, notes = keep_last_good(previous, broken)
    listed = [*loaded.articles, *kept]
    feeds = plan(listed, source.config, rules.now, preferred=previous.kept.keys())
    report = Report(
        problems=_ordered((*scan_problems, *loaded.problems, *notes, *feeds.problems)),
        files=loaded.files, articles=len(loaded.articles), published=feeds.published,
        groups=feeds.groups, feeds=len(feeds.groups), parsed=loaded.parsed,
    )  # fmt: skip
    return _Planned(report, files, feeds.due, kept, cache, rules.cacheable(loaded.fresh),
                    listed=listed, clean=not feeds.problems)  # fmt: skip


def _quick_plan(
    previous: State, files: list[File], groups: tuple[Group, ...], loaded: Loaded,
    fresh: frozenset[int],
) -> _Planned:  # fmt: skip
    """The last build's groups with the edited entries in place (see Rules.quick_edit)."""
    totals = previous.totals
    report = Report(
        problems=_ordered((*previous.problems, *loaded.problems)), files=len(files),
        articles=totals.articles, published=totals.published, groups=groups,
        feeds=len(groups), parsed=len(loaded.articles),
    )  # fmt: skip
    edited = tuple(item for item in loaded.articles if isinstance(item, Article))
    return _Planned(report, files, previous.due, [], {}, {}, reparsed=False, edited=edited,
                    fresh=fresh)  # fmt: skip


def _regrouped_plan(previous: State, files: list[File], regrouped: Regrouped) -> _Planned:
    """The last build's groups with a few articles placed anew (see feedpub.regroup)."""
    loaded, totals = regrouped.loaded, regrouped.totals
    report = Report(
        problems=_ordered((*previous.problems, *loaded.problems)), files=totals.files,
        articles=totals.articles, published=totals.published, groups=regrouped.groups,
        feeds=totals.feeds, parsed=len(loaded.articles),
    )  # fmt: skip
    return _Planned(report, files, previous.due, [], {}, {}, reparsed=False,
                    regrouped=regrouped, moved=regrouped.moved,
                    fresh=frozenset(regrouped.fresh))  # fmt: skip


def _next_state(
    rules: Rules, previous: State, planned: _Planned, *, prints: Mapping[str, str],
    refused: Sequence[str], store: LocalStore, in_feeds: Mapping[str, Article],
    contents: Mapping[str, Rendered], folders: Sequence[tuple[str, tuple[int, int, int, int]]],
) -> State:  # fmt: skip
    """What the next build starts from. Its problems are those of loading and grouping:
    rendering's are kept with each content, and the refusals of this build's write are
    found again by each write (and vanish when the file moves)."""
    report = planned.report
    documents = {}
    for name, value in prints.items():
        found = None if name in refused else store.stat(name)
        if found is not None:
            documents[name] = Document(value, *found)
    # The quick path keeps every article of the last state; the others, those of their feeds.
    carried = {} if planned.reparsed or planned.regrouped else previous.kept
    kept = by_source(planned.kept)
    # Only the files parsed may be recent on the quick and regroup paths: every other file's
    # stat is the last state's.
    settled = rules.settled_files(planned.files, planned.fresh if not planned.reparsed else None)
    # Most of the record of the files is the last state's: only the files between their
    # common start and end are encoded again.
    files = previous.files.spliced(settled) if isinstance(previous.files, Files) else settled
    order = previous.order
    if planned.edited:  # every article in the groups it was in: the last records stand
        groups, digests = edited_records(previous, planned.edited, planned.fresh)
    elif planned.regrouped:
        regrouped = planned.regrouped
        groups, digests, order = regrouped.records, regrouped.digests, regrouped.order
    else:
        known = dict(zip((f[0] for f in previous.files), previous.digests, strict=False)) \
            if rules.trusted and previous.digests else None  # fmt: skip
        groups, digests = group_records(report.groups, files, known)
        order = order_of(files, planned.listed, rules.now) if planned.clean else None
    return State(
        fingerprint=rules.fingerprint, now=rules.now, due=planned.due,
        files=files,
        problems=report.problems,
        totals=Totals(report.files, report.articles, report.published, report.feeds),
        documents=documents,
        kept={**carried, **kept, **in_feeds},
        contents={
            **{key: previous.contents[key] for key in carried if key in previous.contents},
            **{key: previous.contents[key] for key in kept},
            **contents,
        },
        groups=groups, digests=digests, folders=rules.settled_folders(folders), order=order,
    )  # fmt: skip


def _unchanged_report(previous: State, options: Options) -> Report:
    """The report of a build that found nothing changed: the last build's, nothing written."""
    totals = previous.totals
    rendering = (problem for item in previous.contents.values() for problem in item.problems)
    report = Report(
        problems=_ordered((*previous.problems, *rendering)), files=totals.files,
        articles=totals.articles, published=totals.published, groups=(), feeds=totals.feeds,
        unchanged=tuple(sorted(previous.documents)), documents=len(previous.documents),
    )  # fmt: skip
    if options.strict and report.errors:
        return replace(report, held_back=True, unchanged=())
    return report


def _render_order(pages: list[Page]) -> list[Page]:
    """`pages` in the order to render them: the feeds and indexes where they are, the archive
    pages after the feeds, oldest first across their groups.

    A renderer keeps an entry from its first page to its last. An article is on one archive
    page of each group that keeps archives: group after group, every entry would be kept
    from the all-articles pages to its section's (at 100,000 articles, 200 MB in each
    process); by the date of each page's newest entry, only the entries of each group's
    page in progress are. A quick edit's pages hold members with no date: they are few, and
    stay in their order.
    """
    archive = [page for page in pages if page.archive]
    if not archive:
        return pages
    try:
        archive.sort(key=_newest_entry)
    except AttributeError:  # a Member's
        return pages
    first = next(number for number, page in enumerate(pages) if page.archive)
    others = [page for page in pages if not page.archive]
    return [*others[:first], *archive, *others[first:]]


def _newest_entry(page: Page) -> float:
    return page.entries[0].published.timestamp() if page.entries else 0.0


def _spliceable(rules: Rules, store: LocalStore, stale: Sequence[Page]) -> Spliceable:
    """The pages of `stale` to make from their last documents (see Rules.spliceable)."""
    from .formats import can_splice

    previous = rules.previous
    if not rules.trusted or not previous.digests or not any(map(can_splice, stale)):
        return Spliceable(frozenset(), frozenset())
    # Each file's digest then, and its listing's key after it ("" for one in no group).
    before = dict(zip(map(itemgetter(0), previous.files), previous.digests, strict=False))
    return rules.spliceable(store, stale, before)


def _render(
    shared: Shared, pages: Sequence[Page], archived: Archived | None = None,
    store: LocalStore | None = None, spliced: Spliceable | None = None,
) -> Iterator[tuple[str, bytes]]:  # fmt: skip
    """Each page's document, rendered one at a time (a large site's are never all in memory),
    each entry and archived article kept only until the last of `pages` that holds it; those
    `spliced` names made from their last documents in `store`."""
    from .formats import Splicer, renderers, uses_of

    made = renderers(replace(shared, uses=uses_of(pages)))
    if archived is not None:
        archived.expect(pages)
    paths, fresh = spliced or (frozenset(), frozenset())
    for page in pages:
        data = None
        if store is not None and page.path in paths:
            last = store.last(page.path)
            splicer = cast(Splicer, made[page.format])
            data = None if last is None else splicer.splice(page, last, fresh)
            if data is None and archived is not None:
                archived.admit(page)  # rendered whole after all
        if data is None:
            data = made[page.format].render(page)
        if archived is not None:
            archived.release(page)
        yield page.path, data


# Documents to render: with fewer, a second process costs more than it saves. Cold builds of
# 184 and 242 documents (200 and 1,000 articles) took 0.89 and 2.2 s with it, 1.0 and 2.6 s
# without; a rerun that rewrites 98 documents (1% of 1,000 articles edited) gained nothing.
PARALLEL_PAGES = 150
# What a forked helper renders and stages, and saves then: (store, shared, its pages, the
# previous state, the save, the archived articles, the pages made from their last documents).
_helping: list[
    tuple[
        LocalStore, Shared, list[Page], State, Callable[[], None], Archived | None,
        Spliceable | None,
    ]
] = []  # fmt: skip
Failure = tuple[str, int, str]  # an OutputError as plain values: path, errno, message


def _let_go_of_cards(planned: _Planned, archived: Archived, cards: Cards) -> None:
    """Drop every card this process holds: 70 MB at 100,000 articles, which writing the state
    then reuses, where it would otherwise grow the process past its largest so far."""
    for item in planned.cacheable.values():
        item.listing.card = None
    archived.forget_cards()
    cards.forget()


def _saver(
    store: LocalStore, rules: Rules, planned: _Planned, cards: Cards | None
) -> Callable[[], None]:
    """The save of the parse cache and the cards a build made (none on the quick path)."""

    def save() -> None:
        if not planned.reparsed:
            return
        cacheable = planned.cacheable
        if rules.cache_worth_rewriting(planned.cache, cacheable):
            store.write_cache(rules.fingerprint, cacheable)
        if cards is not None:
            cards.save({key: item.listing.card for key, item in cacheable.items()
                        if item.listing.card is not None}, _Digests(cacheable))  # fmt: skip

    return save


class _Digests(Mapping[str, str]):
    """Each cached article's digest by source, read from the cache (not a dict of 300,000)."""

    def __init__(self, cache: Mapping[str, Cached]) -> None:
        self._cache = cache

    def __getitem__(self, source: str) -> str:
        digest: str = self._cache[source].listing.digest
        return digest

    def get(self, source: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The digest of `source`, else `default` (without the KeyError Mapping.get catches)."""
        item = self._cache.get(source)
        digest: str | None = default if item is None else item.listing.digest
        return digest

    def __iter__(self) -> Iterator[str]:
        return iter(self._cache)

    def __len__(self) -> int:
        return len(self._cache)


def _shared_out(
    store: LocalStore, shared: Shared, pages: Sequence[Page], previous: State, jobs: int, *,
    save: Callable[[], None], archived: Archived | None = None,
    spliced: Spliceable | None = None,
) -> tuple[
    Sequence[Page], Callable[[], Callable[[], list[Staged]]] | None, list[OutputError] | None
]:  # fmt: skip
    """The pages this process renders, and the helper that renders the others: the RSS
    documents go to a second process when Atom is written too and there are many pages
    (each format's entries are its own, so neither process renders what the other does).

    The helper then runs `save`; what it found wrong is added to the list returned (None
    when there is no helper: this process saves).
    """
    formats = shared.config.feeds.formats
    theirs = [page for page in pages if page.format == "rss"]
    if jobs < 2 or "atom" not in formats or len(pages) < PARALLEL_PAGES or not theirs:
        return pages, None, None
    import multiprocessing  # imported only when it may be used (7 ms)

    if "fork" not in multiprocessing.get_all_start_methods():
        return pages, None, None
    failed: list[OutputError] = []

    def helper() -> Callable[[], list[Staged]]:
        _helping[:] = [(store, shared, theirs, previous, save, archived, spliced)]
        pool = multiprocessing.get_context("fork").Pool(1)
        result = pool.apply_async(_stage_in_helper)

        def join() -> list[Staged]:
            done = False
            try:
                staged, staging, saving = result.get()
                done = True
            finally:
                _helping.clear()
                if done:
                    pool.close()
                else:
                    pool.terminate()
                pool.join()
            if saving is not None:
                failed.append(_error_of(saving))
            if staging is not None:
                raise _error_of(staging)
            return staged

        return join

    return [page for page in pages if page.format != "rss"], helper, failed


def _stage_in_helper() -> tuple[list[Staged], Failure | None, Failure | None]:
    """In the forked helper: render and stage its pages, then save; what it staged, and
    what failed in each (on a failure to stage, its staged files are removed and nothing is
    saved), as plain values that travel back."""
    store, shared, pages, previous, save, archived, spliced = _helping[0]
    outcomes: list[Staged] = []
    try:
        for name, data in _render(shared, pages, archived, store, spliced):
            outcomes.append(store.stage(name, data, previous))
    except OutputError as error:
        for _name, _outcome, temporary in outcomes:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
        return [], _failure(error), None
    try:
        save()
    except OutputError as error:
        return outcomes, None, _failure(error)
    return outcomes, None, None


def _failure(error: OutputError) -> Failure:
    return error.path, error.error.errno or 0, error.error.strerror or str(error.error)


def _error_of(failure: Failure) -> OutputError:
    """The error a :func:`_failure` stands for, in this process."""
    path, number, message = failure
    return OutputError(path, OSError(number, message))


def default_jobs() -> int:
    """Every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _ordered(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda problem: (problem.path, problem.line or 0)))
