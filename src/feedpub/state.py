"""What one build leaves for the next: a small state, read every run, and a large cache.

The state (``.feedpub-state``) holds:

- the stat of every article file and what the last build reported, so that
  a rerun in which no file changed (and no future-dated article fell due)
  is recognised from the stats alone and does nothing at all;
- the documents written, each with the fingerprint of what it was rendered
  from and its file's size and time, so that a document whose inputs did not
  change is neither rendered nor rewritten;
- the last good version of every article in a feed, with its rendered
  content, so that an article whose file breaks stays in the feeds until it
  is fixed (nothing published is lost).

The cache (``.feedpub-cache``), read only when some file changed, holds the
listing of every published article (what grouping reads: id, date, section,
topics, digest); an article that becomes an entry is read again from its file
unless the state already holds it. Drafts and future-dated articles are
never cached. A fingerprint of feedpub's
code and of the configuration guards both: when either changes, nothing is
trusted but the last good versions, which are worth more stale than lost.

Pure: encoded and decoded here with :mod:`marshal` (version 2: no
back-references, so equal values give equal bytes); :mod:`write` stores them.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from functools import cache
from itertools import chain, count, repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from . import __version__
from .errors import Problem, Severity
from .model import Article, Config, Content, Group, Image, Person

STATE_FILE = ".feedpub-state"
CACHE_FILE = ".feedpub-cache"
FORMAT = 13  # raise when a record changes: an older state then reads as empty
# but for the last good versions (see decode_state)


class Stat(NamedTuple):
    """What identifies one version of a file without reading it (a tuple: compared in C).

    The change time is there because no tool can set it: a file rewritten
    with its old size and modification time restored still shows a new one.
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int


_STAT_FIELDS = attrgetter("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino")


def stat_of(info: os.stat_result) -> Stat:
    """The Stat of what `os.stat` (or `lstat`) found."""
    return tuple.__new__(Stat, _STAT_FIELDS(info))


class File(NamedTuple):
    """One article file: its key (path under the articles folder), its path, and its stat
    (as the walk found it, and as the state keeps it for the next build)."""

    source: str
    path: str
    stat: Stat


class GroupRecord(NamedTuple):
    """One feed as the last build grouped it: enough to regroup a quick edit."""

    kind: str
    name: str
    slug: str
    stem: str
    page_url: str
    total: int
    sources: tuple[str, ...]  # its entries' files, in feed order
    # Its members (newest first), as indices into the state's files (stored four bytes
    # each): what a quick edit needs to make the archive pages that hold it, and what an
    # article added or removed updates (see feedpub.regroup).
    members: Sequence[int] = ()


class Order(NamedTuple):
    """Where grouping placed each file (by index, as the state's files): what an article
    added or removed needs to find its place in the groups it joins (see feedpub.regroup).

    Kept only when the last grouping met no problem (no duplicate id, no two spellings of
    one name): only then is every group's name its members' one spelling.
    """

    published: array[float]  # the time of each published article (its sort key), else NaN
    ids: array[int]  # each article's id as id_code gives it (drafts too), else 0


NOT_PUBLISHED = float("nan")


def id_code(id_: str) -> int:
    """A short code of an article's id (never 0): two articles with one id have one code,
    and an equal code sends a build the whole way (to report the duplicate, if it is one)."""
    return zlib.crc32(id_.encode()) + 1


def order_of(files: Sequence[File], listed: Iterable[Any], now: datetime) -> Order:
    """The Order of `files`, from the listings of every article that parsed (or was kept)."""
    index = dict(zip(map(_SOURCE, files), count()))
    published = array("d", [NOT_PUBLISHED]) * len(files)
    ids = array("q", [0]) * len(files)
    for item in listed:
        number = index.get(item.source)
        if number is None:  # a last good version whose file went away
            continue
        ids[number] = id_code(item.id)
        if not item.draft and item.published <= now:
            published[number] = item.published.timestamp()
    return Order(published, ids)


class ArticleRecord(NamedTuple):
    """An article as plain values (marshal's cheapest form), field for field."""

    path: str
    id: str
    slug: str
    title: str
    section: str
    topics: tuple[str, ...]
    published: str
    updated: str
    url: str
    authors: tuple[tuple[str, str | None, str | None], ...]
    body: str
    subtitle: str | None
    image: tuple[str, str | None, str | None, str | None, int | None] | None
    draft: bool
    source: str
    digest: str


