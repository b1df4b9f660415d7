"""Orchestration: load → group → render → write, returning a report.

The clock and the folders come in as arguments; the report goes out to the
command line, which decides what to print and which exit code to use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from .content import Content, render_content
from .errors import Problem, Severity
from .group import Plan, plan
from .load import Progress, load_articles
from .model import Config, Group
from .render import render_atom, render_rss
from .state import State, in_feeds, keep_last_good
from .write import differs, locked, read_state, stale, write_documents

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


def render_documents(config: Config, feeds: Plan) -> dict[str, bytes]:
    """Every document of the plan, by path relative to the output folder."""
    contents: dict[str, Content] = {}
    for group in feeds.groups:
        for article in group.entries:
            if article.id not in contents:
                contents[article.id] = render_content(article, config.feeds)
    documents: dict[str, bytes] = {}
    for group in feeds.groups:
        documents[group.atom_path] = render_atom(config, group, contents)
        documents[group.rss_path] = render_rss(config, group, contents)
    return documents


def build(
    articles: Path,
    out: Path,
    config: Config,
    now: datetime,
    *,
    mode: Mode = Mode.WRITE,
    strict: bool = False,
    wait: float = DEFAULT_WAIT,
    progress: Progress | None = None,
) -> Report:
    """Build the feeds of the articles under `articles` into `out`, as of `now`."""
    if mode is Mode.WRITE:
        with locked(out, wait):
            return _build(articles, out, config, now, mode=mode, strict=strict, progress=progress)
    return _build(articles, out, config, now, mode=mode, strict=strict, progress=progress)


def _build(
    articles: Path, out: Path, config: Config, now: datetime, *, mode: Mode, strict: bool,
    progress: Progress | None,
) -> Report:  # fmt: skip
    loaded = load_articles(
        articles, config, max_bytes=config.build.max_article_bytes, progress=progress
    )
    previous = read_state(out) if mode is not Mode.VALIDATE else State()
    kept, notes = keep_last_good(previous, loaded.broken)
    feeds = plan([*loaded.articles, *kept], config, now, preferred=previous.articles.keys())
    problems = _ordered((*loaded.problems, *notes, *feeds.problems))
    report = Report(
        problems=problems, files=loaded.files, articles=len(loaded.articles),
        published=len(feeds.published), groups=feeds.groups,
    )  # fmt: skip
    if mode is Mode.VALIDATE:
        return report
    if strict and report.errors:
        return replace(report, held_back=True)
    documents = render_documents(config, feeds)
    if mode is Mode.CHECK:
        changed = [name for name, data in sorted(documents.items()) if differs(out / name, data)]
        return replace(report, out_of_date=(*changed, *stale(out, previous, documents)))
    in_any_feed = (article for group in feeds.groups for article in group.entries)
    state = State(tuple(documents), in_feeds(in_any_feed))
    written = write_documents(out, documents, previous, state)
    return replace(
        report, written=written.written, unchanged=written.unchanged, removed=written.removed
    )


def _ordered(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda problem: (problem.path, problem.line or 0)))
