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
    quiet: bool,
    verbose: bool,
) -> None:
    """Load the articles, group them and write every feed that changed."""
    from .build import Mode, Options, default_jobs
    from .build import build as run

    config = _config(config_path)
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
    if report.errors or report.out_of_date:
        sys.exit(EXIT_PROBLEMS)


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
    from .layout import document_path

    formats = config.feeds.formats
    rows = [(group.kind.value, group.name, str(group.total),
             *(str(out / document_path(group, name)) for name in formats))
            for group in report.groups]  # fmt: skip
    header = ("kind", "name", "articles", *formats)
    widths = [max(len(row[index]) for row in (header, *rows)) for index in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
    if report.errors:
        sys.exit(EXIT_PROBLEMS)


# -- feedpub serve ------------------------------------------------------------------------


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="Address to listen on (0.0.0.0 or :: for every interface).",
)  # fmt: skip
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
    help="Port to listen on; 0 picks a free one.",
)  # fmt: skip
@_out_option
@_config_option
@click.option(
    "--watch", is_flag=True,
    help="Build once, then again whenever an article or the configuration changes "
    "(needs feedpub[serve]).",
)  # fmt: skip
@_articles_option
@click.option("-q", "--quiet", is_flag=True, help="Log no requests, only errors and rebuilds.")
def serve(
    host: str,
    port: int,
    out: Path,
    config_path: Path | None,
    watch: bool,
    articles: Path,
    quiet: bool,
) -> None:
    """Serve the output folder as a static web server would, for preview and small sites."""
    import signal

    from .delivery.serve import Server, Settings, Watcher
    from .errors import FeedpubError

    config = _config(config_path)
    watcher = None
    if watch:
        if not articles.is_dir():
            _fail(f"{articles}: the articles folder does not exist")

        def rebuild() -> None:
            rebuilt = _serve_rebuild(articles, out, config_path)
            if rebuilt is not None:
                server.settings = Settings.of(rebuilt)

        try:
            watcher = Watcher(articles, config_path or Path(DEFAULT_CONFIG), rebuild)
        except FeedpubError as error:
            _fail(str(error))
        config = _serve_rebuild(articles, out, config_path) or config
    if not out.is_dir():
        _fail(f"{out}: the output folder does not exist; run feedpub build first, or use --watch")
    try:
        server = Server((host, port), out, Settings.of(config), log=not quiet)
    except OSError as error:
        _fail(f"cannot listen on {host}:{port}: {error.strerror or error}")

    def stop(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if watcher is not None:
        watcher.start()
    click.echo(f"Serving {out} at {server.url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("feedpub: stopped", err=True)
    finally:
        if watcher is not None:
            watcher.stop()
        server.server_close()


def _serve_rebuild(articles: Path, out: Path, config_path: Path | None) -> Config | None:
    """What `feedpub build` does with its default options; a failure is printed, not raised.

    Returns the configuration the build used, or None when it could not run.
    """
    from .build import Mode, Options, default_jobs
    from .build import build as run

    try:
        config = _config(config_path)
        options = Options(mode=Mode.WRITE, jobs=default_jobs())
        report = _run(lambda: run(articles, out, config, _now(None, config), options))
    except SystemExit:  # _config and _run printed the problem: keep serving what is there
        return None
    _print_problems(report, quiet=False)
    click.echo(_summary(report, check_only=False), err=True)
    return config


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
    documents = report.documents
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