# An archived article's card: its record without the body (an :class:`ArticleRecord`
# as a plain tuple, body "") and its summary as entries carry it. Made by the parsing
# workers when archive pages are in summary mode, so that a cold build neither reads
# an archived article again nor renders its Markdown (an archive page in summary mode
# shows the summary: the deck, else the body's start). At 10,000 articles this took
# the cold build from 13.3 s to 8.6 s (the Markdown of every archived article was
# rendered, in one process, for its summary only).
#
# A card is held packed (see pack_card): its digest, then the tuple marshalled, a few hundred
# bytes in place of some thirty objects (at 100,000 articles, 65 MB less after parsing).
Card = bytes


def pack_card(card: tuple[Any, ...]) -> Card:
    """A card as it is held and stored: the digest of the file version it was made from
    (read without unpacking the card), then the card marshalled (version 4: short strings
    and repeated ones stored once, 20% smaller than version 2, whose form alone depends on
    the value; two packings of one card may differ, so cards are compared unpacked)."""
    digest: bytes = card[-2].encode()
    return bytes((len(digest),)) + digest + marshal.dumps(card, 4)


def unpack_card(card: Card) -> tuple[Any, ...]:
    """The card's tuple: its article's record (body "") and its summary, last."""
    unpacked: tuple[Any, ...] = marshal.loads(memoryview(card)[1 + card[0] :])
    return unpacked


def card_digest(card: Card) -> str:
    """The digest of the file version a card was made from."""
    return card[1 : 1 + card[0]].decode()


_ZONES: dict[tzinfo | None, tzinfo | None] = {}  # the time zones of listings' dates, by offset


class Listing:
    """A cached article's listing: what grouping reads. The article itself is read again
    from its file if it becomes an entry (a few thousand of an archive's articles do)."""

    __slots__ = (
        "bylines", "card", "digest", "draft", "id", "path", "published", "section", "source",
        "topics",
    )  # fmt: skip

    def __init__(self, record: tuple[Any, ...], card: Card | None = None):
        (self.source, self.path, self.id, published, section, topics, self.digest,
         self.draft, bylines) = record  # fmt: skip
        # What an archive page in summary mode shows of the article, made where it was
        # parsed: archived articles are then never read again (see :data:`Card`).
        self.card = card
        moment = datetime.fromisoformat(published)
        zone = _ZONES.setdefault(moment.tzinfo, moment.tzinfo)  # each offset's held once
        self.published = moment if zone is moment.tzinfo else moment.replace(tzinfo=zone)
        self.section = sys.intern(section)  # a few dozen names shared by every listing
        self.topics = topics if type(topics) is tuple else tuple(topics)
        self.bylines = bylines if type(bylines) is tuple else tuple(bylines)

    def record(self) -> tuple[Any, ...]:
        """The listing as stored."""
        return _listing_record(self)

    @classmethod
    def of(cls, article: Article) -> Listing:
        """The listing of a freshly parsed article (its names interned: stored once)."""
        listing = cls(_listing_record(article))
        listing.topics = tuple(sys.intern(topic) for topic in listing.topics)
        listing.bylines = tuple(sys.intern(name) for name in listing.bylines)
        return listing


@dataclass(frozen=True, slots=True)
class Cached:
    """One article file's parse, valid while its file is unchanged."""

    stat: Stat
    listing: Listing


@dataclass(frozen=True, slots=True)
class Rendered:
    """One article's rendered content, valid for the file version with this digest, with the
    warnings rendering gave (reported on every build while the article is in a feed)."""

    digest: str
    content: Content
    problems: tuple[Problem, ...] = ()


class Document(NamedTuple):
    """One document as written: the fingerprint of its inputs and its file's size and time.

    A tuple: a rerun reads 8,000 of them from the state (made as tuples, not by a frozen
    dataclass's __init__: 7 → 3 ms at 100,000 articles)."""

    fingerprint: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Totals:
    """The counts a build reports: files read, articles valid, articles published, feeds."""

    files: int = 0
    articles: int = 0
    published: int = 0
    feeds: int = 0


