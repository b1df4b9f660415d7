"""Documents → files: only what changed is written, and always atomically.

A document whose bytes equal the file on disk is left alone, so its
modification time (and the ETag a web server derives from it) stays the
same. A changed document goes to a temporary file in the same folder, is
flushed to disk and renamed over the old one: a reader sees the old file or
the new one, never a mix. A manifest in the output folder lists the files
feedpub wrote, so that the feeds of groups that no longer exist are removed,
and nothing else ever is.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".feedpub-manifest.json"


@dataclass(frozen=True, slots=True)
class Written:
    """What a write did: files written, left untouched, and removed."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def differs(path: Path, data: bytes) -> bool:
    """True when the file at `path` is missing or holds other bytes than `data`."""
    try:
        if path.stat().st_size != len(data):
            return True
        return path.read_bytes() != data
    except FileNotFoundError:
        return True


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that no reader ever sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_manifest(out: Path) -> list[str]:
    """The files the previous build wrote, relative to `out`; empty when unknown."""
    try:
        names = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []


def stale(out: Path, documents: Mapping[str, bytes]) -> list[str]:
    """Files the previous build wrote that this one would not."""
    return sorted(
        name for name in read_manifest(out) if name not in documents and _inside(out, name)
    )


def write_documents(out: Path, documents: Mapping[str, bytes]) -> Written:
    """Write every changed document, remove stale ones, and record what is now feedpub's."""
    written, unchanged = [], []
    for name in sorted(documents):
        path = out / name
        if differs(path, documents[name]):
            atomic_write(path, documents[name])
            written.append(name)
        else:
            unchanged.append(name)
    removed = stale(out, documents)
    for name in removed:
        (out / name).unlink(missing_ok=True)
        _remove_empty_parents(out, out / name)
    manifest = (json.dumps(sorted(documents), ensure_ascii=False, indent=0) + "\n").encode()
    if differs(out / MANIFEST, manifest):
        atomic_write(out / MANIFEST, manifest)
    return Written(tuple(written), tuple(unchanged), tuple(removed))


def _inside(out: Path, name: str) -> bool:
    """True for a relative name that stays inside `out` (a tampered manifest cannot reach out)."""
    return not os.path.isabs(name) and ".." not in Path(name).parts


def _remove_empty_parents(out: Path, path: Path) -> None:
    folder = path.parent
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
