"""The `feedpub` command: parses options, calls one function, prints its report.

Heavy modules are imported inside the commands, so `feedpub --help` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from . import __version__

if TYPE_CHECKING:
    from .build import Report
    from .model import Config

T = TypeVar("T")
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
PROGRESS_FROM = 500  # files: fewer load too fast for a progress bar to help
DEFAULT_CONFIG = "feedpub.toml"

_articles_option = click.option(
    "--articles", "articles", type=click.Path(path_type=Path), default="articles",
    show_default=True,
    help="Folder of article files (*.md at any depth).",
)  # fmt: skip
_out_option = click.option(
    "--out", "out", type=click.Path(path_type=Path), default="feeds", show_default=True,
    help="Folder the feeds are written to.",
)  # fmt: skip
_config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None,
    help=f"Site configuration (TOML). Default: {DEFAULT_CONFIG} when present, "
    "else built-in defaults.",
)  # fmt: skip
_now_option = click.option(
    "--now", "now_text", metavar="DATETIME", default=None,
    help="Build as of this time (drafts and future-dated articles are judged against it). "
    "Without a zone, the site's time zone applies. Default: the clock.",
)  # fmt: skip
_quiet_option = click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing but errors (for cron)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedpub")
def main() -> None:
    """Publish Markdown articles as Atom 1.0 and RSS 2.0 feeds, by section and topic."""


@main.command()
@_articles_option
@_out_option
@_config_option
@_now_option
@click.option("--strict", is_flag=True, help="Write nothing if any article has an error.")
@click.option(
    "--check", "check_only", is_flag=True,
    help="Write nothing; exit 1 if the feeds on disk differ from what a build would write.",
)  # fmt: skip
@click.option(
    "--wait", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
    help="How long to wait for another build writing to the same folder before giving up "
    f"(exit {EXIT_LOCKED}).",
)  # fmt: skip
@click.option(
    "--jobs", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
    help="Processes that parse articles when many changed; 0: one per core.",
)  # fmt: skip
@click.option(
    "--no-cache", is_flag=True,
    help="Read and parse every article and render every document, trusting nothing cached.",
)  # fmt: skip
@click.option(
    "--publish", "publishing", is_flag=True,
    help="Then upload what changed to the [publish] bucket (hubs are pinged after the upload).",
)  # fmt: skip
@click.option("--no-ping", is_flag=True, help="Tell no WebSub hub (what is pending stays).")
@_quiet_option
@click.option("-v", "--verbose", is_flag=True, help="Also list every document written or removed.")
def build(
    articles: Path,
    out: Path,
    config_path: Path | None,
    now_text: str | None,
    strict: bool,
    check_only: bool,
    wait: float,
    jobs: int,
    no_cache: bool,
    publishing: bool,
    no_ping: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Load the articles, group them and write every feed that changed."""
    from .build import Mode, Options, default_jobs
    from .build import build as run
    from .delivery import command as delivery

    config = _config(config_path)
    _delivering(lambda: delivery.check(config, publishing=publishing, source=_source(config_path)))
    options = Options(
        mode=Mode.CHECK if check_only else Mode.WRITE, strict=strict, wait=wait,
        use_cache=not no_cache, jobs=jobs or default_jobs(),
        progress=None if quiet else _progress,
    )  # fmt: skip
    report = _run(lambda: run(articles, out, config, _now(now_text, config), options))
    _print_problems(report, quiet)
    if verbose:
        for name in report.written:
            click.echo(f"wrote {out / name}", err=True)
        for name in report.removed:
            click.echo(f"removed {out / name}", err=True)
    if check_only:
        for name in report.out_of_date:
            click.echo(f"{out / name}: out of date", err=True)
    if not quiet:
        click.echo(_summary(report, check_only), err=True)
    delivered = 0
    if not check_only and not report.held_back:
        delivered = _delivering(lambda: delivery.deliver(
            out, config, report.written, publishing=publishing, ping=not no_ping, wait=wait,
            quiet=quiet, verbose=verbose, source=_source(config_path),
        ))  # fmt: skip
    if report.errors or report.out_of_date:
        sys.exit(EXIT_PROBLEMS)
    sys.exit(delivered)


@main.command()
@_articles_option
@_out_option
@_config_option
@_now_option
@_quiet_option
def check(
    articles: Path, out: Path, config_path: Path | None, now_text: str | None, quiet: bool
) -> None:
    """Load and validate the articles and the configuration; write nothing."""
    from .build import Mode, Options
    from .build import build as run

    config = _config(config_path)
    now = _now(now_text, config)
    report = _run(lambda: run(articles, out, config, now, Options(Mode.VALIDATE)))
    _print_problems(report, quiet)
    if not quiet:
        click.echo(
            f"{_count(report.files, 'file')}, {_count(report.articles, 'valid article')}, "
            f"{report.published} published; "
            f"{_count(len(report.errors), 'error')}, {_count(len(report.warnings), 'warning')}",
            err=True,
        )
    if report.errors:
        sys.exit(EXIT_PROBLEMS)


