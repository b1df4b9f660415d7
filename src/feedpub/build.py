"""Orchestration: load → group → render → write, returning a report.

The clock and the folders come in as arguments; the report goes out to the
command line, which decides what to print and which exit code to use.

A rerun does as little as it can: files whose stat matches the parse cache
are not read, documents whose inputs have the fingerprint recorded for them
(and whose files are as feedpub left them) are not rendered, and only
documents whose bytes changed are written.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from .content import MAX_DEPTH
from .errors import Problem, Severity
from .group import plan
from .load import File, Progress, load_articles, read_articles, read_bodies, scan
from .model import Article, Config, Content, Group, GroupKind, Listed
from .state import (
    Cached,
    Document,
    Rendered,
    Stat,
    State,
    Totals,
    by_source,
    fingerprint,
    keep_last_good,
)  # fmt: skip
from .write import (
    differs,
    file_stat,
    locked,
    read_cache,
    read_state,
    stale,
    write_cache,
    write_documents,
    write_state,
)  # fmt: skip

DEFAULT_WAIT = 60.0
FORMATS = ("atom", "rss")


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
    # A build makes hundreds of thousands of small objects and no reference
    # cycles worth collecting: the cyclic collector, run again and again over an
    # ever larger heap, would cost a large archive a third of its time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if options.mode is Mode.WRITE:
            with locked(out, options.wait):
                return _build(articles, out, config, now, options)
        return _build(articles, out, config, now, options)
    finally:
        if collecting:
            gc.enable()


def _build(articles: Path, out: Path, config: Config, now: datetime, options: Options) -> Report:
    validating = options.mode is Mode.VALIDATE
    previous = read_state(out)  # read only, for the last good versions, when validating
    current = fingerprint(config)
    started = time.time_ns()
    scanned = scan(articles)
    files = scanned.files
    trusted = options.use_cache and previous.fingerprint == current
    if trusted and not validating and _nothing_changed(out, previous, files, now):
        return _unchanged_report(previous, options)

    if trusted and not validating and not scanned.problems:
        quick = _edited_entries(
            articles, config, previous, files, now=now, started=started, current=current
        )
        if quick is not None:
            return _write(
                articles, out, config, now, options, planned=quick, previous=previous,
                trusted=trusted,
            )  # fmt: skip

    cache = read_cache(out, current) if trusted else {}
    loaded = load_articles(
        articles, config, max_bytes=config.build.max_article_bytes, files=files,
        cache=cache, progress=options.progress,
        jobs=options.jobs,
    )  # fmt: skip
    broken = dict(loaded.broken)
    for prefix in scanned.unreadable:  # files in a folder that cannot be read count as broken
        for source in previous.kept:
            if source.startswith(prefix):
                broken.setdefault(source, str(articles / source))
    kept, notes = keep_last_good(previous, broken)
    feeds = plan([*loaded.articles, *kept], config, now, preferred=previous.kept.keys())
    report = Report(
        problems=_ordered((*scanned.problems, *loaded.problems, *notes, *feeds.problems)),
        files=loaded.files,
        articles=len(loaded.articles), published=feeds.published, groups=feeds.groups,
        feeds=len(feeds.groups), parsed=loaded.parsed,
    )  # fmt: skip
    if validating:
        return report
    planned = _Planned(report, feeds.due, kept, cache, loaded.fresh, files, started, current)
    return _write(
        articles, out, config, now, options, planned=planned, previous=previous, trusted=trusted
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    """What a build found, ready to render and write."""

    report: Report
    due: datetime | None
    kept: list[Article]  # last good versions of broken files
    cache: Mapping[str, Cached]  # the parse cache as read
    fresh: Mapping[str, Cached]  # the parse cache as it now stands
    files: list[File]
    started: int
    fingerprint: str
    carried: Mapping[str, Article] = field(default_factory=dict)  # kept from the last state


def _write(
    articles: Path, out: Path, config: Config, now: datetime, options: Options, *,
    planned: _Planned, previous: State, trusted: bool,
) -> Report:  # fmt: skip
    report, kept, current, started = (
        planned.report,
        planned.kept,
        planned.fingerprint,
        planned.started,
    )
    if options.strict and report.errors:
        return replace(report, held_back=True)
    groups = report.groups
    documents = previous.documents if trusted else {}
    prints = {
        path: _document_fingerprint(current, group, kind)
        for group in groups
        for kind, path in zip(FORMATS, (group.atom_path, group.rss_path), strict=True)
    }
    to_render = [
        name for name, value in prints.items() if not _current(out, documents, name, value)
    ]
    listed = {entry.source: entry for group in groups for entry in group.entries}
    in_feeds = _whole_articles(articles, config, listed, previous=previous, trusted=trusted)
    contents, rendering = _contents(
        articles, config, in_feeds, kept={a.source for a in kept}, previous=previous,
        trusted=trusted,
    )  # fmt: skip
    if rendering:
        report = replace(report, problems=_ordered((*report.problems, *rendering)))
    rendered = _render(config, groups, to_render, contents, in_feeds)
    if options.mode is Mode.CHECK:
        changed = sorted(name for name, data in rendered if differs(out / name, data))
        return replace(report, out_of_date=(*changed, *stale(out, previous, prints)))

    written = write_documents(out, rendered, prints, previous)
    if written.refused:
        refusals = [
            Problem(str(out / name), "this file was not written by feedpub, so it is left alone "
                    "and the feed that belongs there is not written; move the file away")
            for name in written.refused
        ]  # fmt: skip
        report = replace(report, problems=_ordered((*report.problems, *refusals)))
    documents = {}
    for name, value in prints.items():
        found = None if name in written.refused else file_stat(out / name)
        if found is not None:
            documents[name] = Document(value, *found)
    settled_before = started - RACY_NS
    cacheable = {
        source: replace(cached, stat=_distrusted(cached.stat))
        if _recent(cached.stat, settled_before) else cached
        for source, cached in planned.fresh.items()
        if not cached.listing.draft and cached.listing.published <= now
    }  # fmt: skip
    carried = planned.carried
    write_state(
        out,
        State(
            fingerprint=current,
            now=now,
            due=planned.due,
            files=[
                file._replace(stat=_distrusted(file.stat))
                if _recent(file.stat, settled_before)
                else file
                for file in planned.files
            ],
            problems=report.problems,
            totals=Totals(report.files, report.articles, report.published, report.feeds),
            documents=documents,
            kept={**carried, **by_source(kept), **in_feeds},
            contents={
                **{key: previous.contents[key] for key in carried if key in previous.contents},
                **{a.source: previous.contents[a.source] for a in kept},
                **{key: Rendered(in_feeds[key].digest, contents[key]) for key in in_feeds},
            },
            groups=[
                (
                    group.kind.value,
                    group.name,
                    group.slug,
                    group.stem,
                    group.page_url,
                    group.total,
                    tuple(entry.source for entry in group.entries),
                )
                for group in groups
            ],
        ),
    )
    # A few stale entries cost the next build that reaches the cache one read of
    # each of their files; rewriting the whole cache for them would cost more.
    cache = planned.cache
    stale_entries = _stale_entries(cache, cacheable)
    if stale_entries > max(STALE_ENTRIES, len(cacheable) // 100) or (stale_entries and not cache):
        write_cache(out, current, cacheable)
    return replace(
        report, written=written.written, unchanged=written.unchanged, removed=written.removed,
    )  # fmt: skip


QUICK_EDITS = 50  # changed files a build may take without grouping the whole archive again


def _edited_entries(  # noqa: PLR0911 - one early return per reason to group again
    root: Path, config: Config, previous: State, files: list[File], *, now: datetime,
    started: int, current: str,
) -> _Planned | None:  # fmt: skip
    """The last build's groups with a few entries rewritten, when that is all that changed.

    Taken only when every changed file is an entry of the last build, still parses
    without a problem, and keeps its id, date, section and topics (so every feed holds
    the same entries in the same order), no file came or went, and nothing fell due.
    Anything else groups the whole archive again.
    """
    if not previous.groups or previous.now is None or now < previous.now:
        return None
    if (previous.due is not None and now >= previous.due) or len(files) != len(previous.files):
        return None
    changed = []
    for file, (source, path, stat) in zip(files, previous.files, strict=True):
        if file.source != source or file.path != path:
            return None
        if file.stat != stat:
            changed.append(file)
            if len(changed) > QUICK_EDITS:
                return None
    entries = {source for group in previous.groups for source in group[6]}
    flagged = {problem.path for problem in previous.problems}
    edited: dict[str, Article] = {}
    for file in changed:
        old = previous.kept.get(file.source)
        if old is None or file.source not in entries or file.path in flagged:
            return None
        article = read_articles(root, config, [old]).get(file.source)
        if article is None or article.draft or article.published > now:
            return None
        if (article.id, article.published, article.section, article.topics) != (
            old.id, old.published, old.section, old.topics
        ):  # fmt: skip
            return None
        edited[file.source] = article
    if not changed:
        return None
    groups = tuple(
        Group(
            GroupKind(kind),
            name,
            slug,
            stem,
            page,
            tuple(edited.get(source) or previous.kept[source] for source in sources),
            total,
        )
        for kind, name, slug, stem, page, total, sources in previous.groups
    )
    totals = previous.totals
    report = Report(
        problems=previous.problems, files=len(files), articles=totals.articles,
        published=totals.published, groups=groups, feeds=len(groups), parsed=len(changed),
    )  # fmt: skip
    return _Planned(
        report, previous.due, [], {}, {}, files, started, current, carried=previous.kept
    )


# A file modified this close to the build's start may be modified again within
# the same tick of the file system's clock, keeping its stat: such a stat is
# not trusted next time (the file is read and its digest compared), as git
# does for its "racily clean" entries.
RACY_NS = 2_000_000_000
STALE_ENTRIES = 100  # or 1% of the cache: stale entries tolerated before it is rewritten


def _recent(stat: Stat, settled_before: int) -> bool:
    """True for a file changed too close to the build's start for its stat to be trusted."""
    return stat.mtime_ns >= settled_before or stat.ctime_ns >= settled_before


