"""Walk the articles folder, read what changed, and parse it; every problem is collected.

With :mod:`feedpub.write`, the only module that touches the file system. A
file whose size, modification time and inode match the parse cache is not
read at all; a file whose bytes match its cached digest is read but not
parsed. Only front matter is kept in memory: bodies are read again, by
:func:`read_bodies`, for the few articles that appear in a feed. Many files
to parse are spread over every core.
"""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .errors import Problem, UsageError
from .model import MAX_ARTICLE_BYTES, Article, Config, Listed
from .state import Cached, Listing, Stat, article_from, article_record

PARALLEL_FROM = 1000  # files to parse: fewer are parsed faster than processes start


class File(NamedTuple):
    """One article file: its key (path under the articles folder), its path, and its stat."""

    source: str
    path: str
    stat: Stat


@dataclass(frozen=True, slots=True)
class Loaded:
    """Every article that parsed, every problem found, and what the cache may keep.

    `articles` holds cached listings and freshly parsed articles. `broken`
    maps the key of each file that exists but gave no article, for an error,
    to its name in messages. `fresh` holds a cache entry for every article
    that parsed without any problem.
    """

    articles: tuple[Listed, ...]
    problems: tuple[Problem, ...]
    files: int
    broken: dict[str, str] = field(default_factory=dict)
    fresh: dict[str, Cached] = field(default_factory=dict)
    parsed: int = 0


Progress = Callable[[list[File]], Iterable[File]]


class Scan(NamedTuple):
    """The article files found, and the folders and names that could not be read."""

    files: list[File]
    problems: list[Problem]
    unreadable: list[str]  # keys of folders that could not be listed (their files are unknown)


def scan(root: Path) -> Scan:
    """Every `*.md` file under `root`, skipping names that start with `.` or `_`.

    Symbolic links are followed only when they stay inside `root`, after the
    real folders and files, so a file's key does not depend on the order of a
    listing; a folder is never entered twice, so a link loop ends; a file
    reached both directly and through a link is read once. FIFOs, sockets and
    devices are ignored; a folder that cannot be listed and a name that is not
    UTF-8 are reported. This runs on every build over every file, so it does no
    more than one `stat` per file.
    """
    if not root.is_dir():
        raise UsageError(f"{root}: the articles folder does not exist")
    scanner = _Scanner(root.resolve())
    scanner.walk(str(root), "")
    while scanner.linked_folders:
        scanner.walk(*scanner.linked_folders.pop(0))
    found = scanner.found
    if scanner.linked:  # a link to a file that is also found directly adds nothing
        direct = {os.path.realpath(file.path) for file in found}
        for file in scanner.linked:
            real = os.path.realpath(file.path)
            if real not in direct:
                direct.add(real)
                found.append(file)
    return Scan(found, scanner.problems, scanner.unreadable)


