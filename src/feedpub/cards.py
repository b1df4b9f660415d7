"""The cards of archived articles, kept from one build to the next.

An archive page in summary mode shows each article's card (:data:`feedpub.state.Card`:
its fields and its summary). Cards are made where an article is parsed; without
them a later build that rewrites an archive page would read and render every
article on it again (an edit to 1% of a 100,000-article archive touches about half
of its pages, and so read half the archive).

``.feedpub-cards``, beside the state, is a log of frames: each build appends the
cards it made, and a card is used only while its digest is its file's digest, so a
stale or missing card costs a read of its file, never a wrong page. When the log
holds more than twice the cards still live it is rewritten with those alone. A
damaged frame ends the reading there: the cards after it are made again.
"""

from __future__ import annotations

import contextlib
import itertools
import marshal
import os
import stat as stat_module
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .errors import OutputError
from .model import Config, ContentMode
from .state import Card, card_digest

CARDS_FILE = ".feedpub-cards"
FORMAT = 2  # 2: cards packed (state.pack_card)
FRAME_CARDS = 4096  # cards a frame holds at most
LOG_SLACK = 1 << 16  # bytes a log may grow past twice its live cards before it is rewritten


def cards_lost(root: Path, config: Config) -> bool:
    """True when the site's archive pages are made from cards and the folder `root` has no
    cards log (nothing at all in its place)."""
    archives = config.archives
    if not archives.enabled or archives.content is not ContentMode.SUMMARY:
        return False
    try:
        os.lstat(root / CARDS_FILE)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


class Cards:
    """The cards log of one output folder, for builds made under one fingerprint."""

    def __init__(self, root: Path, fingerprint: str, *, trusted: bool = True) -> None:
        self.path = root / CARDS_FILE
        self.fingerprint = fingerprint
        # An untrusted log (a build told not to use its caches) is never read, only rewritten.
        self._trusted = trusted
        self._read: dict[str, Card] | None = None if trusted else {}
        self._count = 0  # cards in the log, live or not
        self._whole = True  # the log as read ends with a whole frame (not cut by a crash)

    def get(self, source: str, digest: str) -> Card | None:
        """The card of `source` made from the file version `digest`, if the log has it."""
        card = self._all().get(source)
        return card if card is not None and card_digest(card) == digest else None

    def save(self, made: Mapping[str, Card], live: Mapping[str, str]) -> None:
        """Append the cards made this build; rewrite the log when most of it is dead.

        `live` is every cached article's digest, by source: the cards worth keeping.
        A log this build did not read is appended to unread while its size says it
        cannot hold much more than twice the live cards (sized as those appended) and its
        frames end where it ends. A log whose end is cut (a crash while it was written) is
        rewritten: a card appended after the cut would never be read.
        """
        frames: list[bytes] = []  # the cards made, framed, once they are known to be appended
        if self._read is None:
            if not made:
                return  # nothing new, and the log on disk is left as it is
            try:
                size = os.lstat(self.path).st_size
            except OSError:
                size = 0
            if size and _ends_whole(self.path, size):
                frames = list(_frames(self.fingerprint, made))
                length = sum(map(len, frames))
                if size + length <= 2 * length * len(live) // len(made) + LOG_SLACK:
                    self._write(frames, append=True)
                    return
        cards = self._all()
        if self._count + len(made) > 2 * len(live) + 64 or not self._count or not self._whole:
            kept = {source: card for source, card in _merged(cards, made)
                    if live.get(source) == card_digest(card)}  # fmt: skip
            self._write(_frames(self.fingerprint, kept), append=False)
            self._read, self._count = kept, len(kept)
        elif made:
            cards.update(made)
            self._write(frames or _frames(self.fingerprint, made), append=True)
            self._count += len(made)

    def forget(self) -> None:
        """Drop the cards read from the log (read again if they are asked for, as when none
        had been: an untrusted log never is)."""
        self._read = None if self._trusted else {}

    def _all(self) -> dict[str, Card]:
        if self._read is None:
            self._read, self._count, self._whole = _load(self.path, self.fingerprint)
        return self._read

    def _write(self, frames: Iterable[bytes], *, append: bool) -> None:
        """Append `frames` to the log, or replace the log with them (renamed into place, not
        flushed: unlike the state, a log cut short by a crash costs only reads)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        flags |= os.O_APPEND if append else os.O_TRUNC
        temporary = self.path if append else self.path.with_name(CARDS_FILE + ".tmp")
        try:
            descriptor = os.open(temporary, flags | os.O_NONBLOCK, 0o600)
            if not stat_module.S_ISREG(os.fstat(descriptor).st_mode):
                os.close(descriptor)
                raise OutputError(str(self.path), IsADirectoryError("not a plain file"))
            with os.fdopen(descriptor, "wb") as file:
                for frame in frames:
                    file.write(frame)
            if not append:
                os.replace(temporary, self.path)
        except OSError as error:
            if not append:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise OutputError(str(self.path), error) from None


def _merged(cards: Mapping[str, Card], made: Mapping[str, Card]) -> Iterator[tuple[str, Card]]:
    """The items of `cards` updated with `made`, in the order the updated dict would hold
    them, without making it (at 300,000 articles, a dict of 11 MB)."""
    for source, card in cards.items():
        yield source, made.get(source, card)
    for source, card in made.items():
        if source not in cards:
            yield source, card


def _frames(fingerprint: str, cards: Mapping[str, Card]) -> Iterator[bytes]:
    """The frames of the log that hold `cards`, each its length, then up to
    :data:`FRAME_CARDS` cards: made one at a time, so that a large archive's cards are never
    all held serialised (at 100,000 articles, 65 MB)."""
    items = iter(cards.items())
    while chunk := dict(itertools.islice(items, FRAME_CARDS)):
        frame = marshal.dumps((FORMAT, fingerprint, chunk), 4)
        yield len(frame).to_bytes(8, "little")
        yield frame


def _ends_whole(path: Path, size: int) -> bool:
    """The log's frames, followed by their lengths alone, end where the file ends."""
    try:
        with open(path, "rb") as file:
            at = 0
            while at < size:
                file.seek(at)
                head = file.read(8)
                if len(head) != 8:
                    return False
                at += 8 + int.from_bytes(head, "little")
            return at == size
    except OSError:
        return False


def _load(path: Path, fingerprint: str) -> tuple[dict[str, Card], int, bool]:
    """Every card of the log at `path` made under `fingerprint` (the latest of each
    source's), how many cards the log holds in all, and whether it was read to its end
    (False: a frame is cut or damaged, and what follows it is not read)."""
    cards: dict[str, Card] = {}
    count = 0
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return cards, 0, True
    if not stat_module.S_ISREG(os.fstat(descriptor).st_mode):  # a FIFO is never read
        os.close(descriptor)
        return cards, 0, True
    with os.fdopen(descriptor, "rb") as file:
        data = file.read()
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 8], "little")
        frame = data[at + 8 : at + 8 + size]
        if len(frame) != size:
            break
        try:
            version, made_under, found = marshal.loads(frame)
        except (ValueError, TypeError, EOFError):
            break
        if version == FORMAT and made_under == fingerprint and isinstance(found, dict):
            cards.update((source, card) for source, card in found.items()
                         if type(card) is bytes and card and len(card) > card[0])  # fmt: skip
            count += len(found)
        at += 8 + size
    return cards, count, at == len(data)
