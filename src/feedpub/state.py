"""What one build leaves for the next, in one file beside the feeds.

- the documents it wrote, each with the fingerprint of what it was rendered
  from and the size and time of the file, so that a document whose inputs did
  not change is neither rendered nor rewritten;
- the last good version of every article in a feed, with its rendered
  content, so that an article whose file breaks stays in the feeds until it
  is fixed (nothing published is lost);
- a parse cache of every published article, keyed by its file's size,
  modification time and inode, so that a rerun reads only what changed.

Drafts and future-dated articles are never cached: the file may be served
with the feeds, and holds only what is already public. A fingerprint of
feedpub's own code and of the configuration guards the cache: when either
changes, nothing cached is trusted (except the last good versions, which
are worth more stale than lost).

Pure: encoded to bytes and decoded here with :mod:`marshal` (version 2, no
back-references, so equal states give equal bytes); :mod:`write` stores it.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from . import __version__
from .content import Content
from .errors import Problem, Severity
from .model import Article, Config, Image, Person

STATE_FILE = ".feedpub-state"
FORMAT = 2  # raise when a record changes: an older state then reads as empty


@dataclass(frozen=True, slots=True)
class Stat:
    """What identifies one version of a file without reading it."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True, slots=True)
class Cached:
    """One article file's parse (without its body), valid while its file is unchanged."""

    stat: Stat
    article: Article


@dataclass(frozen=True, slots=True)
class Rendered:
    """One article's rendered content, valid for the file version with this digest."""

    digest: str
    content: Content


@dataclass(frozen=True, slots=True)
class Document:
    """One document as written: the fingerprint of its inputs and its file's size and time."""

    fingerprint: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class State:
    """Everything a build passes to the next one."""

    fingerprint: str = ""
    documents: Mapping[str, Document] = field(default_factory=dict)
    kept: Mapping[str, Article] = field(default_factory=dict)
    contents: Mapping[str, Rendered] = field(default_factory=dict)
    parsed: Mapping[str, Cached] = field(default_factory=dict)


@cache
def code_fingerprint() -> str:
    """A digest of feedpub's own source: any change to the code invalidates the cache."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    package = resources.files(__package__ or "feedpub")
    for name in sorted(item.name for item in package.iterdir() if item.name.endswith(".py")):
        digest.update(name.encode())
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()


def fingerprint(config: Config) -> str:
    """What every cached value depends on besides its own file: the code and the configuration."""
    return hashlib.blake2b(f"{code_fingerprint()}{config!r}".encode(), digest_size=16).hexdigest()


def usable(state: State, fingerprint_now: str, *, use_cache: bool = True) -> State:
    """The part of `state` this build may trust: all of it, or only the last good versions."""
    if use_cache and state.fingerprint == fingerprint_now:
        return state
    return State(kept=state.kept, contents=state.contents)


def keep_last_good(state: State, broken: Mapping[str, str]) -> tuple[list[Article], list[Problem]]:
    """The last good version of every article in the feeds whose file is now broken.

    `broken` maps each file that exists but could not be published (its key)
    to its name in messages. A deleted file is not broken: its article leaves.
    """
    kept: list[Article] = []
    problems: list[Problem] = []
    for key, path in sorted(broken.items()):
        article = state.kept.get(key)
        if article is None or key not in state.contents:
            continue
        kept.append(replace(article, path=path))
        problems.append(Problem(
            path, "its last good version stays in the feeds until the errors are fixed",
            severity=Severity.WARNING,
        ))  # fmt: skip
    return kept, problems


def by_source(articles: Iterable[Article]) -> dict[str, Article]:
    """The articles keyed by their file's path under the articles folder."""
    return {article.source: article for article in articles}


def encode(state: State) -> bytes:
    """The state as bytes, in a stable order."""
    return marshal.dumps(
        (
            FORMAT,
            state.fingerprint,
            [(name, *_fields(state.documents[name])) for name in sorted(state.documents)],
            [article_record(state.kept[key]) for key in sorted(state.kept)],
            [(key, item.digest, item.content.summary, item.content.html)
             for key, item in sorted(state.contents.items())],
            [(key, *_stat(item.stat), article_record(item.article))
             for key, item in sorted(state.parsed.items())],
        ),
        2,
    )  # fmt: skip


def decode(data: bytes) -> State:
    """The state in `data`; an empty state when it is unreadable or of another format."""
    try:
        version, print_, documents, kept, contents, parsed = marshal.loads(data)
        if version != FORMAT:
            return State()
        return State(
            fingerprint=print_,
            documents={name: Document(fp, size, mtime) for name, fp, size, mtime in documents},
            kept=by_source(article_from(record) for record in kept),
            contents={key: Rendered(digest, Content(summary, html))
                      for key, digest, summary, html in contents},
            parsed={key: Cached(Stat(size, mtime, inode), article_from(record))
                    for key, size, mtime, inode, record in parsed},
        )  # fmt: skip
    except (ValueError, TypeError, EOFError, IndexError):
        return State()


def _stat(stat: Stat) -> tuple[int, int, int]:
    return stat.size, stat.mtime_ns, stat.inode


def _fields(document: Document) -> tuple[str, int, int]:
    return document.fingerprint, document.size, document.mtime_ns


def article_record(article: Article) -> tuple[Any, ...]:
    """An article as a tuple of plain values (marshal's and pickle's cheapest form)."""
    image = article.image
    return (
        article.path, article.id, article.slug, article.title, article.section,
        article.topics, article.published.isoformat(), article.updated.isoformat(),
        article.url, tuple((p.name, p.email, p.uri) for p in article.authors), article.body,
        article.subtitle,
        None if image is None
        else (image.url, image.caption, image.credit, image.type, image.length),
        article.draft, article.source, article.digest,
    )  # fmt: skip


def article_from(record: tuple[Any, ...]) -> Article:
    """The article a record holds."""
    (path, id_, slug, title, section, topics, published, updated, url, authors, body, subtitle,
     image, draft, source, digest) = record  # fmt: skip
    return Article(
        path=path, id=id_, slug=slug, title=title, section=section, topics=tuple(topics),
        published=datetime.fromisoformat(published), updated=datetime.fromisoformat(updated),
        url=url, authors=tuple(Person(*person) for person in authors), body=body,
        subtitle=subtitle, image=None if image is None else Image(*image), draft=draft,
        source=source, digest=digest,
    )  # fmt: skip
