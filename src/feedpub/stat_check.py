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

import contextlib
import os
import signal
import stat as stat_module
import sys
import threading
from array import array
from collections.abc import Sequence

from .state import File, Files

FROM = 20_000  # files the last build saw: fewer are checked faster than a process forks
SHARE = 0.5  # of those, the share the helper checks
_HEADER = 8  # the helper's answer: a count (8 bytes), then that many 4-byte indices
_BLOCKED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
            signal.SIGUSR2, signal.SIGALRM}  # fmt: skip

Known = Sequence[File]  # the last build's files (the state's, or a scan's)


def available() -> bool:
    """Forking is safe: Linux, and no other thread (whose locks a child would inherit)."""
    return sys.platform == "linux" and threading.active_count() == 1


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
            paths = columns(known)[0]
            self.here = [paths[number] for number in _changed(known, 0, start)]  # changed
        except BaseException:
            self.stop()
            raise
        self._answer: set[str] | None = None
        self._answered = self.helper is None

    def theirs(self) -> set[str] | None:
        """The paths the helper found changed; None when it gave no whole answer (then
        none of those it checked is known to be unchanged). Empty without a helper."""
        if self.helper is None:
            return set()
        if not self._answered:
            self._answer = self.helper.changed()  # interrupted, it is still there to stop
            self._answered = True
        return self._answer

    def changed(self) -> set[str] | None:
        """Every path of `known` whose stat changed (this waits for the helper); None when
        the helper gave no whole answer."""
        theirs = self.theirs()
        return None if theirs is None else {*self.here, *theirs}

    def provisional(self) -> dict[str, tuple[int, int, int, int]]:
        """The stat the walk takes for each path: those found unchanged here, and those
        the helper checks, for now (each it finds changed is taken again: see theirs)."""
        here = set(self.here)
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


def _changed(known: Known, start: int, end: int) -> list[int]:
    """The indices of the files among `known[start:end]` that are no regular file with the
    stat recorded (the loop that runs over every file of a rerun: inline)."""
    lstat, is_regular = os.lstat, stat_module.S_ISREG
    paths, stats = columns(known)
    changed = []
    for number in range(start, end):
        try:
            info = lstat(paths[number])
        except OSError:
            changed.append(number)
            continue
        at = 4 * number
        if (
            not is_regular(info.st_mode) or info.st_mtime_ns != stats[at + 1]
            or info.st_size != stats[at] or info.st_ctime_ns != stats[at + 2]
            or info.st_ino != stats[at + 3]
        ):  # fmt: skip
            changed.append(number)
    return changed


class Helper:
    """A forked process checking the stats of `known[start:]`."""

    def __init__(self, known: Known, start: int) -> None:
        self.known, self.start = known, start
        self.pid = 0
        self.answer = -1
        try:
            self.answer, write = os.pipe()
        except OSError:
            return
        # No signal reaches the child's Python code (it would run this process's handlers
        # and unwind into its callers): they stay blocked there, and it is ended by SIGKILL.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os.close(write)
            self._close()
            return
        if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
            try:
                os.close(self.answer)
                _answer(write, known, start)
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.pid = pid
        os.close(write)

    def changed(self) -> set[str] | None:
        """The delegated paths whose stats are not the ones recorded; None if the helper
        gave no whole answer (or never started)."""
        if not self.pid:
            return None
        try:
            data = _read_all(self.answer)
        except OSError:
            data = b""
        finally:
            self._close()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0  # reaped
        if status != 0 or len(data) < _HEADER:
            return None
        count = int.from_bytes(data[:_HEADER], "little")
        numbers = array("I")
        numbers.frombytes(data[_HEADER:])
        if len(numbers) != count:
            return None
        if any(number >= len(self.known) - self.start for number in numbers):
            return None
        paths = columns(self.known)[0]
        return {paths[self.start + number] for number in numbers}

    def stop(self) -> None:
        """End the helper without its answer."""
        self._close()
        if self.pid:
            with contextlib.suppress(OSError):  # it may have ended already
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0

    def _close(self) -> None:
        if self.answer >= 0:
            os.close(self.answer)
            self.answer = -1


def _answer(write: int, known: Known, start: int) -> None:  # pragma: no cover - the child
    code = 1
    try:
        numbers = array("I", (number - start for number in _changed(known, start, len(known))))
        _write_all(write, len(numbers).to_bytes(_HEADER, "little") + numbers.tobytes())
        code = 0
    finally:
        os._exit(code)  # no atexit handler, no buffer flushed twice


def _write_all(descriptor: int, data: bytes) -> None:  # pragma: no cover - in the child
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _read_all(descriptor: int) -> bytes:
    pieces = []
    while piece := os.read(descriptor, 1 << 16):
        pieces.append(piece)
    return b"".join(pieces)
