"""Which articles are published, and which feeds exist with which entries.

Pure: the articles, the configuration and `now` go in; the groups come out,
each with its entries newest first (ties by ascending id), at most the
configured number. Grouping reads only an article's listing (id, date,
section, topics): a large archive is held in memory as listings, and only
the articles that are entries are ever read whole.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from .errors import Problem, Severity
from .layout import KINDS, page_url, stem
from .model import Config, Group, GroupKind, Listed, SiteConfig
from .names import slugify

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


def topic_url(site: SiteConfig, name: str) -> str:
    """The web page of the topic called `name`."""
    return page_url(site, GroupKind.TOPIC, slugify(name))


def section_url(site: SiteConfig, name: str) -> str:
    """The web page of the section called `name`."""
    return page_url(site, GroupKind.SECTION, slugify(name))


def plan(
    articles: Sequence[Listed], config: Config, now: datetime, preferred: Collection[str] = ()
) -> Plan:
    """Group the published articles into the feeds to write (entries stay listings).

    `feeds.groups` says which kinds of group exist. Every group keeps all its members:
    the kinds that `archives.groups` names have archive pages made of them, and the
    state records them all (an article added or removed updates the groups it joins
    or leaves: see :mod:`feedpub.regroup`).
    """
    site = config.site
    distinct, problems = unique_ids(articles, preferred)
    # Published: no draft, and dated at or before `now` (a future article waits for it).
    published = newest_first(a for a in distinct if not a.draft and a.published <= now)
    wanted = {GroupKind(name) for name in config.feeds.groups}
    limit = config.feeds.max_entries

    # Gathered by name as written (a few dozen names over the whole archive),
    # then by slug; names that share a slug are merged back into date order.
    by_section: dict[str, list[Listed]] = defaultdict(list)
    by_topic: dict[str, list[Listed]] = defaultdict(list)
    by_author: dict[str, list[Listed]] = defaultdict(list)
    default_author = site.author.name
    for article in published:
        by_section[article.section].append(article)
        for topic in article.topics:
            by_topic[topic].append(article)
        for name in dict.fromkeys(article.bylines):  # an author named twice is one byline
            if name != default_author:
                by_author[name].append(article)
    sections, section_names = _by_slug(by_section)
    topics, topic_names = _by_slug(by_topic)
    kinds: list[tuple[GroupKind, dict[str, list[Listed]], dict[str, Counter[str]]]] = [
        (GroupKind.SECTION, sections, section_names),
        (GroupKind.TOPIC, topics, topic_names),
    ]
    if GroupKind.AUTHOR in wanted:
        kinds.append((GroupKind.AUTHOR, *_by_slug(by_author)))
    if GroupKind.SECTION_TOPIC in wanted:
        kinds.append((GroupKind.SECTION_TOPIC, *_pairs(sections, section_names, topic_names)))

    groups = []
    if GroupKind.ALL in wanted:
        groups.append(_group(site, GroupKind.ALL, site.title, "all", published, limit=limit))
    for kind, members, names in kinds:
        if kind not in wanted:
            continue
        for slug in sorted(members):
            if len(names[slug]) > 1 and kind is not GroupKind.SECTION_TOPIC:
                problems.append(_merged(kind, slug, names[slug], members[slug]))
            name = _preferred(names[slug])
            groups.append(_group(site, kind, name, slug, members[slug], limit=limit))
    # The next build that must not be skipped: a future article falls due, or one expires.
    upcoming = [a.published for a in distinct if not a.draft and a.published > now]
    upcoming += [expires for a in published if (expires := getattr(a, "expires", None))]
    due = min(upcoming, default=None)
    return Plan(tuple(groups), len(published), tuple(problems), due)


def _group(
    site: SiteConfig, kind: GroupKind, name: str, slug: str, members: Sequence[Listed], *,
    limit: int,
) -> Group:  # fmt: skip
    return Group(
        kind, name, slug, stem(kind, slug), page_url(site, kind, slug), tuple(members[:limit]),
        len(members), tuple(members),
    )  # fmt: skip


def _pairs(
    sections: dict[str, list[Listed]],
    section_names: dict[str, Counter[str]],
    topic_names: dict[str, Counter[str]],
) -> tuple[dict[str, list[Listed]], dict[str, Counter[str]]]:
    """Each section and topic that share an article, keyed ``<section>/<topic>``."""
    members: dict[str, list[Listed]] = defaultdict(list)
    names: dict[str, Counter[str]] = {}
    for section_slug, articles in sections.items():
        section = _preferred(section_names[section_slug])
        for article in articles:  # newest first already: each pair's list stays in order
            for topic_slug in dict.fromkeys(slugify(topic) for topic in article.topics):
                key = f"{section_slug}/{topic_slug}"
                members[key].append(article)
                if key not in names:
                    names[key] = Counter({f"{section}: {_preferred(topic_names[topic_slug])}": 1})
    return members, names


def _by_slug(
    by_name: dict[str, list[Listed]],
) -> tuple[dict[str, list[Listed]], dict[str, Counter[str]]]:
    members: dict[str, list[Listed]] = {}
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for name, articles in by_name.items():
        slug = slugify(name)
        names[slug][name] = len(articles)
        if slug in members:  # an article under two spellings is one entry
            merged = {article.source: article for article in (*members[slug], *articles)}
            members[slug] = newest_first(merged.values())
        else:
            members[slug] = articles
    return members, names


def _preferred(names: Counter[str]) -> str:
    """The spelling most articles use; ties go to the first in code-point order."""
    return min(names, key=lambda name: (-names[name], name))


_FIELDS = {GroupKind.SECTION: "section", GroupKind.TOPIC: "topics", GroupKind.AUTHOR: "author"}


def _merged(kind: GroupKind, slug: str, names: Counter[str], members: list[Listed]) -> Problem:
    label = KINDS[kind].label
    spellings = sorted(names)
    where = {}
    for article in sorted(members, key=lambda item: item.source):
        for name in (article.section, *article.topics, *article.bylines):
            if name in names and name not in where:
                where[name] = article.path
    described = ", ".join(f"{name!r} ({where[name]})" for name in spellings)
    return Problem(
        where[spellings[0]],
        f"{label} names {described} share the slug {slug!r} and make one feed, "
        f"titled {_preferred(names)!r}",
        field=_FIELDS[kind],
        severity=Severity.WARNING,
    )
