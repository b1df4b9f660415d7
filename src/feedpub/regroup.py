"""An article added, deleted or placed anew, without grouping the whole archive again.

Grouping the whole archive reads every article's listing from the parse cache
and sorts them all (at 100,000 articles, about 2 s of a rerun). When a few files
came, went or changed, the last build's groups say nearly everything: each
group's members in order (as indices into the state's files), and the state's
:class:`~feedpub.state.Order` gives each member's time. A changed or deleted
file leaves every group that holds it; a new or changed article joins the groups
its section, topics and authors name, at the place its time gives. Nothing else
moves: every other group, and every archive page of it, is as it was.

Every rule errs towards grouping the whole archive again, which finds and
reports what this cannot: the last grouping met a problem or some file had an
error; a new article is a draft, future-dated or expiring, repeats an id, spells
a name another way than its group does, or shares its time with an article it
would be placed beside (their ids would decide, and only their time is known).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING

from .errors import Severity
from .layout import page_url, stem
from .model import Article, Config, Group, GroupKind
from .names import slugify
from .state import (
    NOT_PUBLISHED,
    File,
    GroupRecord,
    Members,
    Order,
    Picked,
    State,
    Totals,
    common,
    id_code,
    listing_key,
)

if TYPE_CHECKING:
    from .load import Loaded

REGROUP_FILES = 50  # files come, gone or changed that a build may place without grouping all
# The kinds in the order grouping makes their groups (each kind's by slug).
_KINDS = (GroupKind.ALL, GroupKind.SECTION, GroupKind.TOPIC, GroupKind.AUTHOR,
          GroupKind.SECTION_TOPIC)  # fmt: skip
_SOURCE, _PATH = itemgetter(0), itemgetter(1)  # of a File


@dataclass(frozen=True, slots=True)
class Regrouped:
    """The groups after a few articles came, went or moved, and the state's records of them."""

    groups: tuple[Group, ...]  # members: the parsed articles, and Members for the others
    records: list[GroupRecord]
    digests: list[str]
    order: Order
    loaded: Loaded  # the new and changed files, parsed
    totals: Totals
    # The groups whose members changed (or that are new), by stem: how many of their archive
    # pages (from the oldest) hold the same entries with the same links as before.
    moved: dict[str, int]
    fresh: list[int]  # the indices of the files parsed (new or changed)


Key = tuple[GroupKind, str]  # a group's kind and slug
# Each group's record (None: a new group) and its members, by their new indices.
Placing = dict[Key, tuple[GroupRecord | None, "array[int]"]]


