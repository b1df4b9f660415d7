"""Files whose stat changed but whose bytes may not have: read and digested in threads.

A file touched, copied with its times reset, or checked out again keeps its
bytes but not its stat, so the parse cache cannot vouch for it. Comparing its
digest with the cached one settles it without parsing; this module does only
that, for many files at once, in a few threads: reading a file and digesting
it (:func:`hashlib.blake2b` lets other threads run on buffers of 2 KiB and
more) wait on the kernel and the hash, not on the interpreter. At 100,000
touched articles this took the check from the parsing workers' 6 s (each file
and its cache entry sent to a process) to well under one.

A file that cannot be read here, or does not hold its cached size, is simply
not vouched for: it goes on to be parsed, where each problem is reported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Cached, File

THREADS = 4  # the reads wait on the kernel: a few more threads than cores keep it busy
SERIAL_UP_TO = 64  # files: fewer are checked faster than threads start
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

    def check(part: Sequence[Known]) -> list[str]:
        return [source for source, path, size, known in part
                if _digest_of(path, size, digest) == known]  # fmt: skip

    if len(candidates) <= SERIAL_UP_TO:
        return set(check(candidates))
    from concurrent.futures import ThreadPoolExecutor

    parts = [candidates[start : start + CHUNK] for start in range(0, len(candidates), CHUNK)]
    with ThreadPoolExecutor(THREADS) as pool:
        return {source for found in pool.map(check, parts) for source in found}


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
