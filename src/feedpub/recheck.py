"""Files whose stat changed but whose bytes may not have: read and digested, half of them
in a forked process.

A file touched, copied with its times reset, or checked out again keeps its
bytes but not its stat, so the parse cache cannot vouch for it. Comparing its
digest with the cached one settles it without parsing; this module does only
that, for many files at once: from :data:`FORK_FROM` files, the second half
in a forked process (see :mod:`feedpub.forked`), else in a few threads.
Reading a file is three system calls, and threads of one process contend for
them in the kernel: at 100,000 touched articles, four threads took 1.7–3.2 s,
two forked processes 0.75–0.8 s (with the digest of :func:`feedpub.parse.digest`).

A file that cannot be read here, or does not hold its cached size, is simply
not vouched for: it goes on to be parsed, where each problem is reported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .forked import Forked, available

if TYPE_CHECKING:
    from .state import Cached, File

THREADS = 2  # without a fork: more threads than cores made the reads slower, not faster
SERIAL_UP_TO = 64  # files: fewer are checked faster than threads start
FORK_FROM = 1000  # files: fewer are checked faster than a process forks
CHUNK = 256  # files per task: few enough tasks that handing them out costs nothing


def unchanged(files: Sequence[File], cache: Mapping[str, Cached], max_bytes: int) -> set[str]:
    """The keys of those `files` whose bytes are the version their cache entry was made from.

    Only a file of its cached size (at most `max_bytes`) is read: another size is
    another version, and a file over the limit is reported by the parse.
    """
    candidates = []
    for file in files:
        cached = cache.get(file.source)
        size = file.stat.size
        if cached is not None and cached.stat.size == size and size <= max_bytes:
            candidates.append((file.source, file.path, size, cached.listing.digest))
    return same_bytes(candidates)


Known = tuple[str, str, int, str]  # a file's key, path, size and the digest it had


def same_bytes(candidates: Sequence[Known]) -> set[str]:
    """The keys of the `candidates` whose file holds that many bytes, of that digest."""
    if not candidates:
        return set()
    from .parse import digest  # here: a build in which no file was touched never imports it

    def check(part: Sequence[Known]) -> bytes:  # 1 for each file of the digest known, else 0
        return bytes([_digest_of(path, size, digest) == known
                      for _, path, size, known in part])  # fmt: skip

    if len(candidates) >= FORK_FROM and available():
        start = len(candidates) // 2
        helper = Forked(lambda: check(candidates[start:]))
        try:
            here = check(candidates[:start])
            theirs = helper.result()
        except BaseException:
            helper.stop()
            raise
        if theirs is None or len(theirs) != len(candidates) - start or theirs.strip(b"\0\1"):
            theirs = check(candidates[start:])  # no whole answer: checked here
        same = here + theirs
    elif len(candidates) <= SERIAL_UP_TO:
        same = check(candidates)
    else:
        from concurrent.futures import ThreadPoolExecutor

        parts = [candidates[at : at + CHUNK] for at in range(0, len(candidates), CHUNK)]
        with ThreadPoolExecutor(THREADS) as pool:
            same = b"".join(pool.map(check, parts))
    return {candidate[0] for candidate, one in zip(candidates, same, strict=True) if one}


def _digest_of(path: str, size: int, digest: Callable[[bytes], str]) -> str | None:
    """The digest of the file at `path` when it holds `size` bytes; else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        raw = os.read(descriptor, size + 1)
        while len(raw) < size:  # a short read (rare on a local file): read on
            more = os.read(descriptor, size + 1 - len(raw))
            if not more:
                return None
            raw += more
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return digest(raw) if len(raw) == size else None