@dataclass(frozen=True, slots=True)
class State:
    """Everything a build passes to the next one, but the parse cache."""

    fingerprint: str = ""
    now: datetime | None = None
    due: datetime | None = None
    files: Sequence[File] = ()
    problems: tuple[Problem, ...] = ()
    totals: Totals = field(default_factory=Totals)
    documents: Mapping[str, Document] = field(default_factory=dict)
    kept: Mapping[str, Article] = field(default_factory=dict)
    contents: Mapping[str, Rendered] = field(default_factory=dict)
    groups: Sequence[GroupRecord] = ()  # the feeds as grouped
    # By file (as `files`): an archived member's digest then its listing key (see Member).
    digests: Sequence[str] = ()
    # The folders the walk read, with their stats, when it met nothing but folders and files
    # (see load.scan): while none of them and none of `files` changes, no walk is needed.
    folders: Sequence[tuple[str, tuple[int, int, int, int]]] = ()
    order: Order | None = None  # where grouping placed each file (see Order)


class _Decoded(Mapping[str, Article]):
    """Article records by source, each decoded when first asked for (most never are)."""

    def __init__(self, records: dict[str, ArticleRecord]) -> None:
        self._records = records
        self._articles: dict[str, Article] = {}

    def __getitem__(self, key: str) -> Article:
        article = self._articles.get(key)
        if article is None:
            article = self._articles[key] = article_from(self._records[key])
        return article

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:  # without decoding the record
        return key in self._records


@cache
def code_fingerprint() -> str:
    """A digest of feedpub's own source: any change to the code invalidates the cache.

    Walked from the package's folder (importing importlib.resources cost every build
    11 ms, the walk 2); a package that is no folder (in a zip) through importlib."""
    root: Any = Path(_package_folder())
    if not root.is_dir():  # pragma: no cover - feedpub imported from a zip
        from importlib import resources

        root = resources.files(__package__ or "feedpub")
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    folders, sources = [("", root)], []
    while folders:  # the package and its subpackages (formats/, delivery/)
        prefix, folder = folders.pop()
        for item in folder.iterdir():
            if item.name.endswith(".py"):
                sources.append((prefix + item.name, item))
            elif item.is_dir() and item.joinpath("__init__.py").is_file():
                folders.append((f"{prefix}{item.name}/", item))
    for name, item in sorted(sources, key=lambda source: source[0]):
        digest.update(name.encode())
        digest.update(item.read_bytes())
    return digest.hexdigest()


def _package_folder() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def fingerprint(config: Config) -> str:
    """What every cached value depends on besides its own file: the code and the configuration."""
    return hashlib.blake2b(f"{code_fingerprint()}{config!r}".encode(), digest_size=16).hexdigest()


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


class Member(tuple):  # type: ignore[type-arg]
    """An archived group's member in a quick edit: its file and digest, all that an archive
    page's fingerprint and a read of the whole article need (grouping never sees one).

    A tuple (source, path, stored digest and listing key, index in the state's files),
    made with :func:`members`: a quick edit makes one for every archived article.
    """

    __slots__ = ()

    source = property(itemgetter(0))
    path = property(itemgetter(1))
    stored = property(itemgetter(2))
    number = property(itemgetter(3))  # its index in the state's files

    @property
    def digest(self) -> str:
        return self[2][:DIGEST_LENGTH]  # type: ignore[no-any-return]

    @property
    def key(self) -> str:
        return self[2][DIGEST_LENGTH:]  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        raise AttributeError("id")

    @property
    def published(self) -> datetime:
        raise AttributeError("published")

    @property
    def draft(self) -> bool:
        return False

    @property
    def section(self) -> str:
        raise AttributeError("section")

    @property
    def topics(self) -> tuple[str, ...]:
        raise AttributeError("topics")

    @property
    def bylines(self) -> tuple[str, ...]:
        raise AttributeError("bylines")


