"""What one build leaves for the next: the files it wrote and the articles in its feeds.

Pure: the state is encoded to bytes and decoded from them here; :mod:`write`
stores it in the output folder, atomically, like the feeds. A state that
cannot be read is treated as empty, which costs at most one full rewrite.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .errors import Problem, Severity
from .model import Article, Image, Person

STATE_FILE = ".feedpub-state.json"
FORMAT = 1  # raise when the record changes: an old state then reads as empty


@dataclass(frozen=True, slots=True)
class State:
    """The documents the last build wrote, and the last good version of each article in a feed."""

    files: tuple[str, ...] = ()
    articles: Mapping[str, Article] = field(default_factory=dict)


def encode(state: State) -> bytes:
    """The state as JSON, in a stable order."""
    document = {
        "format": FORMAT,
        "files": sorted(state.files),
        "articles": {key: _record(state.articles[key]) for key in sorted(state.articles)},
    }
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def decode(data: bytes) -> State:
    """The state in `data`; an empty state when it is unreadable or of another format."""
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            return State()
        files = tuple(str(name) for name in document["files"])
        articles = {str(key): _article(value) for key, value in document["articles"].items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return State()
    return State(files, articles)


def keep_last_good(state: State, broken: Mapping[str, str]) -> tuple[list[Article], list[Problem]]:
    """The last good version of every article in the feeds whose file is now broken.

    `broken` maps each file that exists but could not be published (its key)
    to its name in messages. A deleted file is not broken: its article leaves.
    """
    kept: list[Article] = []
    problems: list[Problem] = []
    for key, path in sorted(broken.items()):
        article = state.articles.get(key)
        if article is None:
            continue
        kept.append(replace(article, path=path))
        problems.append(Problem(
            path, "its last good version stays in the feeds until the errors are fixed",
            severity=Severity.WARNING,
        ))  # fmt: skip
    return kept, problems


def in_feeds(articles: Iterable[Article]) -> dict[str, Article]:
    """The articles by key, as the next build's state keeps them."""
    return {article.source: article for article in articles}


def _record(article: Article) -> dict[str, Any]:
    image = article.image
    return {
        "id": article.id, "slug": article.slug, "title": article.title,
        "section": article.section, "topics": list(article.topics),
        "published": article.published.isoformat(), "updated": article.updated.isoformat(),
        "url": article.url, "body": article.body, "subtitle": article.subtitle,
        "authors": [[p.name, p.email, p.uri] for p in article.authors],
        "image": None if image is None else
        [image.url, image.caption, image.credit, image.type, image.length],
        "draft": article.draft, "source": article.source,
    }  # fmt: skip


def _article(record: dict[str, Any]) -> Article:
    image = record["image"]
    return Article(
        path=record["source"], id=record["id"], slug=record["slug"], title=record["title"],
        section=record["section"], topics=tuple(record["topics"]),
        published=datetime.fromisoformat(record["published"]),
        updated=datetime.fromisoformat(record["updated"]),
        url=record["url"], body=record["body"], subtitle=record["subtitle"],
        authors=tuple(Person(*person) for person in record["authors"]),
        image=None if image is None else Image(*image),
        draft=record["draft"], source=record["source"],
    )  # fmt: skip
