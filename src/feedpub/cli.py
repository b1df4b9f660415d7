"""The `feedpub` command: parses options, calls one function, prints its report.

Heavy modules are imported inside the commands, so `feedpub --help` starts fast.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from . import __version__

if TYPE_CHECKING:
    from .build import Report
    from .model import Config, Group

T = TypeVar("T")
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
EXIT_OUTPUT = 5  # the output folder could not be fully written; the next run completes it
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
PROGRESS_FROM = 500  # files: fewer load too fast for a progress bar to help
DEFAULT_CONFIG = "feedpub.toml"
MAX_JOBS = 64
MAX_WAIT = 86400.0  # seconds: a day; longer is a mistake, not a wish


def _seconds(_context: click.Context, parameter: click.Parameter, value: float) -> float:
    """A finite number of seconds from 0 to MAX_WAIT (FloatRange lets nan through)."""
    if not (math.isfinite(value) and 0 <= value <= MAX_WAIT):
        raise click.BadParameter(
            f"expected a number of seconds from 0 to {MAX_WAIT:.0f}, got {value!r}",
            param=parameter,
        )
    return value


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
_verbose_problems_option = click.option(
    "-v", "--verbose", is_flag=True,
    help="List every warning (by default, each kind of warning is shown once, with a count), "
    "and which front-matter key each field of each article came from.",
)  # fmt: skip


class _Main(click.Group):
    """The command group; a Ctrl-C anywhere in any command ends with one line and exit 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("feedpub: interrupted; the next run completes what was begun", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
    "--wait", type=float, callback=_seconds, default=60, show_default=True, metavar="SECONDS",
    help="How long to wait for another build writing to the same folder before giving up "
    f"(exit {EXIT_LOCKED}); 0 to {MAX_WAIT:.0f}.",
)  # fmt: skip
@click.option(
    "--jobs", type=click.IntRange(0, MAX_JOBS), default=0, show_default=True, metavar="N",
    help=f"Processes that parse articles when many changed; 0: one per core. At most {MAX_JOBS}, "
    "and never more than the cores available.",
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
@click.option(
    "-v", "--verbose", is_flag=True,
    help="Also list every document written or removed, and every warning.",
)  # fmt: skip
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
    _articles_folder(articles)
    if out.exists() and not out.is_dir():
        _fail(f"{out}: the output folder is not a folder; expected a folder (or nothing) there")
    cores = default_jobs()
    _delivering(lambda: delivery.check(config, publishing=publishing, source=_source(config_path)))
    options = Options(
        mode=Mode.CHECK if check_only else Mode.WRITE, strict=strict, wait=wait,
        use_cache=not no_cache, jobs=min(jobs, cores) if jobs else cores,
        progress=None if quiet else _progress,
    )  # fmt: skip
    now = _now(now_text, config)
    report = _run(
        lambda: run(articles, out, config, now, options), f"building {articles} into {out}"
    )
    _print_problems(report, quiet, verbose)
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
@_verbose_problems_option
def check(
    articles: Path,
    out: Path,
    config_path: Path | None,
    now_text: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Load and validate the articles and the configuration; write nothing."""
    from .build import Mode, Options
    from .build import build as run

    config = _config(config_path)
    _articles_folder(articles)
    now = _now(now_text, config)
    options = Options(Mode.VALIDATE, use_cache=False)  # check parses every file
    report = _run(lambda: run(articles, out, config, now, options), f"checking {articles}")
    _print_problems(report, quiet, verbose)
    if verbose:
        _print_origins(articles, config)
    if not quiet:
        click.echo(
            f"{_count(report.files, 'file')}, {_count(report.articles, 'valid article')}, "
            f"{report.published} published; "
            f"{_count(len(report.errors), 'error')}, {_count(len(report.warnings), 'warning')}",
            err=True,
        )
    if report.errors:
        sys.exit(EXIT_PROBLEMS)


def _print_origins(articles: Path, config: Config) -> None:
    """Which key each field of each article came from (stdout: it was asked for)."""
    from .errors import printable
    from .load import origins_of, scan

    for file in scan(articles).files:
        origins = origins_of(articles, config, file.source)
        if origins:
            fields = ", ".join(f"{field} ← {key}" for field, key in sorted(origins.items()))
            click.echo(printable(f"{file.path}: {fields}"))


@main.command("list")
@_articles_option
@_out_option
@_config_option
@_now_option
@click.option(
    "--links", is_flag=True,
    help='Print the <link rel="alternate"> tags of every feed, for the site\'s templates.',
)  # fmt: skip
@click.option(
    "--json", "as_json", is_flag=True,
    help="Print the feeds as JSON (kind, name, slug, count, path and address of each document).",
)  # fmt: skip
def list_groups(
    articles: Path,
    out: Path,
    config_path: Path | None,
    now_text: str | None,
    links: bool,
    as_json: bool,
) -> None:
    """Show every feed: its sections and topics, article counts and file paths."""
    from .build import Mode, Options
    from .build import build as run

    if links and as_json:
        _fail("--links and --json cannot be used together; choose one")
    config = _config(config_path)
    _articles_folder(articles)
    now = _now(now_text, config)
    report = _run(
        lambda: run(articles, out, config, now, Options(Mode.VALIDATE)),
        f"listing the feeds of {articles}",
    )
    _print_problems(report, quiet=True)
    if links:
        _print_links(config, report.groups)
    elif as_json:
        _print_json(config, report.groups, out)
    else:
        _print_table(config, report.groups, out)
    if report.errors:
        sys.exit(EXIT_PROBLEMS)


def _documents(config: Config, group: Group) -> list[tuple[str, str, str]]:
    """Each document of `group`: its format, its path in the output folder, its address."""
    from .layout import document_path, feed_url

    paths = [(name, document_path(group, name)) for name in config.feeds.formats]
    return [(name, path, feed_url(config.site, path)) for name, path in paths]


def _print_table(config: Config, groups: tuple[Group, ...], out: Path) -> None:
    from .errors import printable

    rows = [
        (group.kind.value, printable(group.name), str(group.total),
         *(str(out / path) for _name, path, _url in _documents(config, group)))
        for group in groups
    ]  # fmt: skip
    header = ("kind", "name", "articles", *config.feeds.formats)
    widths = [max(len(row[index]) for row in (header, *rows)) for index in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


def _print_links(config: Config, groups: tuple[Group, ...]) -> None:
    from html import escape

    from .layout import FORMATS, title

    for group in groups:
        label = escape(title(config.site, group))
        for name, _path, url in _documents(config, group):
            click.echo(
                f'<link rel="alternate" type="{FORMATS[name].media_type}"'
                f' title="{label}" href="{escape(url)}">'
            )


def _print_json(config: Config, groups: tuple[Group, ...], out: Path) -> None:
    import json

    from .layout import FORMATS, title

    document = {
        "groups": [
            {
                "kind": group.kind.value, "name": group.name, "slug": group.slug,
                "title": title(config.site, group), "count": group.total, "page": group.page_url,
                "feeds": {
                    name: {"type": FORMATS[name].media_type, "path": str(out / path), "url": url}
                    for name, path, url in _documents(config, group)
                },
            }
            for group in groups
        ]
    }  # fmt: skip
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    from .errors import printable

    click.echo(f"feedpub: error: {printable(message)}", err=True)
    sys.exit(code)


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
    import gc
    import signal

    from .delivery.serve import Server, Settings, Watcher
    from .errors import FeedpubError

    gc.enable()  # a long-running process: its rebuilds' garbage is collected (see entry)

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
        report = _run(
            lambda: run(articles, out, config, _now(None, config), options), f"rebuilding {out}"
        )
    except SystemExit:  # _config and _run printed the problem: keep serving what is there
        return None
    _print_problems(report, quiet=False)
    click.echo(_summary(report, check_only=False), err=True)
    return config


def _config(path: Path | None) -> Config:
    """The configuration: `path`, else feedpub.toml when anything is there, else the defaults."""
    from .config import read_config
    from .errors import ConfigError

    try:
        if path is None:
            return read_config(Path(DEFAULT_CONFIG), optional=True)
        return read_config(path)
    except ConfigError as error:
        _fail(str(error))


def _articles_folder(path: Path) -> None:
    """Exit 2 unless `path` is a folder that can be listed; before anything is created."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            _fail(
                f"{path}: the articles folder is a symbolic link to something that does not exist"
            )
        _fail(f"{path}: the articles folder does not exist")
    except OSError as error:
        _fail(f"{path}: the articles folder cannot be read: {_reason(error)}")
    if not stat.S_ISDIR(mode):
        what = "a file" if stat.S_ISREG(mode) else "not a folder"
        _fail(f"{path}: the articles folder is {what}; expected a folder of *.md files")
    try:
        with os.scandir(path):
            pass
    except OSError as error:
        _fail(f"{path}: the articles folder cannot be read: {_reason(error)}")


def _reason(error: OSError) -> str:
    return (error.strerror or str(error) or type(error).__name__).lower()


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


def _run(action: Callable[[], Report], doing: str) -> Report:
    """The report of `action`; each error it raises becomes one message and an exit code.

    `doing` says what was being done, for an OSError that names no file.
    """
    from .errors import FeedpubError, LockedError, OutputError, printable

    try:
        report: Report = action()
    except LockedError as error:
        click.echo(f"feedpub: {printable(str(error))}", err=True)
        sys.exit(EXIT_LOCKED)
    except OutputError as error:
        _fail(
            f"{error}; the output folder could not be fully written (each document in it is "
            "whole, old or new); the next run completes it",
            EXIT_OUTPUT,
        )
    except FeedpubError as error:
        _fail(str(error))
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        if error.filename is not None:
            _fail(f"{os.fsdecode(error.filename)}: {reason} (while {doing})")
        _fail(f"{doing}: {reason}")
    return report


def _print_problems(report: Report, quiet: bool, verbose: bool = False) -> None:
    """Every error; each kind of warning once, with how many more there are (all with -v).

    Linear in the number of problems: a large migration reports thousands.
    """
    from .errors import Severity

    counts: dict[tuple[Severity, str, str], int] = {}
    paths: dict[tuple[Severity, str, str], set[str]] = {}
    if not quiet and not verbose:
        for problem in report.problems:
            if problem.severity is Severity.WARNING:
                key = (problem.severity, problem.field or "", problem.kind)
                counts[key] = counts.get(key, 0) + 1
                paths.setdefault(key, set()).add(problem.path)
    shown: set[tuple[Severity, str, str]] = set()
    for problem in report.problems:
        if problem.severity is not Severity.WARNING or verbose:
            click.echo(str(problem), err=True)
            continue
        key = (problem.severity, problem.field or "", problem.kind)
        if quiet or key in shown:
            continue
        shown.add(key)
        more, files = counts[key] - 1, len(paths[key])
        if not more:
            click.echo(str(problem), err=True)
        elif files == more + 1:
            click.echo(
                f"{problem} (and {_count(more, 'more file')} like it; -v lists all)", err=True
            )
        else:
            click.echo(
                f"{problem} (and {more} more like it, in {_count(files, 'file')} in all; "
                "-v lists all)",
                err=True,
            )


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


def entry() -> None:
    """The `feedpub` program: :data:`main`, in a process that ends when it returns.

    The cyclic garbage collector stays off for the whole process. A build turns it off
    while it runs (see :func:`feedpub.build.build`) and, when it was on before, on again
    at the end, when its first collection walks every object the build made (half a
    second at 100,000 articles) just before the process prints its report and exits.
    """
    import gc

    gc.disable()
    main()