@main.command("list")
@_articles_option
@_out_option
@_config_option
@_now_option
def list_groups(articles: Path, out: Path, config_path: Path | None, now_text: str | None) -> None:
    """Show every feed: its sections and topics, article counts and file paths."""
    from .build import Mode, Options
    from .build import build as run

    config = _config(config_path)
    report = _run(
        lambda: run(articles, out, config, _now(now_text, config), Options(Mode.VALIDATE))
    )
    _print_problems(report, quiet=True)
    rows = [(group.kind.value, group.name, str(group.total), str(out / group.atom_path),
             str(out / group.rss_path)) for group in report.groups]  # fmt: skip
    header = ("kind", "name", "articles", "atom", "rss")
    widths = [max(len(row[index]) for row in (header, *rows)) for index in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
    if report.errors:
        sys.exit(EXIT_PROBLEMS)


def _fail(message: str) -> NoReturn:
    click.echo(f"feedpub: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _config(path: Path | None) -> Config:
    from .config import default_config, load_config
    from .errors import ConfigError

    if path is None:
        path = Path(DEFAULT_CONFIG)
        if not path.is_file():
            return default_config()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _fail(f"{path}: the configuration file does not exist")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"{path}: cannot be read: {error}")
    try:
        return load_config(text, str(path))
    except ConfigError as error:
        _fail(str(error))


def _now(text: str | None, config: Config) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    from .dates import parse_date

    try:
        return parse_date(text, config.site.timezone)
    except ValueError as error:
        _fail(f"--now: {text!r} {error}; expected e.g. 2021-03-30T09:15:00-04:00")


def _progress(paths: list[T]) -> Iterator[T]:
    """A progress bar over a long list of files, when a person is watching stderr."""
    if len(paths) < PROGRESS_FROM or not sys.stderr.isatty():
        yield from paths
        return
    with click.progressbar(paths, label="Reading articles", file=sys.stderr) as bar:
        yield from bar


def _run(action: Callable[[], Report]) -> Report:
    from .errors import FeedpubError, LockedError

    try:
        report: Report = action()
    except LockedError as error:
        click.echo(f"feedpub: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    except FeedpubError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{error.filename or ''}: {error.strerror}")
    return report


def _print_problems(report: Report, quiet: bool) -> None:
    for problem in report.problems:
        if quiet and problem in report.warnings:
            continue
        click.echo(str(problem), err=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _summary(report: Report, check_only: bool) -> str:
    documents = 2 * report.feeds
    head = (
        f"{_count(report.published, 'article')} published in {_count(documents, 'document')} "
        f"({_count(report.feeds, 'feed')})"
    )
    if report.held_back:
        action = "nothing written (--strict)"
    elif check_only:
        action = f"{len(report.out_of_date)} out of date"
    else:
        action = (
            f"{len(report.written)} written, {len(report.unchanged)} unchanged, "
            f"{len(report.removed)} removed"
        )
    tail = f"{_count(len(report.errors), 'error')}, {_count(len(report.warnings), 'warning')}"
    files = f"{_count(report.files, 'file')} ({report.parsed} parsed), {report.skipped} skipped"
    return f"feedpub: {head}: {action}; {files}; {tail}"


@main.command()
@_out_option
@_config_option
@click.option("--no-ping", is_flag=True, help="Tell no WebSub hub (what is pending stays).")
@click.option(
    "--wait", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
    help=f"How long to wait for a build writing to the folder (exit {EXIT_LOCKED}).",
)  # fmt: skip
@_quiet_option
@click.option("-v", "--verbose", is_flag=True, help="Also list every object uploaded or deleted.")
def publish(
    out: Path, config_path: Path | None, no_ping: bool, wait: float, quiet: bool, verbose: bool
) -> None:
    """Upload the output folder's changed documents to the [publish] bucket, then ping hubs."""
    from .delivery import command as delivery

    config = _config(config_path)
    source = _source(config_path)
    _delivering(lambda: delivery.check(config, publishing=True, source=source))
    if not out.is_dir():
        _fail(f"{out}: the output folder does not exist; run feedpub build first")
    sys.exit(_delivering(lambda: delivery.deliver(
        out, config, (), publishing=True, ping=not no_ping, wait=wait, quiet=quiet,
        verbose=verbose, source=source,
    )))  # fmt: skip


def _source(path: Path | None) -> str:
    """The configuration file as messages name it."""
    return str(path) if path is not None else DEFAULT_CONFIG


def _delivering(action: Callable[[], T]) -> T:
    """Run a delivery step; an unusable configuration or a held lock ends the command."""
    from .errors import FeedpubError, LockedError

    try:
        return action()
    except LockedError as error:
        click.echo(f"feedpub: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    except FeedpubError as error:
        _fail(str(error))