def regroup(  # noqa: PLR0911 - one early return per reason to group the whole archive
    previous: State, config: Config, now: datetime, files: Sequence[File],
    reread: Callable[[Sequence[File]], Loaded],
) -> Regrouped | None:  # fmt: skip
    """The last build's groups with the new, changed and deleted `files` placed, or None when
    only grouping the whole archive can tell (see the module's rules)."""
    order = previous.order
    wanted = {GroupKind(name) for name in config.feeds.groups}
    if (
        order is None or not previous.digests
        or any(problem.severity is Severity.ERROR for problem in previous.problems)
        or any(record.total != len(record.members) for record in previous.groups)
        # A section × topic group is named by its section's and topic's spellings, known
        # only from their own groups.
        or (GroupKind.SECTION_TOPIC in wanted
            and not {GroupKind.SECTION, GroupKind.TOPIC} <= wanted)
    ):  # fmt: skip
        return None
    changes = _changes(previous, files)
    if changes is None:
        return None
    loaded = reread([file for _, file in changes.fresh])
    articles = _placeable(loaded, len(changes.fresh), now)
    if articles is None:
        return None
    runs = _by_runs(previous, order, files, changes)
    if runs is None:  # the files found as they were are not in the order they were
        return None
    carried = _Carried(files, changes, runs, articles)
    if carried.repeats_an_id(articles):
        return None
    placing = carried.placing(previous.groups)
    names = carried.place(placing, articles, config, wanted)
    if names is None:
        return None
    groups, records = _groups(placing, names, carried, articles, config)
    last = previous.totals
    dropped = carried.dropped
    gone_articles = sum(1 for number in dropped if order.ids[number])
    gone_published = sum(1 for number in dropped if not math.isnan(order.published[number]))
    totals = Totals(
        len(files), last.articles - gone_articles + len(articles),
        last.published - gone_published + len(articles), len(groups),
    )  # fmt: skip
    moved = carried.same_pages(placing, config.archives.page_size)
    return Regrouped(
        # No member in any group: no digest, as group_records makes it.
        tuple(groups), records, carried.digests if any(r.members for r in records) else [],
        Order(carried.published, carried.ids), loaded,
        totals, moved, carried.joined,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Changes:
    """The files new or changed, by their index now, and those gone or changed, by their
    index in the last state's files (each in walk order)."""

    fresh: list[tuple[int, File]]
    gone: list[tuple[int, File]]


def _changes(previous: State, files: Sequence[File]) -> _Changes | None:
    """The files that came, changed or went; None when none came or went, when they are too
    many, or when a problem reported belongs to one of them (a problem of an unchanged file
    is reported again as it was)."""
    before, now = list(previous.files), list(files)
    # Files found as they were are the same (often the state's own File, which the scan
    # hands back), in the same order: compared in C, the lists' common start and end are
    # left out, and only what lies between is compared file by file.
    start = common(before, now, 1)
    end = common(before, now, -1, min(len(before), len(now)) - start)
    middle = now[start : len(now) - end]
    was = before[start : len(before) - end]
    lost_values, new_values = set(was), set(middle)
    fresh = [(start + at, file) for at, file in enumerate(middle) if file not in lost_values]
    gone = [(start + at, file) for at, file in enumerate(was) if file not in new_values]
    if (not fresh and len(files) == len(before)) or len(fresh) + len(gone) > 2 * REGROUP_FILES:
        return None  # nothing came or went (the quick path's, or nothing to do), or too much
    flagged = {problem.path for problem in previous.problems}
    if flagged and not flagged <= set(map(_PATH, files)) - {file.path for _, file in fresh}:
        return None
    return _Changes(fresh, gone)


def _placeable(loaded: Loaded, count: int, now: datetime) -> list[Article] | None:
    """The articles parsed, when each of the `count` files gave one without an error, and
    each is published, for good: no draft, none dated after `now`, none expiring (it would
    fall due, and the next build must not be skipped)."""
    if len(loaded.articles) != count or any(
        problem.severity is Severity.ERROR for problem in loaded.problems
    ):  # fmt: skip
        return None
    articles = []
    for item in loaded.articles:
        if (
            not isinstance(item, Article) or item.draft or item.published > now
            or item.expires is not None
        ):  # fmt: skip
            return None
        articles.append(item)
    return articles


# By each file's index now: its time, id code and member digest as the last state has them,
# and (first) each old index's new one (-1: gone), when a file came or went.
Carried = tuple["array[int] | None", "array[float]", "array[int]", list[str]]


class _Carried:
    """The last state's facts about each file, by the new files' indices, with the new and
    changed articles' in place of their own."""

    def __init__(
        self, files: Sequence[File], changes: _Changes, carried: Carried,
        articles: Sequence[Article],
    ) -> None:  # fmt: skip
        self.files = files
        self.dropped = {at for at, _ in changes.gone}  # gone or changed
        self.remap, self.published, self.ids, self.digests = carried
        at = {file.source: number for number, file in changes.fresh}
        self.joined = [at[article.source] for article in articles]
        for number, article in zip(self.joined, articles, strict=True):
            self.published[number] = article.published.timestamp()
            self.ids[number] = id_code(article.id)
            self.digests[number] = ""  # set again if it joins a group
        # The groups whose members changed, each with how many of its oldest members are
        # the last build's oldest, in their order (a lower bound: see same_pages).
        self.moved: dict[Key, int] = {}

    def _changed(self, key: Key, after: int) -> None:
        """A change in a group's members with `after` members after it (then or later)."""
        self.moved[key] = min(self.moved.get(key, after), after)

    def same_pages(self, placing: Placing, size: int) -> dict[str, int]:
        """For each group whose members changed, how many of its archive pages (from the
        oldest) are as they were: pages of `size` whose members are among the unchanged
        oldest, and whose links (to the next page) the number of pages left as they were."""
        same = {}
        for key, oldest in self.moved.items():
            record, numbers = placing[key]
            if record is None:
                same[stem(*key)] = 0
                continue
            before, after = len(record.members) // size, len(numbers) // size
            pages = oldest // size
            same[record.stem] = pages if before == after else min(pages, before - 1, after - 1)
        return same

    def repeats_an_id(self, articles: Sequence[Article]) -> bool:
        """Some article's id (or its code) is another file's too: grouping reports it."""
        return any(self.ids.count(id_code(article.id)) > 1 for article in articles)

    def placing(self, records: Sequence[GroupRecord]) -> Placing:
        """Each group's members by their new indices, those gone or changed left out."""
        placing: Placing = {}
        dropped, remap = self.dropped, self.remap
        for record in records:
            key = (GroupKind(record.kind), record.slug)
            numbers: Sequence[int] = record.members
            if dropped and not dropped.isdisjoint(numbers):
                newest_gone = max(at for at, number in enumerate(numbers) if number in dropped)
                self._changed(key, len(numbers) - newest_gone - 1)
                numbers = [number for number in numbers if number not in dropped]
            # Arrays, made in C (a list of 520,000 numbers at 100,000 articles took 0.05 s).
            placing[key] = (record, array("i", numbers if remap is None
                                          else map(remap.__getitem__, numbers)))  # fmt: skip
        return placing

    def place(
        self, placing: Placing, articles: Sequence[Article], config: Config,
        wanted: set[GroupKind],
    ) -> dict[Key, str] | None:  # fmt: skip
        """Each article placed in the groups it joins, by its time; the names of the groups
        made for them. None when an article spells a name another way than its group, or has
        the time of an article it would be placed beside."""
        published = self.published
        names: dict[Key, str] = {}
        for number, article in zip(self.joined, articles, strict=True):
            places = _places(article, config, wanted)
            if places is None:
                return None
            for key, name in places.items():
                record, numbers = placing.setdefault(key, (None, array("i")))
                if (record.name if record is not None else names.setdefault(key, name)) != name:
                    return None  # another spelling: grouping reports the names merged
                time = published[number]
                at = bisect_left(numbers, -time, key=lambda member: -published[member])
                if at < len(numbers) and published[numbers[at]] == time:
                    return None  # a tie: their ids decide, and those are not known
                numbers.insert(at, number)
                self._changed(key, len(numbers) - at - 1)
            if places:
                self.digests[number] = article.digest + listing_key(article)
        return names


def _by_runs(previous: State, order: Order, files: Sequence[File], changes: _Changes
             ) -> Carried | None:  # fmt: skip
    """What :class:`_Carried` carries, copied a run of files at a time: the files found as
    they were keep their order (the walk's), between those that came and those that went.
    None when they do not."""
    old_sources = list(map(_SOURCE, previous.files))
    new_sources = list(map(_SOURCE, files))
    came = {file.source for _, file in changes.fresh}
    went = {file.source for _, file in changes.gone}
    added = [number for number, file in changes.fresh if file.source not in went]
    deleted = [number for number, file in changes.gone if file.source not in came]
    remap = array("i", [-1]) * len(old_sources) if added or deleted else None
    published = array("d", [NOT_PUBLISHED]) * len(files)
    ids = array("q", [0]) * len(files)
    digests = [""] * len(files)
    for old, new, length in _runs(len(old_sources), len(files), deleted, added):
        if new_sources[new : new + length] != old_sources[old : old + length]:
            return None
        if remap is not None:
            remap[old : old + length] = array("i", range(new, new + length))
        published[new : new + length] = order.published[old : old + length]
        ids[new : new + length] = order.ids[old : old + length]
        digests[new : new + length] = previous.digests[old : old + length]
    return remap, published, ids, digests


def _runs(
    old_count: int, new_count: int, deleted: Sequence[int], added: Sequence[int]
) -> Iterator[tuple[int, int, int]]:
    """The runs (old index, new index, length) of files in both lists, when the files
    `deleted` (old indices, ascending) left one and those `added` (new ones) joined the other."""
    old = new = gone = come = 0
    while old < old_count and new < new_count:
        if gone < len(deleted) and deleted[gone] == old:
            old, gone = old + 1, gone + 1
        elif come < len(added) and added[come] == new:
            new, come = new + 1, come + 1
        else:
            length = min(
                (deleted[gone] if gone < len(deleted) else old_count) - old,
                (added[come] if come < len(added) else new_count) - new,
            )  # fmt: skip
            yield old, new, length
            old, new = old + length, new + length


def _groups(
    placing: Placing, names: dict[Key, str], carried: _Carried, articles: Sequence[Article],
    config: Config,
) -> tuple[list[Group], list[GroupRecord]]:  # fmt: skip
    """The groups in grouping's order (the all-articles group first, there even when empty,
    then each kind's by slug; a group with no member left is gone), and their records."""
    made = Members(carried.files, carried.digests)
    for number, article in zip(carried.joined, articles, strict=True):
        made[number] = article
    limit = config.feeds.max_entries
    groups: list[Group] = []
    records: list[GroupRecord] = []
    rank = {kind: number for number, kind in enumerate(_KINDS)}
    for key in sorted(placing, key=lambda key: (rank[key[0]], key[1])):
        record, numbers = placing[key]
        kind, slug = key
        if not numbers and kind is not GroupKind.ALL:
            continue
        if record is None:
            name, group_stem, url = names[key], stem(kind, slug), page_url(config.site, kind, slug)
        else:
            name, group_stem, url = record.name, record.stem, record.page_url
        group_members = Picked(made, numbers)
        entries = tuple(group_members[:limit])
        groups.append(Group(kind, name, slug, group_stem, url, entries, len(numbers),
                            group_members))  # fmt: skip
        records.append(GroupRecord(
            kind.value, name, slug, group_stem, url, len(numbers),
            tuple(entry.source for entry in entries), numbers,
        ))  # fmt: skip
    return groups, records


def _places(article: Article, config: Config, wanted: set[GroupKind]) -> dict[Key, str] | None:
    """The groups an article joins, with the name it gives each; None when it spells one
    name two ways (grouping reports the two names merged)."""
    places: dict[Key, str] = {}

    def place(kind: GroupKind, slug: str, name: str) -> bool:
        if kind not in wanted:
            return True
        return places.setdefault((kind, slug), name) == name

    if GroupKind.ALL in wanted:
        places[(GroupKind.ALL, "all")] = config.site.title
    section = slugify(article.section)
    if not place(GroupKind.SECTION, section, article.section):
        return None
    for topic in article.topics:
        topic_slug = slugify(topic)
        if not place(GroupKind.TOPIC, topic_slug, topic) or not place(
            GroupKind.SECTION_TOPIC, f"{section}/{topic_slug}", f"{article.section}: {topic}"
        ):  # fmt: skip
            return None
    for name in article.bylines:
        if name != config.site.author.name and not place(GroupKind.AUTHOR, slugify(name), name):
            return None
    return places