class Members(Sequence[Any]):
    """A Member for every file (its index in `files`) with its stored digest, each made when
    first asked for, or the article set in its place: a rerun asks for the few members its
    feeds and the pages it renders hold (making all 100,000 took 35–45 ms)."""

    __slots__ = ("_digests", "_files", "_made")

    def __init__(self, files: Sequence[File], digests: Sequence[str]) -> None:
        self._files, self._digests = files, digests
        self._made: dict[int, Any] = {}

    def __len__(self) -> int:
        return min(len(self._files), len(self._digests))

    def __getitem__(self, index: Any) -> Any:
        made = self._made.get(index)
        if made is None:
            if type(index) is not int or not 0 <= index < len(self):
                raise IndexError(index)
            source, path, _ = self._files[index]
            made = self._made[index] = Member((source, path, self._digests[index], index))
        return made

    def __setitem__(self, index: int, item: Any) -> None:
        if not 0 <= index < len(self):
            raise IndexError(index)
        self._made[index] = item


class Picked(Sequence[Any]):
    """A group's members picked by index from every file's member (see :class:`Members`),
    each when it is asked for: the members of a feed that keeps no archive pages are never
    all asked for (520,000 picks at 100,000 articles took 0.09 s, for the reference counts
    written to objects all over the heap)."""

    __slots__ = ("_made", "_numbers")

    def __init__(self, made: Sequence[Any], numbers: Sequence[int]) -> None:
        self._made = made
        self._numbers = numbers

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):  # picked as lazily (an archive page's entries)
            return Picked(self._made, self._numbers[index])
        return self._made[self._numbers[index]]

    def __iter__(self) -> Iterator[Any]:
        return map(self._made.__getitem__, self._numbers)

    def holds(self, numbers: AbstractSet[int]) -> bool:
        """Some member's index is one of `numbers` (asked without picking any)."""
        return not numbers.isdisjoint(self._numbers)


DIGEST_LENGTH = 32  # of a file's digest (parse.digest), as hex


def listing_key(item: Any) -> str:
    """What places an article in its groups (id, date, section, topics, authors), digested:
    an archived article in no feed whose key an edit keeps is edited quickly."""
    if type(item) is Member:
        return item.key
    placed = (item.id, item.published.isoformat(), item.section, item.topics, item.bylines)
    return hashlib.blake2b(repr(placed).encode(), digest_size=8).hexdigest()


def group_records(
    groups: Iterable[Group], files: Sequence[tuple[str, Any, Any]],
    known: Mapping[str, str] | None = None,
) -> tuple[list[GroupRecord], list[str]]:  # fmt: skip
    """The groups as the state keeps them, and each file's member digest (by index).

    `known` holds the member digests of the last state by source, made under this build's
    fingerprint: one that starts with a member's file digest is that member's (the same
    bytes at the same source place an article the same way), and is not made again.
    """
    known = known or {}
    digests = [""] * len(files) if any(group.members for group in groups) else []
    members: list[tuple[int, ...]] = []
    index: dict[str, int] = {}
    try:
        for group in groups:
            if all(type(member) is Member for member in group.members[:1]):
                # A quick edit's members know their index (0.4 s to 0.1 s at 100,000).
                numbers = tuple(
                    member.number if type(member) is Member
                    else (index or _index(files, index))[member.source]
                    for member in group.members
                )  # fmt: skip
            else:
                index = index or _index(files, index)
                # looked up in C (map): 200,000 members at 100,000 articles
                numbers = tuple(map(index.__getitem__, map(_SOURCE_OF, group.members)))
            for number, member in zip(numbers, group.members, strict=True):
                if not digests[number]:
                    last = known.get(member.source)
                    digest = member.digest
                    digests[number] = last if (
                        last is not None and digest and last.startswith(digest)
                    ) else digest + listing_key(member)  # fmt: skip
            members.append(numbers)
    except KeyError:  # a last good version whose file went away: no quick edit next time
        digests, members = [], []
    records = [
        GroupRecord(
            group.kind.value, group.name, group.slug, group.stem, group.page_url, group.total,
            tuple(entry.source for entry in group.entries), members[number] if members else (),
        )
        for number, group in enumerate(groups)
    ]  # fmt: skip
    return records, digests


