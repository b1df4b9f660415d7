"""Walk the articles folder, read what changed, and parse it; every problem is collected.

With :mod:`feedpub.write`, the only module that touches the file system. A
file whose size, modification time and inode match the parse cache is not
read at all; a file whose bytes match its cached digest is read but not
parsed. Only front matter is kept in memory: bodies are read again, by
:func:`read_bodies`, for the few articles that appear in a feed. Many files
to parse are spread over every core.
"""

from __future__ import annotations

import multiprocessing
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import Problem, UsageError
from .model import Article, Config
from .parse import Parsed, digest, parse_article, read_body
from .state import Cached, Stat

MAX_ARTICLE_BYTES = 4 * 1024 * 1024
PARALLEL_FROM = 1000  # files to parse: fewer are parsed faster than processes start


@dataclass(frozen=True, slots=True)
class File:
    """One article file: its key (path under the articles folder), its path, and its stat."""

    source: str
    path: Path
    stat: Stat


@dataclass(frozen=True, slots=True)
class Loaded:
    """Every article that parsed, every problem found, and what the cache may keep.

    `broken` maps the key of each file that exists but gave no article, for
    an error, to its name in messages. `fresh` holds a cache entry for each
    article that parsed without any problem.
    """

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    files: int
    broken: dict[str, str] = field(default_factory=dict)
    fresh: dict[str, Cached] = field(default_factory=dict)
    parsed: int = 0


Progress = Callable[[list[File]], Iterable[File]]


def article_files(root: Path) -> list[File]:
    """Every `*.md` file under `root`, in a stable order, skipping names that start with `.` or `_`.

    Symbolic links are followed only when they stay inside `root`; a folder
    is never entered twice, so a link loop ends; and a file reached twice
    (through a link) is read once. FIFOs, sockets and devices are ignored.
    """
    real_root = root.resolve()
    seen: set[tuple[int, int]] = set()
    found: list[File] = []

    def walk(folder: Path, prefix: str) -> None:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as entries:
            children = sorted(entries, key=lambda entry: entry.name)
        for entry in children:
            name = entry.name
            if name[0] in "._":
                continue
            if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(real_root):
                continue
            try:
                entry_stat = entry.stat()
            except OSError:
                continue
            if stat_module.S_ISDIR(entry_stat.st_mode):
                walk(Path(entry.path), f"{prefix}{name}/")
            elif name.endswith(".md") and stat_module.S_ISREG(entry_stat.st_mode):
                identity = (entry_stat.st_dev, entry_stat.st_ino)
                if identity not in seen:
                    seen.add(identity)
                    stat = Stat(entry_stat.st_size, entry_stat.st_mtime_ns, entry_stat.st_ino)
                    found.append(File(prefix + name, Path(entry.path), stat))

    walk(root, "")
    return found


def load_articles(
    root: Path,
    config: Config,
    *,
    max_bytes: int = MAX_ARTICLE_BYTES,
    cache: Mapping[str, Cached] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Loaded:
    """Read and parse every article under `root`, reusing `cache` for unchanged files."""
    if not root.is_dir():
        raise UsageError(f"{root}: the articles folder does not exist")
    cache = cache or {}
    files = article_files(root)
    articles: list[Article] = []
    problems: list[Problem] = []
    broken: dict[str, str] = {}
    fresh: dict[str, Cached] = {}
    to_parse: list[File] = []
    for file in files:
        cached = cache.get(file.source)
        if cached is not None and cached.stat == file.stat:
            article = cached.article
            if article.path != str(file.path):
                article = replace(article, path=str(file.path))
            articles.append(article)
            fresh[file.source] = cached
        else:
            to_parse.append(file)
    work = [(file, cache.get(file.source)) for file in to_parse]
    for file, parsed in _parse_all(work, config, max_bytes, progress, jobs):
        problems.extend(parsed.problems)
        if parsed.article is None:
            broken[file.source] = str(file.path)
            continue
        articles.append(parsed.article)
        if not parsed.problems:
            fresh[file.source] = Cached(file.stat, parsed.article)
    return Loaded(tuple(articles), tuple(problems), len(files), broken, fresh, len(to_parse))


def read_bodies(root: Path, articles: Iterable[Article]) -> dict[str, str]:
    """The Markdown body of each article, read again from its file, by source."""
    bodies = {}
    for article in articles:
        try:
            raw = (root / article.source).read_bytes()
        except OSError:
            continue
        bodies[article.source] = read_body(raw, article.path)
    return bodies


Work = tuple[File, Cached | None]
_worker_config: list[tuple[Config, int]] = []


def _parse_all(
    work: list[Work], config: Config, max_bytes: int, progress: Progress | None, jobs: int
) -> Iterator[tuple[File, Parsed]]:
    files = [file for file, _ in work]
    paced = progress(files) if progress else files
    if (
        jobs > 1
        and len(work) >= PARALLEL_FROM
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        _worker_config[:] = [(config, max_bytes)]  # inherited by the forked workers
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.imap(_parse_in_worker, work, chunksize=64)
            for _, result in zip(paced, results, strict=True):
                yield result
        return
    cached = dict(work)
    for file in paced:
        yield file, _parse_file(file, cached[file], config, max_bytes)


def _parse_in_worker(item: Work) -> tuple[File, Parsed]:
    config, max_bytes = _worker_config[0]
    file, cached = item
    return file, _parse_file(file, cached, config, max_bytes)


def _parse_file(file: File, cached: Cached | None, config: Config, max_bytes: int) -> Parsed:
    name = str(file.path)
    if file.stat.size > max_bytes:
        message = (
            f"the file is {file.stat.size} bytes; expected at most {max_bytes} (max_article_bytes)"
        )
        return Parsed(None, (Problem(name, message),))
    try:
        raw = file.path.read_bytes()
    except OSError as error:
        return Parsed(None, (Problem(name, f"cannot be read: {error.strerror}"),))
    if cached is not None and cached.article.digest == digest(raw):  # touched, not changed
        return Parsed(replace(cached.article, path=name), ())
    return parse_article(raw, name, config, file.source, keep_body=False)
