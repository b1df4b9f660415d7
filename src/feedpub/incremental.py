"""The rules that make a rerun cheap, each named, each with its reason.

A build asks these rules four questions: has anything changed at all
(:meth:`Rules.nothing_changed`); can the last build's groups be kept with a
few entries rewritten (:meth:`Rules.quick_edit`), or with a few articles placed
anew (:meth:`Rules.regroup`); which documents must be
rendered again (:meth:`Rules.fingerprints`, :meth:`Rules.current`); and what
the next build may trust (:meth:`Rules.settled_files`, :meth:`Rules.cacheable`,
:meth:`Rules.cache_worth_rewriting`).

Every rule errs towards work: a stat that might lie is distrusted, a change
the quick path cannot prove harmless sends the build down the full path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from .errors import Severity
from .formats import can_splice
from .layout import ARCHIVE_FOLDER, INDEX_FILES
from .model import Article, Group, GroupKind, Page
from .state import DIGEST_LENGTH, Cached, Members, Picked, Stat, State, listing_key

if TYPE_CHECKING:
    from .load import Loaded
    from .model import Config
    from .regroup import Regrouped
    from .state import File
    from .store import LocalStore

# RACY_NS: a file modified this close to the build's start may be modified again
# within the same tick of the file system's clock, keeping its stat: such a stat
# is not trusted next time (the file is read and its digest compared), as git
# does for its "racily clean" entries.
RACY_NS = 2_000_000_000
# Changed files a build may take without grouping the whole archive again: 50, or 2% of the
# files (1% of 100,000 edited took 7.5 s grouped again, 6.1 s quickly; most of either is
# rendering and writing the 3,200 archive pages that hold them).
QUICK_EDITS, QUICK_SHARE = 50, 50
STALE_ENTRIES = 100  # or 1% of the cache: stale entries tolerated before it is rewritten


def distrusted(stat: Stat) -> Stat:
    """A stat that no file will match: the next build reads the file and compares digests."""
    return stat._replace(mtime_ns=-1)


class Rules:
    """The incremental rules of one build, given what the last one left."""

    def __init__(
        self, previous: State, fingerprint: str, now: datetime, *, started: int, use_cache: bool
    ) -> None:
        self.previous = previous
        self.fingerprint = fingerprint
        self.now = now
        self.started = started
        # Nothing the last build left is trusted when the code or configuration changed
        # (but for the last good versions of broken articles, kept whatever happens).
        self.trusted = use_cache and previous.fingerprint == fingerprint

    def nothing_changed(
        self,
        store: LocalStore,
        files: Sequence[File],
        folders: Sequence[tuple[str, tuple[int, int, int, int]]] = (),
    ) -> bool:
        """No article file, no document and nothing due changed since the last build.

        Files touched but not changed (new stats, the bytes the last build used: see
        :meth:`_touched_only`) change nothing either; their new stats are saved in the
        state, so that the next build trusts them again.
        """
        previous = self.previous
        if not self.trusted or not self._clock_moved_forward():
            return False
        touched = [] if _same(files, previous.files) else self._touched(files)
        if touched is None:
            return False
        # Only a build that writes may take the touched files' path: it must save the new
        # stats. An edit is found here, by reading the file, before any document's stat.
        if touched and (not store.holding_lock or not self._touched_only(store, files, touched)):
            return False
        if not all(
            store.stat(name) == (document.size, document.mtime_ns)
            for name, document in previous.documents.items()
        ):
            return False
        settled_folders = self.settled_folders(folders)
        if not touched:
            # A folder that changed with no article coming or going (a note beside them,
            # a folder distrusted just after a change) is saved, so that the next build
            # trusts it again and lists no folder.
            if settled_folders != list(previous.folders) and store.holding_lock:
                store.write_state(replace(previous, folders=settled_folders))
            return True
        settled = self.settled_files(files)
        store.write_state(replace(previous, files=settled, folders=settled_folders))
        return True

    def _touched(self, files: Sequence[File]) -> list[int] | None:
        """The indices of the files whose stat alone changed, when the same files are there
        in the same order; else None."""
        records = self.previous.files
        if len(files) != len(records):
            return None
        touched = []
        for number, (file, (source, path, stat)) in enumerate(zip(files, records, strict=True)):
            if file.stat != stat:
                if file.source != source or file.path != path:
                    return None
                touched.append(number)
            elif file.source != source or file.path != path:
                return None
        return touched

    def _touched_only(self, store: LocalStore, files: Sequence[File], touched: list[int]) -> bool:
        """Every touched file holds the very bytes the last build used (read and digested;
        see :mod:`feedpub.recheck`), and none of them had a problem reported.

        The digest of the version used is the state's (an archived member's), else the
        cache's, when the cache entry was made from the version whose stat the state
        records. A touched file whose digest is not known so is taken as changed.
        """
        from .recheck import same_bytes

        previous = self.previous
        flagged = {problem.path for problem in previous.problems}
        digests = previous.digests
        cache: Mapping[str, Cached] | None = None
        candidates = []
        for number in touched:
            file = files[number]
            old = previous.files[number][2]
            if file.path in flagged or file.stat.size != old[0]:
                return False
            known = digests[number][:DIGEST_LENGTH] if digests else ""
            if not known:
                if cache is None:
                    cache = store.read_cache(self.fingerprint)
                cached = cache.get(file.source)
                if cached is None or cached.stat != old or old[1] == -1:
                    return False
                known = cached.listing.digest
            candidates.append((file.source, file.path, file.stat.size, known))
        return len(same_bytes(candidates)) == len(candidates)

    def _clock_moved_forward(self) -> bool:
        """The build runs at or after the last one, and no future-dated article fell due."""
        previous = self.previous
        if previous.now is None or self.now < previous.now:
            return False
        return previous.due is None or self.now < previous.due

    def quick_edit(  # noqa: PLR0911, PLR0912 - one early return per reason to group again
        self, files: Sequence[File], reread: Callable[[Sequence[File]], Loaded]
    ) -> tuple[tuple[Group, ...], Loaded, frozenset[int]] | None:
        """The last build's groups with a few entries rewritten, when that is all that changed.

        Taken only when every changed file is an entry of the last build, still parses
        without an error, and keeps its id, date, section, topics and authors (so every
        feed holds the same entries in the same order), no file came or went, and nothing
        fell due. Anything else groups the whole archive again. The changed files are
        parsed as a full build parses them (the same limits, the same warnings).
        """
        previous = self.previous
        if not self.trusted or not previous.groups or not self._clock_moved_forward():
            return None
        if not previous.digests and any(_archive_page(name) for name in previous.documents):
            return None  # archive pages are made from every member, and those are not known
        if len(files) != len(previous.files):
            return None
        before = list(previous.files)
        edits = _differing(list(files), before, max(QUICK_EDITS, len(files) // QUICK_SHARE))
        if not edits:
            return None
        changed = []
        numbers: dict[str, int] = {}  # each changed file's index
        for index in edits:
            file, (source, path, _) = files[index], before[index]
            if file.source != source or file.path != path:
                return None
            changed.append(file)
            numbers[file.source] = index
        entries = {source for group in previous.groups for source in group.sources}
        flagged = {problem.path for problem in previous.problems}
        # An article in no feed but on archive pages: its listing key stands for its old
        # version (at 10,000 articles 0.35 s, against 0.87 s grouping everything again).
        archived: dict[str, int] = {}
        if previous.digests:
            archived = {
                f.source: numbers[f.source]
                for f in changed
                if f.source not in previous.kept and previous.digests[numbers[f.source]]
            }
        if any(f.path in flagged for f in changed) or any(
            f.source not in archived and (f.source not in entries or f.source not in previous.kept)
            for f in changed
        ):  # fmt: skip
            return None
        loaded = reread(changed)
        if any(problem.severity is Severity.ERROR for problem in loaded.problems):
            return None
        edited: dict[str, Article] = {}
        for item in loaded.articles:
            if not isinstance(item, Article) or item.draft or item.published > self.now:
                return None
            if item.expires is not None:  # it would fall due: the next build must not be skipped
                return None
            at = archived.get(item.source)
            if at is not None:
                if listing_key(item) != previous.digests[at][DIGEST_LENGTH:]:
                    return None
                edited[item.source] = item
                continue
            old = previous.kept[item.source]
            if (item.id, item.published, item.section, item.topics, item.bylines) != (
                old.id, old.published, old.section, old.topics, old.bylines
            ):  # fmt: skip
                return None
            edited[item.source] = item
        if len(edited) != len(changed):
            return None
        # Every archived article's member, made once (an article is in several groups), and
        # the groups' members picked from them by index: 0.1 s at 100,000 articles, grouping
        # again 2 s. A file no group holds has no digest, and no member.
        made = Members(files, previous.digests)
        for source, article in edited.items():
            if numbers[source] < len(made):
                made[numbers[source]] = article
        groups = tuple(
            Group(
                GroupKind(record.kind),
                record.name,
                record.slug,
                record.stem,
                record.page_url,
                tuple(edited.get(source) or previous.kept[source] for source in record.sources),
                record.total,
                Picked(made, record.members),
            )
            for record in previous.groups
        )
        return groups, loaded, frozenset(numbers[source] for source in edited)

    def regroup(
        self, files: Sequence[File], reread: Callable[[Sequence[File]], Loaded], config: Config
    ) -> Regrouped | None:
        """The last build's groups with a few articles added, deleted or placed anew, when
        nothing else changed (see :mod:`feedpub.regroup`); else None."""
        from .regroup import regroup

        if not self.trusted or not self.previous.groups or not self._clock_moved_forward():
            return None
        return regroup(self.previous, config, self.now, files, reread)

    def fingerprints(
        self, pages: Sequence[Page], groups: Sequence[Group], *,
        moved: Mapping[str, int] | None = None, fresh: AbstractSet[int] = frozenset(),
    ) -> dict[str, str]:  # fmt: skip
        """What each document is rendered from: the code and configuration, its page (group,
        format, links) and its entries' files; for the indexes, every feed's name and count.

        `moved`: the groups whose members changed since the last build, by stem, each with
        how many of its archive pages (from the oldest) are as they were, when the other
        groups are known to be the same (see :mod:`feedpub.regroup`); `fresh`: the indices
        (in the files) of the articles parsed this build, on those paths."""
        listing = repr([(g.kind.value, g.name, g.slug, g.page_url, g.total) for g in groups])
        prints = {}
        documents = self.previous.documents if self.trusted else {}
        # Each archive page's entries as fingerprinted, made once for the Atom and the RSS
        # page that share them (keyed by the tuple itself, which the pages keep alive).
        entries: dict[int, bytes] = {}
        for page in pages:
            last = documents.get(page.path) if page.archive else None
            held = page.entries
            if (
                last is not None and type(held) is Picked and not held.holds(fresh)
                and (moved is None or page.group.stem not in moved
                     or _page_number(page) <= moved[page.group.stem])
            ):  # fmt: skip
                # A rerun's archive page that holds no article parsed now, of a group whose
                # members are as they were (or of its pages that are): its group, links and
                # entries are the last build's (0.33 s to 0.1 s at 100,000 articles), and
                # none of its entries is picked.
                prints[page.path] = last.fingerprint
                continue
            made = entries.get(id(page.entries))
            if made is None:
                made = entries[id(page.entries)] = "".join(
                    [f"\0{article.source}\0{article.digest}" for article in page.entries]
                ).encode()  # one update, the same bytes
            prints[page.path] = self._print(page, made, listing)
        return prints

    def _print(self, page: Page, entries: bytes, listing: str = "") -> str:
        """A document's fingerprint: its page's, then `entries` (each entry's source and
        digest), and for the indexes `listing` (every feed's name and count)."""
        group = page.group
        digest = hashlib.blake2b(digest_size=16)
        head = (
            self.fingerprint, page.format, page.path, group.kind.value, group.name,
            group.slug, group.page_url, page.content.value, page.links, page.archive,
        )  # fmt: skip
        digest.update(repr(head).encode())
        if page.path in INDEX_FILES:
            digest.update(listing.encode())
        digest.update(entries)
        return digest.hexdigest()

    def spliceable(
        self, store: LocalStore, pages: Sequence[Page], before: Mapping[str, str]
    ) -> Spliceable:
        """The archive pages among `pages` (to render) that can be made from their last
        documents, and the entries those hold that must be written anew.

        A page qualifies when its file is untouched since the last build wrote it, and
        that build rendered it from the entries it holds now, in the same order: its
        fingerprint then is the one its entries make with the digests their files had
        (`before`, by source: the state's digests, which start with them). Every entry
        whose file is as it was is then written as the file writes it; only those whose
        digest changed are rendered (at 100,000 articles, 1% of them edited touch 3,200
        pages of 50 entries)."""
        documents = self.previous.documents if self.trusted else {}
        paths: set[str] = set()
        fresh: set[str] = set()
        made: dict[int, bytes] = {}  # the entries as fingerprinted then, by the pages' tuple
        for page in pages:
            last = documents.get(page.path)
            if (
                last is None or not can_splice(page)
                or store.stat(page.path) != (last.size, last.mtime_ns)
            ):  # fmt: skip
                continue
            entries = made.get(id(page.entries))
            if entries is None:
                entries = made[id(page.entries)] = _entries_before(page, before, fresh)
            if entries and self._print(page, entries) == last.fingerprint:
                paths.add(page.path)
        return Spliceable(frozenset(paths), frozenset(fresh))

    def current(self, store: LocalStore, name: str, value: str) -> bool:
        """The document was rendered from the same inputs and its file is untouched."""
        document = self.previous.documents.get(name) if self.trusted else None
        return (
            document is not None
            and document.fingerprint == value
            and store.stat(name) == (document.size, document.mtime_ns)
        )

    def settled_files(
        self, files: Sequence[File], changed: Collection[int] | None = None
    ) -> list[File]:
        """The files as the next build may trust them: a stat too recent is distrusted.

        `changed`: the indices of the only files whose stats differ from the last state's
        (whose own stats were settled then, and are older now)."""
        if changed is None:
            return [file._replace(stat=distrusted(file.stat)) if self._recent(file.stat)
                    else file for file in files]  # fmt: skip
        settled = list(files)
        for number in changed:
            file = settled[number]
            if self._recent(file.stat):
                settled[number] = file._replace(stat=distrusted(file.stat))
        return settled

    def settled_folders(
        self, folders: Sequence[tuple[str, tuple[int, int, int, int]]]
    ) -> list[tuple[str, tuple[int, int, int, int]]]:
        """The folders the walk read, as the next build may trust them (see settled_files):
        a folder changed just now may change again within the same tick of its clock."""
        return [(path, distrusted(Stat(*stat)) if self._recent(Stat(*stat)) else stat)
                for path, stat in folders]  # fmt: skip

    def cacheable(self, fresh: Mapping[str, Cached]) -> dict[str, Cached]:
        """The parse cache for the next build: published articles only (drafts and
        future-dated articles are read again), recent stats distrusted."""
        return {
            source: replace(cached, stat=distrusted(cached.stat))
            if self._recent(cached.stat) else cached
            for source, cached in fresh.items()
            if not cached.listing.draft and cached.listing.published <= self.now
        }  # fmt: skip

    @staticmethod
    def cache_worth_rewriting(before: Mapping[str, Cached], after: Mapping[str, Cached]) -> bool:
        """A few stale entries cost the next build that reaches the cache one read of each
        of their files; rewriting the whole cache for them would cost more."""
        stale = len(before.keys() - after.keys())
        for key, item in after.items():
            old = before.get(key)
            if old is None or (
                item is not old
                and (item.stat, item.listing.record()) != (old.stat, old.listing.record())
            ):
                stale += 1
        return stale > max(STALE_ENTRIES, len(after) // 100) or bool(stale and not before)

    def _recent(self, stat: Stat) -> bool:
        """Changed too close to the build's start for its stat to be trusted."""
        settled_before = self.started - RACY_NS
        return stat.mtime_ns >= settled_before or stat.ctime_ns >= settled_before


class Spliceable(NamedTuple):
    """The documents made from their last versions (see :meth:`Rules.spliceable`)."""

    paths: frozenset[str]  # of the pages
    fresh: frozenset[str]  # the sources of the entries they hold that are rendered anew


def _entries_before(page: Page, before: Mapping[str, str], fresh: set[str]) -> bytes:
    """A page's entries as the last build fingerprinted them, its files' digests then
    starting the state's digests in `before` (b"" when one is not there, or empty); each
    entry whose digest changed goes in `fresh`."""
    parts = []
    for entry in page.entries:
        source = entry.source
        stored = before.get(source)
        if not stored:
            return b""
        digest = stored[:DIGEST_LENGTH]
        if digest != entry.digest:
            fresh.add(source)
        parts.append(f"\0{source}\0{digest}")
    return "".join(parts).encode()


def _page_number(page: Page) -> int:
    """An archive page's number (1: the oldest), as its name gives it."""
    return int(page.path.rpartition("/")[2].partition(".")[0])


def _differing(one: list[File], other: list[File], limit: int) -> list[int] | None:
    """The indices at which `one` and `other` (of the same length) hold different files, in
    order; None when there are more than `limit`. Found by halves, each compared in C: a
    loop over 100,000 pairs took 35–48 ms, this 5–13 ms for one change."""
    found: list[int] = []
    pending = [(0, len(one))]
    while pending:
        low, high = pending.pop()
        if one[low:high] == other[low:high]:
            continue
        if high - low == 1:
            found.append(low)
            if len(found) > limit:
                return None
            continue
        middle = (low + high) // 2
        pending += ((middle, high), (low, middle))  # the first half is taken first
    return found


def _same(files: Sequence[tuple[object, ...]], records: Sequence[tuple[object, ...]]) -> bool:
    """The same files with the same stats (tuples all the way down: compared in C)."""
    return files == records


def _archive_page(name: str) -> bool:
    return name.startswith(ARCHIVE_FOLDER + "/")