def edited_records(
    previous: State, edited: Iterable[Article], at: Iterable[int]
) -> tuple[list[GroupRecord], list[str]]:
    """What :func:`group_records` makes of a quick edit's groups (see
    incremental.Rules.quick_edit), without the groups: the last state's records, since
    every article stayed where it was, and its member digests with the edited articles'
    (their files `at` those indices) made again from their new files."""
    digests = list(previous.digests)
    if digests:
        wanted = by_source(edited)
        for number in at:
            article = wanted.get(previous.files[number][0])
            if article is not None and digests[number]:
                digests[number] = article.digest + listing_key(article)
    return list(previous.groups), digests


def _index(files: Sequence[tuple[str, Any, Any]], index: dict[str, int]) -> dict[str, int]:
    index.update(zip(map(_SOURCE, files), count()))
    return index


_SOURCE_OF = attrgetter("source")  # of a Listed


def by_source(articles: Iterable[Article]) -> dict[str, Article]:
    """The articles keyed by their file's path under the articles folder."""
    return {article.source: article for article in articles}


def _encode_files(files: Sequence[File]) -> tuple[Any, ...]:
    """The files as three values, not 100,000 tuples: their keys, their paths (each joined
    by NULs, which no name holds) and their stats, four 64-bit integers each (as a list of
    tuples should one not fit). A state's own files, never looked at, are stored as read."""
    if type(files) is Files:
        return files.record
    try:
        stats: bytes | list[tuple[int, ...]] = array(
            "q", chain.from_iterable(map(_STAT, files))
        ).tobytes()
    except OverflowError:
        stats = [tuple(stat) for _, _, stat in files]
    return (len(files), "\0".join(map(_SOURCE, files)), "\0".join(map(_PATH, files)), stats)


_SOURCE, _PATH, _STAT = itemgetter(0), itemgetter(1), itemgetter(2)  # of a File


def common(one: list[File], other: list[File], step: int, limit: int | None = None) -> int:
    """How many files `one` and `other` have in common at their start (`step` 1) or their
    end (-1), at most `limit`: found by halves, each half compared in C."""
    low, high = 0, min(len(one), len(other)) if limit is None else limit
    while low < high:
        middle = (low + high + 1) // 2
        if step > 0:
            same = one[low:middle] == other[low:middle]
        else:
            same = one[len(one) - middle : len(one) - low] == other[
                len(other) - middle : len(other) - low
            ]  # fmt: skip
        if same:
            low = middle
        else:
            high = middle - 1
    return low


def _splice(text: str, column: Callable[[File], str], mine: list[File], middle: list[File],
            kept: tuple[int, int]) -> str:  # fmt: skip
    """The NUL-joined `column` of `mine`'s first and last files (`kept`: how many of each),
    cut from `text`, which joins all of `mine`, with `middle`'s between."""
    start, end = kept
    parts = []
    if start:
        parts.append(text[: sum(map(len, map(column, mine[:start]))) + start - 1])
    if middle:
        parts.append("\0".join(map(column, middle)))
    if end:
        tail = sum(map(len, map(column, mine[len(mine) - end :]))) + end - 1
        parts.append(text[len(text) - tail :])
    return "\0".join(parts)


