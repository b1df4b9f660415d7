"""Half of the walk's `stat` calls, made in a forked process while the walk goes on.

On a rerun nearly every file is as the last build saw it, and the walk's time
is one `stat` per file, each a system call of a few microseconds that Python
cannot make faster. A forked process takes the stats of the second half of
the last build's files (the state's list, in walk order) while the walk
lists every folder: for a file in that half the walk takes the stat the
state recorded, provisionally, and the helper says which of those are not
so any more. Each of those is taken again here, as the walk would have
taken it, so the files found are those a walk that took every stat itself
would have found.

Anything that goes wrong with the helper (no fork, a crash, an answer cut
short) makes every provisional stat be taken again here: slower, never
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

from .state import Stat

FROM = 20_000  # files the last build saw: fewer are walked faster than a process forks
SHARE = 0.7  # of those, the share whose stats the helper takes (the walk still lists them)
_HEADER = 8  # the answer: a count (8 bytes), then that many 4-byte indices


def available() -> bool:
    """Forking is safe: Linux, and no other thread (whose locks a child would inherit)."""
    return sys.platform == "linux" and threading.active_count() == 1


class Helper:
    """A forked process checking the stats of `delegated` (paths with their last stats)."""

    def __init__(self, delegated: Sequence[tuple[str, Stat]]) -> None:
        self.delegated = delegated
        self.provisional = dict(delegated)  # path → the stat the walk takes for now
        self.pid = 0
        self.answer = -1
        try:
            self.answer, write = os.pipe()
        except OSError:
            self.provisional = {}  # the walk takes every stat itself
            return
        try:
            self.pid = os.fork()
        except OSError:
            os.close(write)
            self._close()
            self.provisional = {}
            return
        if self.pid == 0:  # pragma: no cover - the child (its coverage is not collected)
            os.close(self.answer)
            _answer(write, delegated)
        os.close(write)

    def changed(self) -> set[str] | None:
        """The delegated paths whose stats are not the ones recorded; None if the helper
        gave no whole answer (then none of them is known to be unchanged)."""
        if not self.pid:
            return None
        try:
            data = _read_all(self.answer)
        except OSError:
            data = b""
        finally:
            self._close()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if status != 0 or len(data) < _HEADER:
            return None
        count = int.from_bytes(data[:_HEADER], "little")
        numbers = array("I")
        numbers.frombytes(data[_HEADER:])
        if len(numbers) != count:
            return None
        return {self.delegated[number][0] for number in numbers}

    def stop(self) -> None:
        """End the helper without its answer (the walk failed)."""
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


def delegated_half(known: Sequence[tuple[str, str, Stat]]) -> list[tuple[str, Stat]]:
    """The files (path and stat) whose stats the helper takes: the last share of `known`."""
    start = len(known) - int(len(known) * SHARE)
    return [(path, stat) for _, path, stat in known[start:]]


def _answer(write: int, delegated: Sequence[tuple[str, Stat]]) -> None:  # pragma: no cover
    code = 1
    try:
        lstat, is_regular = os.lstat, stat_module.S_ISREG
        numbers = array("I")
        for number, (path, stat) in enumerate(delegated):
            try:
                info = lstat(path)
            except OSError:
                numbers.append(number)
                continue
            now = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
            if not is_regular(info.st_mode) or stat != now:
                numbers.append(number)
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
