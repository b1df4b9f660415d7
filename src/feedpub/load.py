"""Walk the articles folder, read each file, and parse it; every problem is collected.

The only module besides :mod:`feedpub.write` that touches the file system.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, UsageError
from .model import Article, Config
from .parse import parse_article

MAX_ARTICLE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Loaded:
    """Every article that parsed, every problem found, and how many files were read."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    files: int


def article_files(root: Path) -> Iterator[Path]:
    """Every `*.md` file under `root`, in a stable order, skipping names that start with `.` or `_`.

    Symbolic links are followed only when they stay inside `root`, and a
    folder is never entered twice, so a link loop ends.
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
                yield path

    yield from walk(root)


def load_articles(root: Path, config: Config, max_bytes: int = MAX_ARTICLE_BYTES) -> Loaded:
    """Read and parse every article under `root`."""
    if not root.is_dir():
        raise UsageError(f"{root}: the articles folder does not exist")
    articles: list[Article] = []
    problems: list[Problem] = []
    files = 0
    for path in article_files(root):
        files += 1
        name = str(path)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                problems.append(
                    Problem(name, f"the file is {size} bytes; expected at most {max_bytes}")
                )
                continue
            raw = path.read_bytes()
        except OSError as error:
            problems.append(Problem(name, f"cannot be read: {error.strerror}"))
            continue
        parsed = parse_article(raw, name, config)
        problems.extend(parsed.problems)
        if parsed.article is not None:
            articles.append(parsed.article)
    return Loaded(tuple(articles), tuple(problems), files)
