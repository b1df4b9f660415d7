"""Walk the articles folder, read each file, and parse it; every problem is collected.

The only module besides :mod:`feedpub.write` that touches the file system.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem, UsageError
from .model import Article, Config
from .parse import Parsed, parse_article

MAX_ARTICLE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Loaded:
    """Every article that parsed, every problem found, and the files that failed.

    `broken` maps the key (path relative to the articles folder) of each file
    that exists but gave no article, for an error, to its name in messages.
    """

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    files: int
    broken: dict[str, str] = field(default_factory=dict)


def article_files(root: Path) -> Iterator[Path]:
    """Every `*.md` file under `root`, in a stable order, skipping names that start with `.` or `_`.

    Symbolic links are followed only when they stay inside `root`; a folder
    is never entered twice, so a link loop ends; and a file reached twice
    (through a link) is read once.
    """
    real_root = root.resolve()
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path) -> Iterator[Path]:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as entries:
            children = sorted(entries, key=lambda entry: entry.name)
        for entry in children:
            if entry.name.startswith((".", "_")):
                continue
            path = folder / entry.name
            if entry.is_symlink() and not path.resolve().is_relative_to(real_root):
                continue
            if entry.is_dir():
                yield from walk(path)
            elif entry.name.endswith(".md") and entry.is_file():
                info = entry.stat()
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    yield path

    yield from walk(root)


Progress = Callable[[list[Path]], Iterable[Path]]


def load_articles(
    root: Path,
    config: Config,
    *,
    max_bytes: int = MAX_ARTICLE_BYTES,
    progress: Progress | None = None,
) -> Loaded:
    """Read and parse every article under `root`; `progress` may wrap the list of files."""
    if not root.is_dir():
        raise UsageError(f"{root}: the articles folder does not exist")
    articles: list[Article] = []
    problems: list[Problem] = []
    broken: dict[str, str] = {}
    paths = list(article_files(root))
    for path in progress(paths) if progress else paths:
        name = str(path)
        key = path.relative_to(root).as_posix()
        parsed = _read(path, name, key, config, max_bytes)
        problems.extend(parsed.problems)
        if parsed.article is None:
            broken[key] = name
        else:
            articles.append(parsed.article)
    return Loaded(tuple(articles), tuple(problems), len(paths), broken)


def _read(path: Path, name: str, key: str, config: Config, max_bytes: int) -> Parsed:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            message = f"the file is {size} bytes; expected at most {max_bytes} (max_article_bytes)"
            return Parsed(None, (Problem(name, message),))
        raw = path.read_bytes()
    except OSError as error:
        return Parsed(None, (Problem(name, f"cannot be read: {error.strerror}"),))
    return parse_article(raw, name, config, key)
