"""The last build's files checked by their stats before the walk, half in a forked helper.

On a rerun nearly every file is as the last build saw it, and the walk's time
is one `stat` per file, each a system call of a few microseconds that Python
cannot make faster. So the stats the state recorded are checked first, here
and (for many files) in a forked process at the same time: the last share of
the state's list (in walk order) in the helper, the rest here.

When no file changed and no folder the last walk read changed (a folder's
times change whenever an entry is added, removed or renamed in it), the walk
would find just what the last one found, and it is not made: see
:func:`feedpub.load.scan`. Otherwise the walk lists every folder and takes the
recorded stat of each file found unchanged, provisionally for those the
helper checks: each of those it reports changed is taken again, as the walk
would have taken it, so the files found are those a walk that took every stat
itself would have found.

Anything that goes wrong with the helper (no fork, a crash, an answer cut
short) makes every stat it was to check be taken again: slower, never
different.
"""

from __future__ import annotations

import os
import stat as stat_module
from array import array
from collections.abc import Sequence

from .forked import Forked, available
from .state import File, Files, Stat, stat_of

FROM = 20_000  # files the last build saw: fewer are checked faster than a process forks
SHARE = 0.5  # of those, the share the helper checks
_HEADER = 8  # the helper's answer: a count (8 bytes), then that many changes (see _changed)

Known = Sequence[File]  # the last build's files (the state's, or a scan's)


class Check:
    """The stats of the files `known` checked: by a helper for the last share (from
    :data:`FROM` files, when `helper` and forking is safe), here for the rest."""

    def __init__(self, known: Known, *, helper: bool) -> None:
        self.known = known
        start = len(known)
        self.helper = None
        if helper and len(known) >= FROM and available():
            start -= int(len(known) * SHARE)
            self.helper = Helper(known, start)
            if not self.helper.pid:  # it did not start: every file is checked here
                self.helper, start = None, len(known)
        self.start = start
        try:
            self.here = _changed(known, 0, start)
        except BaseException:
            self.stop()
            raise
        self._answer: array[int] | None = None
        self._answered = self.helper is None

    def theirs(self) -> array[int] | None:
        """What the helper found changed (see _changed); None when it gave no whole answer
        (then none of those it checked is known to be unchanged). Empty without a helper."""
        if self.helper is None:
            return array("q")
        if not self._answered:
            self._answer = self.helper.changed()  # interrupted, it is still there to stop
            self._answered = True
        return self._answer

    def changed(self) -> list[tuple[int, Stat | None]] | None:
        """The index in `known` of every file whose stat changed, with its stat now (None: no
        regular file is there now); None when the helper gave no whole answer. This waits
        for it."""
        theirs = self.theirs()
        if theirs is None:
            return None
        found: list[tuple[int, Stat | None]] = []
        for changes in (self.here, theirs):
            for at in range(0, len(changes), 5):
                number, size, mtime, ctime, inode = changes[at : at + 5]
                found.append((number, None if size < 0 else Stat(size, mtime, ctime, inode)))
        return found

    def provisional(self) -> dict[str, tuple[int, int, int, int]]:
        """The stat the walk takes for each path: those found unchanged here, and those
        the helper checks, for now (each it finds changed is taken again: see theirs)."""
        paths = columns(self.known)[0]
        here = {paths[number] for number in self.here[::5]}
        return {path: stat for _, path, stat in self.known if path not in here} if here \
            else {path: stat for _, path, stat in self.known}  # fmt: skip

    def delegated(self) -> list[str]:
        """The paths the helper checks."""
        return list(columns(self.known)[0][self.start :]) if self.helper else []

    def stop(self) -> None:
        """End the helper, if it is still there (the walk failed)."""
        if self.helper is not None:
            self._answered = True
            self.helper.stop()


def columns(known: Known) -> tuple[Sequence[str], Sequence[int]]:
    """The paths of `known`, and their stats four numbers each (a state's files as stored:
    no File is made)."""
    if isinstance(known, Files):
        return known.paths, known.stats
    return [file[1] for file in known], [number for file in known for number in file[2]]


def _changed(known: Known, start: int, end: int) -> array[int]:
    """Each file among `known[start:end]` that is no regular file with the stat recorded:
    five numbers each, its index then its stat now (size -1: no regular file is there, or
    a number that does not fit in 64 bits). The loop that runs over every file of a rerun:
    inline (taking the stats in C with map, and comparing them as arrays, was no faster)."""
    lstat, is_regular = os.lstat, stat_module.S_ISREG
    paths, stats = columns(known)
    changed = array("q")
    for number in range(start, end):
        try:
            info = lstat(paths[number])
        except OSError:
            changed.extend((number, -1, -1, -1, -1))
            continue
        at = 4 * number
        if (
            not is_regular(info.st_mode) or info.st_mtime_ns != stats[at + 1]
            or info.st_size != stats[at] or info.st_ctime_ns != stats[at + 2]
            or info.st_ino != stats[at + 3]
        ):  # fmt: skip
            try:  # made whole first: an extend that overflows half way keeps its first half
                record = array("q", (number, *stat_of(info)) if is_regular(info.st_mode)
                               else (number, -1, -1, -1, -1))  # fmt: skip
            except OverflowError:
                record = array("q", (number, -1, -1, -1, -1))
            changed.extend(record)
    return changed


class Helper:
    """A forked process checking the stats of `known[start:]`."""

    def __init__(self, known: Known, start: int) -> None:
        self.known, self.start = known, start
        self.process = Forked(lambda: _answer(known, start))
        self.pid = self.process.pid

    def changed(self) -> array[int] | None:
        """What the helper found changed among the files it checked (see _changed); None if
        it gave no whole answer (or never started)."""
        data = self.process.result()
        self.pid = 0
        if data is None or len(data) < _HEADER:
            return None
        count = int.from_bytes(data[:_HEADER], "little")
        changes = array("q")
        if (len(data) - _HEADER) % changes.itemsize:
            return None
        changes.frombytes(data[_HEADER:])
        if len(changes) != 5 * count or any(
            not self.start <= number < len(self.known) for number in changes[::5]
        ):
            return None
        return changes

    def stop(self) -> None:
        """End the helper without its answer."""
        self.process.stop()
        self.pid = 0


def _answer(known: Known, start: int) -> bytes:  # pragma: no cover - the child
    changes = _changed(known, start, len(known))
    return (len(changes) // 5).to_bytes(_HEADER, "little") + changes.tobytes()
