"""Documents → files: only what changed is written, always atomically, one build at a time.

A document whose bytes equal the file on disk is left alone, so its
modification time (and the ETag a web server derives from it) stays the
same. A changed document goes to a temporary file in the same folder, is
flushed to disk and renamed over the old one: a reader, or a build killed at
any moment, leaves the old file or the new one, never a mix. The build state
in the output folder lists the files feedpub wrote, so that the feeds of
groups that no longer exist are removed, and nothing else ever is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import LockedError
from .state import (
    CACHE_FILE,
    STATE_FILE,
    Cached,
    State,
    decode_cache,
    decode_state,
    encode_cache,
    encode_state,
)  # fmt: skip

LOCK_FILE = ".feedpub.lock"
# The state and cache name unpublished files and hold their problems: readable
# by their owner only, so a web server serving the output folder cannot send them.
PRIVATE = 0o600
_TEMPORARY = re.compile(r"\.(?:.+\.(?:atom|rss)|\.feedpub-(?:state|cache))\.[A-Za-z0-9_]{8}\.tmp\Z")
# How a feed says feedpub wrote it (Atom and RSS); see render.GENERATOR.
GENERATOR_MARKERS = (b'<generator uri="https://pypi.org/project/feedpub/">feedpub</generator>',
                     b"<generator>feedpub</generator>")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Written:
    """What a write did: files written, left untouched, and removed."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    refused: tuple[str, ...] = ()  # another program's files, left where feeds would go


def differs(path: Path, data: bytes) -> bool:
    """True when the file at `path` is missing or holds other bytes than `data`."""
    try:
        if path.stat().st_size != len(data):
            return True
        return path.read_bytes() != data
    except (FileNotFoundError, NotADirectoryError):
        return True


def atomic_write(path: Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None:
    """Replace `path` with `data` (bytes, or chunks of them) so no reader sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            if isinstance(data, bytes):
                file.write(data)
            else:
                file.writelines(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def locked(out: Path, wait: float) -> Iterator[None]:
    """Hold the output folder's lock, waiting up to `wait` seconds for another build.

    The lock file is never removed: a build waiting on it would then hold a
    lock that a third build, opening a new file, no longer sees.
    """
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_FILE, "a+b") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"{out}: another feedpub build is writing here; "
                        f"gave up after waiting {wait:g} s (see --wait)"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_state(out: Path) -> State:
    """The state the previous build left in `out`; empty when there is none."""
    try:
        return decode_state((out / STATE_FILE).read_bytes())
    except OSError:
        return State()


def read_cache(out: Path, fingerprint: str) -> dict[str, Cached]:
    """The parse cache the previous build left in `out`, if made under `fingerprint`."""
    try:
        with open(out / CACHE_FILE, "rb") as stream:
            return decode_cache(stream, fingerprint)
    except OSError:
        return {}


def write_cache(out: Path, fingerprint: str, cache: Mapping[str, Cached]) -> None:
    """Save the parse cache for the next build, streamed chunk by chunk."""
    atomic_write(out / CACHE_FILE, encode_cache(fingerprint, cache), PRIVATE)


def is_ours(path: Path) -> bool:
    """True when the file at `path` is a feed feedpub wrote (its generator says so)."""
    try:
        with open(path, "rb") as file:
            head = file.read(8192)
    except OSError:
        return False
    return any(marker in head for marker in GENERATOR_MARKERS)


def stale(out: Path, previous: State, names: Collection[str]) -> list[str]:
    """Feeds feedpub wrote that this build would not: those the state lists, and any
    feed in feedpub's layout that carries its generator (the state may be lost)."""
    found = {name for name in previous.documents if _inside(out, name)}
    for folder, pattern in ((out, "all.*"), (out / "sections", "*"), (out / "topics", "*")):
        for path in folder.glob(pattern):
            if path.suffix in {".atom", ".rss"} and is_ours(path):
                found.add(path.relative_to(out).as_posix())
    return sorted(found - set(names))


def file_stat(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time, or None when it is missing."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def write_documents(
    out: Path, rendered: Iterable[tuple[str, bytes]], names: Collection[str], previous: State
) -> Written:
    """Write every rendered document that changed and remove stale ones. Hold the lock.

    `names` are all of this build's documents; those not in `rendered` were
    found unchanged without rendering them.
    """
    _remove_leftovers(out)
    written, refused = [], []
    for name, data in rendered:
        path = out / name
        if not differs(path, data):
            continue
        if name not in previous.documents and path.exists() and not is_ours(path):
            refused.append(name)  # a stranger's file where a feed would go
            continue
        atomic_write(path, data)
        written.append(name)
    unchanged = sorted(set(names) - set(written) - set(refused))
    written.sort()
    removed = stale(out, previous, names)
    for name in removed:
        (out / name).unlink(missing_ok=True)
        _remove_empty_parents(out, out / name)
    return Written(tuple(written), tuple(unchanged), tuple(removed), tuple(refused))


def write_state(out: Path, state: State) -> None:
    """Save the state for the next build, unless it is byte for byte the one on disk."""
    data = encode_state(state)
    if differs(out / STATE_FILE, data):
        atomic_write(out / STATE_FILE, data, PRIVATE)


def _remove_leftovers(out: Path) -> None:
    """Temporary files a killed build left behind (only feedpub's own pattern)."""
    for folder in (out, out / "sections", out / "topics"):
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.is_file(follow_symlinks=False) and _TEMPORARY.match(entry.name):
                    Path(entry.path).unlink(missing_ok=True)


def _inside(out: Path, name: str) -> bool:
    """True for a relative name that stays inside `out` (a tampered state cannot reach out)."""
    return not os.path.isabs(name) and ".." not in Path(name).parts


def _remove_empty_parents(out: Path, path: Path) -> None:
    folder = path.parent
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
