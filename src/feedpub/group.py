"""Which articles are published, and which feeds exist with which entries.

Pure: the articles, the configuration and `now` go in; the groups come out,
each with its entries newest first (ties by ascending id), at most the
configured number. Grouping reads only an article's listing (id, date,
section, topics): a large archive is held in memory as listings, and only
the articles that are entries are ever read whole.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from .errors import Problem, Severity
from .model import Config, Group, GroupKind, Listed, SiteConfig
from .names import slugify
from .urls import absolute

T = TypeVar("T", bound=Listed)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every feed to write, and what grouping found wrong."""

    groups: tuple[Group, ...]
    published: int
    problems: tuple[Problem, ...]
    due: datetime | None = None  # when the next future-dated article falls due


def unique_ids(
    articles: Sequence[T], preferred: Collection[str] = ()
) -> tuple[list[T], list[Problem]]:
    """The articles with distinct ids; a later file repeating an id is an error naming both.

    An article already in the feeds (its source in `preferred`) keeps its id
    against a newcomer; otherwise the first file by path does.
    """
    if len({article.id for article in articles}) == len(articles):  # the common case
        return list(articles), []
    first: dict[str, T] = {}
    problems = []
    for article in sorted(articles, key=lambda item: (item.source not in preferred, item.source)):
        other = first.setdefault(article.id, article)
        if other is not article:
            problems.append(Problem(
                article.path, f"{article.id!r} is already the id of {other.path}; "
                "expected every article to have its own id (set `id` or `slug`)", field="id",
            ))  # fmt: skip
    return list(first.values()), problems


def newest_first(articles: Iterable[T]) -> list[T]:
    """Newest `published` first; articles published at the same instant by ascending id."""
    # One key per article, compared as numbers: comparing aware datetimes again and
    # again would ask each for its offset from UTC every time.
    return sorted(articles, key=lambda article: (-article.published.timestamp(), article.id))


def page_url(site: SiteConfig, kind: GroupKind, slug: str) -> str:
    """The web page a feed stands for: the site, a section's page or a topic's page."""
    if kind is GroupKind.ALL:
        return site.url
    pattern = site.section_pattern if kind is GroupKind.SECTION else site.topic_pattern
    return absolute(pattern.format(slug=quote(slug, safe="-")), site.url)


def topic_url(site: SiteConfig, name: str) -> str:
    """The web page of the topic called `name`."""
    return page_url(site, GroupKind.TOPIC, slugify(name))


def feed_id(site: SiteConfig, group: Group) -> str:
    """A permanent id for a feed: a name-based UUID of the tag authority and the group.

    Like entry ids, it does not change when the site moves to another address.
    """
    name = f"feedpub:{site.tag_authority}:{group.stem}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def plan(
    articles: Sequence[Listed], config: Config, now: datetime, preferred: Collection[str] = ()
) -> Plan:
    """Group the published articles into the feeds to write (entries stay listings)."""
    site = config.site
    distinct, problems = unique_ids(articles, preferred)
    # Published: no draft, and dated at or before `now` (a future article waits for it).
    published = newest_first(a for a in distinct if not a.draft and a.published <= now)
    limit = config.feeds.max_entries

    # Gathered by name as written (a few dozen names over the whole archive),
    # then by slug; names that share a slug are merged back into date order.
    by_section: dict[str, list[Listed]] = defaultdict(list)
    by_topic: dict[str, list[Listed]] = defaultdict(list)
    for article in published:
        by_section[article.section].append(article)
        for topic in article.topics:
            by_topic[topic].append(article)
    sections, section_names = _by_slug(by_section)
    topics, topic_names = _by_slug(by_topic)

    groups = [
        Group(
            GroupKind.ALL, site.title, "all", "all", site.url, tuple(published[:limit]),
            len(published),
        )
    ]  # fmt: skip
    for kind, members, names in (
        (GroupKind.SECTION, sections, section_names),
        (GroupKind.TOPIC, topics, topic_names),
    ):
        for slug in sorted(members):
            name = _preferred(names[slug])
            if len(names[slug]) > 1:
                problems.append(_merged(kind, slug, names[slug], members[slug]))
            groups.append(Group(
                kind, name, slug, f"{kind.value}/{slug}", page_url(site, kind, slug),
                tuple(members[slug][:limit]), len(members[slug]),
            ))  # fmt: skip
    due = min((a.published for a in distinct if not a.draft and a.published > now), default=None)
    return Plan(tuple(groups), len(published), tuple(problems), due)


def _by_slug(
    by_name: dict[str, list[Listed]],
) -> tuple[dict[str, list[Listed]], dict[str, Counter[str]]]:
    members: dict[str, list[Listed]] = {}
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for name, articles in by_name.items():
        slug = slugify(name)
        names[slug][name] = len(articles)
        if slug in members:
            members[slug] = newest_first([*members[slug], *articles])
        else:
            members[slug] = articles
    return members, names


def _preferred(names: Counter[str]) -> str:
    """The spelling most articles use; ties go to the first in code-point order."""
    return min(names, key=lambda name: (-names[name], name))


def _merged(kind: GroupKind, slug: str, names: Counter[str], members: list[Listed]) -> Problem:
    label = "section" if kind is GroupKind.SECTION else "topic"
    spellings = sorted(names)
    where = {}
    for article in sorted(members, key=lambda item: item.source):
        for name in (article.section, *article.topics):
            if name in names and name not in where:
                where[name] = article.path
    described = ", ".join(f"{name!r} ({where[name]})" for name in spellings)
    return Problem(
        where[spellings[0]],
        f"{label} names {described} share the slug {slug!r} and make one feed, "
        f"titled {_preferred(names)!r}",
        field="section" if kind is GroupKind.SECTION else "topics",
        severity=Severity.WARNING,
    )
