"""The exceptions feedpub raises, and the problems it reports.

Every exception derives from one base, so the command line translates them in
one place::

    FeedpubError                  anything feedpub reports instead of a traceback
    ├── ConfigError               the configuration is unusable: exit 2, nothing written
    ├── UsageError                the command line or the folders are unusable: exit 2
    ├── ArticleError              one article cannot be published (becomes a Problem)
    └── LockedError               another build holds the output folder's lock

An article's mistakes are not raised out of the build: each becomes a
:class:`Problem`, and the build reports all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FeedpubError(Exception):
    """Base of every error feedpub reports to its user."""


class ConfigError(FeedpubError):
    """The site configuration is missing, malformed or has a wrong key or type."""


class UsageError(FeedpubError):
    """A command-line value or a folder cannot be used."""


class LockedError(FeedpubError):
    """Another build holds the lock on the output folder."""


class Severity(Enum):
    """How bad a problem is: an error keeps the article out, a warning does not."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input file, located as precisely as possible."""

    path: str
    message: str
    line: int | None = None
    field: str | None = None
    severity: Severity = Severity.ERROR

    def record(self) -> tuple[str, str, int | None, str | None, str]:
        """The problem as plain values, to store or to send between processes."""
        return self.path, self.message, self.line, self.field, self.severity.value

    @classmethod
    def from_record(cls, record: tuple[str, str, int | None, str | None, str]) -> Problem:
        """The problem a record holds."""
        path, message, line, field, severity = record
        return cls(path, message, line, field, Severity(severity))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {self.severity.value}: {what}"


class ArticleError(FeedpubError):
    """One article cannot be published; carries the problem that says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