def _distrusted(stat: Stat) -> Stat:
    """A stat that no file will match: the next build reads the file and compares digests."""
    return stat._replace(mtime_ns=-1)


def _stale_entries(before: Mapping[str, Cached], after: Mapping[str, Cached]) -> int:
    """How many entries of the parse cache on disk no longer hold (changed, new or gone)."""
    stale = len(before.keys() - after.keys())
    for key, item in after.items():
        old = before.get(key)
        if old is None or (
            item is not old
            and (item.stat, item.listing.record()) != (old.stat, old.listing.record())
        ):
            stale += 1
    return stale


def _nothing_changed(out: Path, previous: State, files: list[File], now: datetime) -> bool:
    """True when no article file, no document and nothing due changed since the last build."""
    if previous.now is None or now < previous.now:
        return False
    if previous.due is not None and now >= previous.due:
        return False
    if files != previous.files:  # tuples all the way down: compared in C
        return False
    return all(
        file_stat(out / name) == (document.size, document.mtime_ns)
        for name, document in previous.documents.items()
    )


def _unchanged_report(previous: State, options: Options) -> Report:
    """The report of a build that found nothing changed: the last build's, nothing written."""
    totals = previous.totals
    report = Report(
        problems=previous.problems, files=totals.files, articles=totals.articles,
        published=totals.published, groups=(), feeds=totals.feeds,
        unchanged=tuple(sorted(previous.documents)),
    )  # fmt: skip
    if options.strict and report.errors:
        return replace(report, held_back=True, unchanged=())
    return report