class Files(Sequence[File]):
    """A state's files as stored (see _encode_files), each made a File when first asked for:
    a rerun that finds every file unchanged compares their paths and stats and makes none
    (100,000 of them cost 0.07 s)."""

    def __init__(self, record: tuple[Any, ...]) -> None:
        count, sources, paths, stats = record
        if not (
            type(count) is int and count >= 0 and type(sources) is str and type(paths) is str
            and type(stats) in (bytes, list)
        ):  # fmt: skip
            raise ValueError("the files of the build state are damaged")
        self.record = record
        self._count: int = count
        self.paths: list[str] = paths.split("\0") if count else []
        if isinstance(stats, bytes):
            numbers = array("q")
            numbers.frombytes(stats)
            self.stats: Sequence[int] = numbers
        else:
            self.stats = [number for stat in stats if len(stat) == 4 for number in stat]
            if not all(type(number) is int for number in self.stats):
                raise ValueError("the files of the build state are damaged")
        if (
            len(self.paths) != count or len(self.stats) != 4 * count
            or (count and sources.count("\0") != count - 1)
        ):  # fmt: skip
            raise ValueError("the files of the build state are damaged")
        self._files: list[File] | None = None

    def files(self) -> list[File]:
        if self._files is None:
            new = tuple.__new__
            sources = self.record[1].split("\0") if self._count else []
            each = iter(self.stats)
            stats = map(new, repeat(Stat), zip(each, each, each, each, strict=False))
            # Made in C, by map and zip: a comprehension making the same took three times as long.
            self._files = list(map(new, repeat(File), zip(sources, self.paths, stats, strict=True)))
        return self._files

    def spliced(self, files: list[File]) -> Files:
        """`files` as a Files whose record is this one's where their start and end are this
        one's files, and only what lies between is encoded: one file added to 100,000 took
        30–36 ms to encode whole, 18–30 ms so (changes far apart leave a long middle, and
        save nothing)."""
        mine = self._files  # only when made already: making them costs what this saves
        if mine is None or not isinstance(self.record[3], bytes) or not files or not mine:
            return Files(_encode_files(files))
        start = common(mine, files, 1)
        end = common(mine, files, -1, min(len(mine), len(files)) - start)
        middle = files[start : len(files) - end]
        try:
            stats = array("q", chain.from_iterable(map(_STAT, middle))).tobytes()
        except OverflowError:
            return Files(_encode_files(files))
        _, sources, paths, packed = self.record
        joined = [_splice(text, column, mine, middle, (start, end))
                  for text, column in ((sources, _SOURCE), (paths, _PATH))]  # fmt: skip
        record = (len(files), *joined, packed[: 32 * start] + stats
                  + packed[len(packed) - 32 * end :])  # fmt: skip
        made = Files.__new__(Files)  # its parts known good: not split and checked again
        made.record, made._count, made._files = record, len(files), files
        made.paths = list(map(_PATH, files))
        made.stats = array("q")
        made.stats.frombytes(record[3])
        return made

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self.files()[index]

    def __iter__(self) -> Iterator[File]:
        return iter(self.files())

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if isinstance(other, Files):
            other = other.files()
        return self.files() == other

    __hash__ = None  # type: ignore[assignment]


def _decode_folders(record: Any) -> list[tuple[str, tuple[int, int, int, int]]]:
    folders = [(path, tuple(stat)) for path, stat in record]
    if not all(
        type(path) is str and len(stat) == 4 and all(type(n) is int for n in stat)
        for path, stat in folders
    ):
        raise ValueError("the folders of the build state are damaged")
    return folders


def encode_state(state: State) -> bytes:
    """The state as bytes, in a stable order."""
    return b"".join(encode_state_parts(state))


def encode_state_parts(state: State) -> Iterator[bytes]:
    """The bytes of :func:`encode_state`, a part at a time: the head of the state's tuple,
    then each of its fields marshalled alone, made only when the last is taken.

    Version 2 of marshal writes a tuple as its type, its length and each item in turn (it
    has no references between objects; version 3 brought them), so the parts are the
    bytes of the whole tuple marshalled at once. At 100,000 articles the state is 26 MB
    and its largest field 9 MB: written a part at a time, the whole is never held.
    """
    fields: tuple[Callable[[], Any], ...] = (
        lambda: FORMAT,
        lambda: state.fingerprint,
        lambda: _time(state.now),
        lambda: _time(state.due),
        lambda: _encode_files(state.files),
        lambda: [problem.record() for problem in state.problems],
        lambda: (state.totals.files, state.totals.articles, state.totals.published,
                 state.totals.feeds),
        lambda: [(name, *item) for name, item in sorted(state.documents.items())],
        lambda: [_without_body(state.kept[key]) for key in sorted(state.kept)],
        lambda: [(key, item.digest, item.content.summary, item.content.html,
                  [problem.record() for problem in item.problems])
                 for key, item in sorted(state.contents.items())],
        lambda: [(*group[:7], array("I", group.members).tobytes()) for group in state.groups],
        lambda: list(state.digests),
        lambda: [(path, tuple(stat)) for path, stat in state.folders],
        lambda: None if state.order is None
        else (state.order.published.tobytes(), state.order.ids.tobytes()),
    )  # fmt: skip
    yield b"(" + len(fields).to_bytes(4, "little")  # marshal's TYPE_TUPLE and its length
    for field_ in fields:
        yield marshal.dumps(field_(), 2)