class _Scanner:
    """The state of one walk over the articles folder."""

    def __init__(self, real_root: Path) -> None:
        self.real_root = real_root
        self.folders_seen: set[tuple[int, int]] = set()
        self.found: list[File] = []
        self.linked: list[File] = []
        self.linked_folders: list[tuple[str, str]] = []
        self.problems: list[Problem] = []
        self.unreadable: list[str] = []

    def walk(self, folder: str, prefix: str) -> None:
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in self.folders_seen:
                return
            self.folders_seen.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(folder))
        except OSError as error:
            self.problems.append(Problem(folder, f"the folder cannot be read: {error.strerror}"))
            self.unreadable.append(prefix)
            return
        # The common case, a plain article file, is handled inline: this loop runs
        # over every file on every build, and the stat is most of its cost.
        found, is_regular, new = self.found, stat_module.S_ISREG, tuple.__new__
        for entry in entries:
            name = entry.name
            if name[0] in "._":
                continue
            if name.endswith(".md") and name.isascii() and not entry.is_symlink():
                try:
                    info = entry.stat()
                except OSError:
                    continue
                if is_regular(info.st_mode):
                    stat = new(
                        Stat, (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                    )
                    found.append(new(File, (prefix + name, entry.path, stat)))
                    continue
            self.visit(entry, prefix)

    def visit(self, entry: os.DirEntry[str], prefix: str) -> None:
        name = entry.name
        link = entry.is_symlink()
        if link and not Path(entry.path).resolve().is_relative_to(self.real_root):
            return
        try:
            if entry.is_dir():
                if link:
                    self.linked_folders.append((entry.path, f"{prefix}{name}/"))
                else:
                    self.walk(entry.path, f"{prefix}{name}/")
                return
            if not name.endswith(".md"):
                return
            info = entry.stat()
        except OSError:
            return
        if not stat_module.S_ISREG(info.st_mode):
            return
        if _undecodable(name):
            path = entry.path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            self.problems.append(Problem(path, "the file name is not UTF-8; expected a UTF-8 name"))
            return
        stat = Stat(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        (self.linked if link else self.found).append(File(prefix + name, entry.path, stat))


def _undecodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogate escapes
        return True
    return False


def article_files(root: Path) -> list[File]:
    """Every article file under `root` (see :func:`scan`)."""
    return scan(root).files


def load_articles(
    root: Path,
    config: Config,
    *,
    max_bytes: int = MAX_ARTICLE_BYTES,
    cache: Mapping[str, Cached] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    files: list[File] | None = None,
) -> Loaded:
    """Read and parse every article under `root`, reusing `cache` for unchanged files."""
    cache = cache or {}
    files = article_files(root) if files is None else files
    articles: list[Listed] = []
    problems: list[Problem] = []
    broken: dict[str, str] = {}
    fresh: dict[str, Cached] = {}
    parsed = 0
    to_parse: list[File] = []
    for file in files:
        cached = cache.get(file.source)
        if cached is not None and cached.stat == file.stat:
            if cached.listing.path != file.path:  # the articles folder spelled another way
                cached.listing.path = file.path
            articles.append(cached.listing)
            fresh[file.source] = cached
        else:
            to_parse.append(file)
    work = [(file, cache.get(file.source)) for file in to_parse]
    for file, outcome in _parse_all(work, config, max_bytes, progress, jobs):
        if outcome is None:  # touched, not changed: the cached parse stands, with the new stat
            listing = cache[file.source].listing
            listing.path = file.path
            articles.append(listing)
            fresh[file.source] = Cached(file.stat, listing)
            continue
        article, found = outcome
        problems.extend(found)
        if article is None:
            broken[file.source] = file.path
            continue
        parsed += 1
        articles.append(article)
        if not found:  # an article with problems is not cached: they are reported each time
            listing = article if isinstance(article, Listing) else Listing.of(article)
            fresh[file.source] = Cached(file.stat, listing)
    return Loaded(tuple(articles), tuple(problems), len(files), broken, fresh, parsed)


def read_bodies(root: Path, articles: Iterable[Article]) -> dict[str, str]:
    """The Markdown body of each article, read again from its file, by source."""
    from .parse import read_body

    bodies = {}
    for article in articles:
        raw = _read(root / article.source)
        if raw is not None:
            bodies[article.source] = read_body(raw, article.path)
    return bodies


def read_articles(root: Path, config: Config, listings: Iterable[Listed]) -> dict[str, Article]:
    """The whole articles (bodies included) behind listings, read again from their files.

    A file that can no longer be read or parsed is left out: its caller keeps
    what it had.
    """
    from .parse import parse_article

    articles = {}
    for listing in listings:
        raw = _read(root / listing.source)
        parsed = None if raw is None else parse_article(raw, listing.path, config, listing.source)
        if parsed is not None and parsed.article is not None:
            articles[listing.source] = parsed.article
    return articles


def _read(path: Path) -> bytes | None:
    """A file's bytes read again after loading; None when it can no longer be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


Work = tuple[File, Cached | None]
# What parsing one file gave: the article (as a listing when it has no problem
# and can be cached; None when it cannot be published) and its problems; or
# None when the file's bytes are those its cache entry was made from.
Outcome = tuple[Article | Listing | None, tuple[Problem, ...]] | None
_worker_config: list[tuple[Config, int, bool]] = []
# Up to this many files to parse, their articles are kept whole (a few MB), so the
# entries need not be read again; above it, only listings (a large archive's
# articles would not fit the memory a cron job should take).
WHOLE_UP_TO = 20_000


def _parse_all(
    work: list[Work], config: Config, max_bytes: int, progress: Progress | None, jobs: int
) -> Iterator[tuple[File, Outcome]]:
    files = [file for file, _ in work]
    paced = progress(files) if progress else files
    whole = len(work) <= WHOLE_UP_TO
    import multiprocessing

    forking = "fork" in multiprocessing.get_all_start_methods()
    if jobs > 1 and len(work) >= PARALLEL_FROM and forking:
        _worker_config[:] = [(config, max_bytes, whole)]  # inherited by the forked workers
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.imap(_parse_in_worker, work, chunksize=64)
            for file, result in zip(paced, results, strict=True):
                if result is None:
                    yield file, None
                    continue
                kind, record, found = result
                problems = tuple(Problem.from_record(record) for record in found)
                article = (
                    None if record is None
                    else Listing(record) if kind == "listing"
                    else article_from(record)
                )  # fmt: skip
                yield file, (article, problems)
        return
    cached = dict(work)
    for file in paced:
        yield file, _parse_file(file, cached[file], config, max_bytes, whole)


def _parse_in_worker(
    item: Work,
) -> tuple[str, tuple[Any, ...] | None, list[tuple[Any, ...]]] | None:
    """Parse one file in a worker; plain tuples and bytes travel back faster than objects."""
    config, max_bytes, whole = _worker_config[0]
    file, cached = item
    outcome = _parse_file(file, cached, config, max_bytes, whole)
    if outcome is None:
        return None
    article, found = outcome
    records = [problem.record() for problem in found]
    if isinstance(article, Listing):
        return "listing", article.record(), records
    return "article", (None if article is None else article_record(article)), records


def _parse_file(
    file: File, cached: Cached | None, config: Config, max_bytes: int, whole: bool = False
) -> Outcome:
    if file.stat.size > max_bytes:
        message = (
            f"the file is {file.stat.size} bytes; expected at most {max_bytes} (max_article_bytes)"
        )
        return None, (Problem(file.path, message),)
    try:
        with open(file.path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        return None, (Problem(file.path, f"cannot be read: {error.strerror}"),)
    from .parse import digest, parse_article  # here: a build with nothing to parse skips them

    if cached is not None and cached.listing.digest == digest(raw):
        return None
    parsed = parse_article(raw, file.path, config, file.source, keep_body=False)
    if parsed.article is not None and not parsed.problems:
        return (parsed.article if whole else Listing.of(parsed.article)), ()
    return parsed.article, parsed.problems
