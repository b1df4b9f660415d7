"""The exceptions feedpub raises, and the problems it reports.

Every exception derives from one base, so the command line translates them in
one place::

    FeedpubError                  anything feedpub reports instead of a traceback
    ├── ConfigError               the configuration is unusable: exit 2, nothing written
    ├── UsageError                the command line or the folders are unusable: exit 2
    ├── ArticleError              one article cannot be published (becomes a Problem)
    ├── LockedError               another build holds the output folder's lock: exit 3
    └── OutputError               writing the output failed after it began: exit 5

An article's mistakes are not raised out of the build: each becomes a
:class:`Problem`, and the build reports all of them at once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Any

# Shown escaped in every message: a file name or value holding them could
# otherwise rewrite the terminal (ESC), forge a line (newline) or reorder text.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")  # fmt: skip
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _escaped(character: str) -> str:
    if character in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control, separator, bidirectional and lone surrogate characters escaped.

    Linear, and a no-op (the same object) for the common case of plain text.
    """
    if text.isprintable():
        return text
    return "".join(
        _escaped(character)
        if character in _BIDI_CONTROLS or unicodedata.category(character) in _UNSAFE_CATEGORIES
        else character
        for character in text
    )


class FeedpubError(Exception):
    """Base of every error feedpub reports to its user."""


class ConfigError(FeedpubError):
    """The site configuration is missing, malformed or has a wrong key or type."""


class UsageError(FeedpubError):
    """A command-line value or a folder cannot be used."""


class LockedError(FeedpubError):
    """Another build holds the lock on the output folder."""


class OutputError(FeedpubError):
    """Writing to the output folder failed after writing had begun (e.g. the disk is full).

    Some documents may be new and others old; each is whole (every write is
    atomic), and the next run completes the folder.
    """

    def __init__(self, path: str, error: OSError) -> None:
        reason = error.strerror or str(error) or type(error).__name__
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.error = error


class Severity(Enum):
    """How bad a problem is: an error keeps the article out, a warning does not."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input file, located as precisely as possible.

    `kind` says which problems are alike (e.g. ``unknown-key:tittle``), so that
    a large run reports each kind of warning once with its count; it defaults
    to the message itself.
    """

    path: str
    message: str
    line: int | None = None
    field: str | None = None
    severity: Severity = Severity.ERROR
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", self.message)

    def record(self) -> tuple[str, str, int | None, str | None, str, str]:
        """The problem as plain values, to store or to send between processes."""
        kind = "" if self.kind == self.message else self.kind  # the default costs nothing
        return self.path, self.message, self.line, self.field, self.severity.value, kind

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> Problem:
        """The problem a record holds (a record of five values, from before `kind`, too)."""
        path, message, line, field, severity, *rest = record
        return cls(path, message, line, field, Severity(severity), rest[0] if rest else "")

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return printable(f"{where}: {self.severity.value}: {what}")


class ArticleError(FeedpubError):
    """One article cannot be published; carries the problem that says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
