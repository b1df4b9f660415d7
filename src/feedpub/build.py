"""Orchestration: load → group → render → write, returning a report.

The clock and the folders come in as arguments; the report goes out to the
command line, which decides what to print and which exit code to use.

A rerun does as little as it can: files whose stat matches the parse cache
are not read, documents whose inputs have the fingerprint recorded for them
(and whose files are as feedpub left them) are not rendered, and only
documents whose bytes changed are written.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from .content import Content, render_content
from .errors import Problem, Severity
from .group import is_published, plan
from .load import Progress, load_articles, read_bodies
from .model import Article, Config, Group
from .state import (
    Document,
    Rendered,
    State,
    by_source,
    fingerprint,
    keep_last_good,
    usable,
)  # fmt: skip
from .write import differs, file_stat, locked, read_state, stale, write_documents, write_state

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
    parsed: int = 0
    rendered: int = 0

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
    if options.mode is Mode.WRITE:
        with locked(out, options.wait):
            return _build(articles, out, config, now, options)
    return _build(articles, out, config, now, options)


def _build(articles: Path, out: Path, config: Config, now: datetime, options: Options) -> Report:
    previous = read_state(out) if options.mode is not Mode.VALIDATE else State()
    current = fingerprint(config)
    trusted = usable(previous, current, use_cache=options.use_cache)
    loaded = load_articles(
        articles, config, max_bytes=config.build.max_article_bytes, cache=trusted.parsed,
        progress=options.progress, jobs=options.jobs,
    )  # fmt: skip
    kept, notes = keep_last_good(previous, loaded.broken)
    feeds = plan([*loaded.articles, *kept], config, now, preferred=previous.kept.keys())
    report = Report(
        problems=_ordered((*loaded.problems, *notes, *feeds.problems)), files=loaded.files,
        articles=len(loaded.articles), published=len(feeds.published), groups=feeds.groups,
        parsed=loaded.parsed,
    )  # fmt: skip
    if options.mode is Mode.VALIDATE:
        return report
    if options.strict and report.errors:
        return replace(report, held_back=True)

    prints = {
        path: _document_fingerprint(current, group, kind)
        for group in feeds.groups
        for kind, path in zip(FORMATS, (group.atom_path, group.rss_path), strict=True)
    }
    stale_prints = [
        name for name, value in prints.items() if not _current(out, trusted, name, value)
    ]
    needed = {
        article.source: article for name in stale_prints for article in _entries(feeds.groups, name)
    }
    in_feeds = by_source(article for group in feeds.groups for article in group.entries)
    contents = _contents(
        articles, config, in_feeds, needed=needed, trusted=trusted, previous=previous
    )
    rendered = _render(config, feeds.groups, stale_prints, contents)
    if options.mode is Mode.CHECK:
        changed = [name for name, data in sorted(rendered.items()) if differs(out / name, data)]
        return replace(report, out_of_date=(*changed, *stale(out, previous, prints)))

    written = write_documents(out, rendered, prints, previous)
    documents = {}
    for name, value in prints.items():
        found = file_stat(out / name)
        if found is not None:
            documents[name] = Document(value, *found)
    cacheable = {
        source: cached for source, cached in loaded.fresh.items()
        if is_published(cached.article, now)
    }  # fmt: skip
    write_state(out, State(
        fingerprint=current, documents=documents, kept=in_feeds,
        contents={key: Rendered(in_feeds[key].digest, contents[key]) for key in in_feeds},
        parsed=cacheable,
    ))  # fmt: skip
    return replace(
        report, written=written.written, unchanged=written.unchanged, removed=written.removed,
        rendered=len(rendered),
    )  # fmt: skip


def _current(out: Path, trusted: State, name: str, value: str) -> bool:
    """True when the document was rendered from the same inputs and its file is untouched."""
    document = trusted.documents.get(name)
    return (
        document is not None and document.fingerprint == value
        and file_stat(out / name) == (document.size, document.mtime_ns)
    )  # fmt: skip


def _entries(groups: tuple[Group, ...], name: str) -> tuple[Article, ...]:
    for group in groups:
        if name in (group.atom_path, group.rss_path):
            return group.entries
    return ()


def _contents(
    root: Path, config: Config, in_feeds: Mapping[str, Article], *,
    needed: Mapping[str, Article], trusted: State, previous: State,
) -> dict[str, Content]:  # fmt: skip
    """The rendered content of every article in a feed: cached where still valid, else rendered."""
    contents: dict[str, Content] = {}
    missing: list[Article] = []
    for source, article in in_feeds.items():
        cached = trusted.contents.get(source) or (
            previous.contents.get(source) if article.body == "" and source not in needed else None
        )
        if cached is not None and cached.digest == article.digest:
            contents[source] = cached.content
        else:
            missing.append(article)
    bodies = read_bodies(root, [article for article in missing if not article.body])
    for article in missing:
        if article.body or article.source in bodies:
            contents[article.source] = render_content(
                article, config.feeds, bodies.get(article.source)
            )
        elif (last := previous.contents.get(article.source)) is not None:
            contents[article.source] = last.content  # its file broke after the load: keep the last
    return contents


def _render(
    config: Config, groups: tuple[Group, ...], names: list[str], contents: Mapping[str, Content]
) -> dict[str, bytes]:
    from .render import render_atom, render_rss

    wanted = set(names)
    documents: dict[str, bytes] = {}
    for group in groups:
        if group.atom_path in wanted:
            documents[group.atom_path] = render_atom(config, group, contents)
        if group.rss_path in wanted:
            documents[group.rss_path] = render_rss(config, group, contents)
    return documents


def _document_fingerprint(state_fingerprint: str, group: Group, kind: str) -> str:
    """What a document is rendered from: the code and config, its group, its entries' files."""
    digest = hashlib.blake2b(digest_size=16)
    head = (state_fingerprint, kind, group.kind.value, group.name, group.slug, group.page_url)
    digest.update(repr(head).encode())
    for article in group.entries:
        digest.update(f"\0{article.source}\0{article.digest}\0{article.path}".encode())
    return digest.hexdigest()


def default_jobs() -> int:
    """Every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _ordered(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda problem: (problem.path, problem.line or 0)))