def _decode_records(records: list[tuple[Any, ...]]) -> dict[str, ArticleRecord]:
    found = (ArticleRecord._make(record) for record in records)
    return {record.source: record for record in found}


def _decode_contents(contents: list[tuple[Any, ...]]) -> dict[str, Rendered]:
    """Rendered contents (from an older state too, whose records have no problems)."""
    found = {}
    for key, digest, summary, html, *rest in contents:
        problems = tuple(Problem.from_record(record) for record in rest[0]) if rest else ()
        found[key] = Rendered(digest, Content(summary, html), problems)
    return found


# The formats whose last good versions are still read (their records are the same).
OLDER_FORMATS = {9, 10, 11, 12}


def decode_state(data: bytes) -> State:
    """The state in `data`; an empty state when it is of another format. Raises ValueError
    when it is damaged (a state is written whole or not at all: someone else changed it).

    A state of an older format whose article records are still read gives its
    last good versions and nothing else: the build after an upgrade groups and
    renders everything again, and loses no article published before it.
    """
    try:
        record = marshal.loads(data)
        version = record[0]
    except (ValueError, TypeError, EOFError, IndexError, KeyError):
        raise ValueError("the build state is damaged") from None
    if version != FORMAT and version not in OLDER_FORMATS:
        return State()  # another version's state: everything is grouped and rendered again
    try:
        (version, print_, now, due, files, problems, totals, documents, kept,
         contents, groups, *rest) = record  # fmt: skip
        if version in OLDER_FORMATS:
            return State(kept=_Decoded(_decode_records(kept)), contents=_decode_contents(contents))
        if version != FORMAT:
            return State()
        state = State(
            fingerprint=print_,
            now=_from_time(now),
            due=_from_time(due),
            files=(state_files := Files(files)),
            problems=tuple(Problem.from_record(problem) for problem in problems),
            totals=Totals(*totals),
            documents={name: Document(fp, size, mtime) for name, fp, size, mtime in documents},
            kept=_Decoded(_decode_records(kept)),
            contents=_decode_contents(contents),
            groups=[_decode_group(group) for group in groups],
            digests=rest[0],
            folders=_decode_folders(rest[1]),
            order=_decode_order(rest[2], len(state_files)),
        )  # fmt: skip
        _check_groups(state)
    except (ValueError, TypeError, EOFError, IndexError, KeyError, AttributeError):
        raise ValueError("the build state is damaged") from None
    return state


def _decode_group(record: tuple[Any, ...]) -> GroupRecord:
    *head, members = record
    numbers = array("I")  # unsigned: none below 0
    numbers.frombytes(members)
    return GroupRecord._make((*head, numbers))


def _decode_order(record: Any, count: int) -> Order | None:
    if record is None:
        return None
    published, ids = array("d"), array("q")
    published.frombytes(record[0])
    ids.frombytes(record[1])
    if len(published) != count or len(ids) != count:
        raise ValueError("the order of the build state is damaged")
    return Order(published, ids)


def _check_groups(state: State) -> None:
    """Raise ValueError unless the groups and digests fit the files and last good versions
    (the quick path indexes the one with the other)."""
    from .model import GroupKind

    count, digests = len(state.files), state.digests
    # Types told by sets of them, made in C: each rerun reads 100,000 digests, 200,000 members.
    if type(digests) is not list or len(digests) not in (0, count) or not {
        *map(type, digests)
    } <= {str}:  # fmt: skip
        raise ValueError("the member digests of the build state are damaged")
    for group in state.groups:
        GroupKind(group.kind)  # a ValueError for a kind no build writes
        members = group.members
        if (
            not {*map(type, group[:5])} <= {str} or type(group.total) is not int
            or any(source not in state.kept for source in group.sources)
            or (members and (not digests or max(members) >= count))
        ):  # fmt: skip
            raise ValueError("the groups of the build state are damaged")


CHUNK = 2000  # cache entries per marshalled chunk: a large archive is never encoded whole