def _whole_articles(
    root: Path, config: Config, listed: Mapping[str, Listed], *, previous: State, trusted: bool
) -> dict[str, Article]:
    """The whole article behind every entry: parsed this build, kept in the state from the
    last one (when its file is unchanged), or else read again from its file."""
    whole: dict[str, Article] = {}
    again: list[Listed] = []
    for source, listing in listed.items():
        last = previous.kept.get(source) if trusted else None
        if isinstance(listing, Article):
            whole[source] = listing
        elif last is not None and last.digest == listing.digest:
            whole[source] = last if last.path == listing.path else replace(last, path=listing.path)
        else:
            again.append(listing)
    whole.update(read_articles(root, config, again))
    return whole


def _current(out: Path, documents: Mapping[str, Document], name: str, value: str) -> bool:
    """True when the document was rendered from the same inputs and its file is untouched."""
    document = documents.get(name)
    return (
        document is not None and document.fingerprint == value
        and file_stat(out / name) == (document.size, document.mtime_ns)
    )  # fmt: skip


def _contents(
    root: Path, config: Config, in_feeds: Mapping[str, Article], *, kept: Collection[str],
    previous: State, trusted: bool,
) -> tuple[dict[str, Content], list[Problem]]:  # fmt: skip
    """The content of every article in a feed: cached where still valid, else rendered.

    An article kept for its broken file always has its last good content, rendered
    when it was good: its file's current text is never published.
    """
    from .content import render_content

    contents: dict[str, Content] = {}
    problems: list[Problem] = []
    missing: list[Article] = []
    for source, article in in_feeds.items():
        last = previous.contents.get(source)
        if last is not None and (source in kept or (trusted and last.digest == article.digest)):
            contents[source] = last.content
        else:
            missing.append(article)
    bodies = read_bodies(root, [article for article in missing if not article.body])
    for article in missing:
        body = article.body or bodies.get(article.source)
        last = previous.contents.get(article.source)
        if body is None and last is not None:  # its file went away since it was loaded
            contents[article.source] = last.content
            continue
        content, flattened = render_content(article, config.feeds, body or "")
        contents[article.source] = content
        if flattened:
            problems.append(Problem(
                article.path, f"the body nests more than {MAX_DEPTH} levels of HTML; "
                "published as plain text", severity=Severity.WARNING,
            ))  # fmt: skip
    return contents, problems


def _render(
    config: Config, groups: tuple[Group, ...], names: list[str], contents: Mapping[str, Content],
    articles: Mapping[str, Article],
) -> Iterator[tuple[str, bytes]]:  # fmt: skip
    """Each named document, rendered one at a time (a large site's are never all in memory)."""
    from .render import Renderer

    renderer = Renderer(config, contents, articles)
    wanted = set(names)
    for group in groups:
        if group.atom_path in wanted:
            yield group.atom_path, renderer.atom(group)
        if group.rss_path in wanted:
            yield group.rss_path, renderer.rss(group)


def _document_fingerprint(state_fingerprint: str, group: Group, kind: str) -> str:
    """What a document is rendered from: the code and config, its group, its entries' files."""
    digest = hashlib.blake2b(digest_size=16)
    head = (state_fingerprint, kind, group.kind.value, group.name, group.slug, group.page_url)
    digest.update(repr(head).encode())
    for article in group.entries:
        digest.update(f"\0{article.source}\0{article.digest}".encode())
    return digest.hexdigest()


def default_jobs() -> int:
    """Every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _ordered(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda problem: (problem.path, problem.line or 0)))
