"""A share of a rerun's work done by a forked process, its answer read back through a pipe.

A rerun's time goes into system calls over every file (a `stat`, an `open` and a
`read`) that one Python process cannot make faster, and that threads of one
process make slower (reading 100,000 files, four threads spent four times the
system time of one: they share one file table and one memory map): two
processes take about half the time. The child is forked, so it needs
nothing sent: it runs the work on what it inherited and writes its bytes back.

Anything that goes wrong with the child (no fork, a crash, an answer cut
short) gives no answer, and the caller does that share itself: slower, never
different. The child's Python code gets no signal (it would run this process's
handlers and unwind into its callers); it is ended by SIGKILL when not waited for.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable

_BLOCKED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
            signal.SIGUSR2, signal.SIGALRM}  # fmt: skip


def available() -> bool:
    """Forking is safe: Linux, and no other thread (whose locks a child would inherit)."""
    return sys.platform == "linux" and threading.active_count() == 1


class Forked:
    """A forked process computing `work()`; `pid` is 0 when it could not be started."""

    def __init__(self, work: Callable[[], bytes]) -> None:
        self.pid = 0
        self.answer = -1
        try:
            self.answer, write = os.pipe()
        except OSError:
            return
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
                _answer(write, work)
            finally:
                os._exit(1)
        self.pid = pid  # known before a signal can arrive: stop() then ends the child
        os.close(write)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def result(self) -> bytes | None:
        """What the child wrote, once it ended; None if it failed (or never started)."""
        if not self.pid:
            return None
        try:
            data = _read_all(self.answer)
        except OSError:
            data = None
        finally:
            self._close()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0  # reaped
        return data if status == 0 else None

    def stop(self) -> None:
        """End the child without its answer."""
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


def _answer(write: int, work: Callable[[], bytes]) -> None:  # pragma: no cover - the child
    code = 1
    try:
        _write_all(write, work())
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