def encode_cache(fingerprint_: str, cache_: Mapping[str, Cached]) -> Iterator[bytes]:
    """The parse cache as a stream of chunks, in a stable order."""
    keys = sorted(cache_)
    yield _framed(marshal.dumps((FORMAT, fingerprint_, len(keys)), 2))
    for start in range(0, len(keys), CHUNK):
        chunk = []
        for key in keys[start : start + CHUNK]:
            item = cache_[key]
            listing = item.listing
            chunk.append((
                listing.source, *item.stat, listing.id, listing.published.isoformat(),
                listing.section, listing.topics, listing.digest, listing.bylines,
            ))  # fmt: skip
        # Version 4 stores a repeated object once (the section and topic names are
        # shared): fewer objects to build when the cache is read.
        yield _framed(marshal.dumps(chunk, 4))


def decode_cache(stream: BinaryIO, fingerprint_: str) -> dict[str, Cached]:
    """The parse cache in `stream`, when it was made under `fingerprint_`; else empty."""
    try:
        version, print_, count = marshal.loads(_unframed(stream))
        if version != FORMAT or print_ != fingerprint_:
            return {}
        found: dict[str, Cached] = {}
        new = tuple.__new__
        while len(found) < count:
            for (
                source,
                size,
                mtime,
                ctime,
                inode,
                id_,
                published,
                section,
                topics,
                digest,
                bylines,
            ) in marshal.loads(_unframed(stream)):
                listing = Listing(
                    (source, source, id_, published, section, topics, digest, False, bylines)
                )
                found[source] = Cached(new(Stat, (size, mtime, ctime, inode)), listing)
        return found
    except (ValueError, TypeError, EOFError, IndexError):
        return {}


def _framed(data: bytes) -> bytes:
    """`data` behind its length, so a reader takes each chunk whole (marshal reads a stream
    object by object, in Python calls: ten times slower than from bytes)."""
    return len(data).to_bytes(8, "little") + data


def _unframed(stream: BinaryIO) -> bytes:
    size = int.from_bytes(stream.read(8), "little")
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the cache ends early")
    return data


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _from_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _listing_record(item: Article | Listing) -> tuple[Any, ...]:
    return (item.source, item.path, item.id, item.published.isoformat(), item.section,
            item.topics, item.digest, item.draft, item.bylines)  # fmt: skip


def _without_body(article: Article) -> tuple[Any, ...]:
    """A kept article's record: its content is kept rendered, so its body is not."""
    return tuple(article_record(article, body=""))


def article_record(article: Article, *, body: str | None = None) -> ArticleRecord:
    """An article as a record of plain values; with `body`, that body instead of its own."""
    image = article.image
    return ArticleRecord(
        article.path, article.id, article.slug, article.title, article.section,
        article.topics, article.published.isoformat(), article.updated.isoformat(),
        article.url, tuple((p.name, p.email, p.uri) for p in article.authors),
        article.body if body is None else body, article.subtitle,
        None if image is None
        else (image.url, image.caption, image.credit, image.type, image.length),
        article.draft, article.source, article.digest,
    )  # fmt: skip


def article_from(record: tuple[Any, ...]) -> Article:
    """The article a record (an :class:`ArticleRecord`, or the plain tuple stored) holds.

    Its authors are made once a process for each person (an archive's articles share a few
    hundred bylines), and a date updated when published is one object.
    """
    (path, id_, slug, title, section, topics, published, updated, url, authors, body, subtitle,
     image, draft, source, digest) = record  # fmt: skip
    when = datetime.fromisoformat(published)
    return Article(
        path=path, id=id_, slug=slug, title=title, section=section, topics=tuple(topics),
        published=when, updated=when if updated == published else datetime.fromisoformat(updated),
        url=url, authors=tuple(map(_person, authors)), body=body,
        subtitle=subtitle, image=None if image is None else Image(*image), draft=draft,
        source=source, digest=digest,
    )  # fmt: skip


_PEOPLE: dict[tuple[Any, ...], Person] = {}  # each person of a record, made once (article_from)


def _person(record: Any) -> Person:
    key = tuple(record)
    person = _PEOPLE.get(key)
    if person is None:
        if len(_PEOPLE) >= MAX_PEOPLE:
            _PEOPLE.clear()
        person = _PEOPLE[key] = Person(*key)
    return person


MAX_PEOPLE = 100_000  # persons held made at once: more are made again
