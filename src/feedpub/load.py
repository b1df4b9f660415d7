"""Walk the articles folder, read what changed, and parse it; every problem is collected.

With :mod:`feedpub.write`, the only module that touches the file system. A
file whose size, modification time and inode match the parse cache is not
read at all; a file whose bytes match its cached digest is read but not
parsed. Only front matter is kept in memory: bodies are read again, by
:func:`read_bodies`, for the few articles that appear in a feed. Many files
to parse are spread over every core.
"""

from __future__ import annotations

import errno
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from . import stat_check
from .errors import Problem, Severity, UsageError
from .model import MAX_ARTICLE_BYTES, Article, Config, Listed
from .recheck import unchanged
from .state import Cached, File, Listing, Stat, article_record, pack_card, stat_of

PARALLEL_FROM = 1000  # files to parse: fewer are parsed faster than processes start


@dataclass(frozen=True, slots=True)
class Loaded:
    """Every article that parsed, every problem found, and what the cache may keep.

    `articles` holds cached listings and freshly parsed articles. `broken`
    maps the key of each file that exists but gave no article, for an error,
    to its name in messages. `fresh` holds a cache entry for every article
    that parsed without any problem.
    """

    articles: tuple[Listed, ...]
    problems: tuple[Problem, ...]
    files: int
    broken: dict[str, str] = field(default_factory=dict)
    fresh: dict[str, Cached] = field(default_factory=dict)
    parsed: int = 0


Progress = Callable[[list[File]], Iterable[File]]


Folders = Sequence[tuple[str, tuple[int, int, int, int]]]  # (path, stat) of each folder read


class Scan(NamedTuple):
    """The article files found, and the folders and names that could not be read."""

    files: Sequence[File]
    problems: list[Problem]
    unreadable: list[str]  # keys of folders that could not be listed (their files are unknown)
    # Every folder the walk read, with its stat, when the walk met no link and no problem:
    # while none of them and none of the files changes, another walk finds the same.
    folders: Folders = ()


# Markdown file names as Jekyll, Hugo, Pelican, Eleventy and Zola accept them (SPEC §5).
EXTENSIONS = (".md", ".markdown", ".mkd", ".mdown", ".mkdn", ".mdwn")
# Names starting with `_` are skipped, but Jekyll's posts live in `_posts`.
READ_ANYWAY = frozenset({"_posts"})
MAX_FOLDER_DEPTH = 100  # folders below the articles folder; deeper ones are reported, not read
# Folders other tools keep their articles in, for the hint when none is found.
ARTICLE_FOLDERS = ("_posts", "content", "posts")


def scan(
    root: Path, known: Sequence[File] = (), folders: Folders = (), *, helper: bool = False
) -> Scan:
    """Every article file (:data:`EXTENSIONS`) under `root`, skipping names that start
    with `.` or `_` (except Jekyll's `_posts` folders).

    Symbolic links are followed only when they stay inside `root`, after the
    real folders and files, so a file's key does not depend on the order of a
    listing; a folder is never entered twice, so a link loop ends; a file
    reached both directly and through a link is read once. FIFOs, sockets and
    devices are ignored; a folder that cannot be listed, a link that loops, a
    name that is not UTF-8 and a folder nested deeper than
    :data:`MAX_FOLDER_DEPTH` are reported. The walk is iterative (no recursion
    limit to reach). This runs on every build over every file, so it does no
    more than one `stat` per file. When no article is found, a warning says
    where another tool's articles probably are.

    `known` and `folders` are what the last scan found (its files, and the folders it
    read when its walk met nothing but folders and files). Their stats are checked first
    (see :mod:`feedpub.stat_check`; with `helper`, half of them in a forked process):
    when none changed, the files are those the last walk found, and no folder is listed.
    That holds for folders recorded outside the racy window of their clock (see
    incremental.Rules.settled_folders): within one tick, an entry can come or go and
    leave a folder's times as they were. When some changed, the walk lists those alone: a
    folder found as it was holds the files and folders it held (see _Scanner.start_from).
    """
    if not root.is_dir():
        raise UsageError(f"{root}: the articles folder does not exist{_hint_for(root.parent)}")
    check = stat_check.Check(known, helper=helper) if known else None
    try:
        recorded = bool(folders) and folders[0][0] == str(root)  # by this very spelling
        if check is not None and recorded and _same_folders(folders):
            files = _known_files(known, check.changed())
            if files is not None:
                return Scan(files, [], [], folders)
        scanner = _Scanner(root.resolve())
        if check is not None:
            scanner.start_from(known, folders if recorded else (), check)
        scanner.walk(str(root), "")
        while scanner.linked_folders:
            scanner.walk(*scanner.linked_folders.pop(0))
        found = scanner.found if check is None else _settled(scanner.found, check)
    except BaseException:
        if check is not None:
            check.stop()
        raise
    if scanner.linked:  # a link to a file that is also found directly adds nothing
        direct = {os.path.realpath(file.path) for file in found}
        for file in scanner.linked:
            real = os.path.realpath(file.path)
            if real not in direct:
                direct.add(real)
                found.append(file)
    if not found:
        hint = no_articles_hint(root)
        if hint is not None:
            scanner.problems.append(hint)
    plain = not (scanner.unrecorded or scanner.problems or scanner.unreadable)
    return Scan(found, scanner.problems, scanner.unreadable, scanner.folders if plain else ())


def _same_folders(folders: Folders) -> bool:
    """Every folder the last walk read is as it was: no entry came, went or was renamed in
    it (each of those changes its times), so it holds the same names of the same kinds."""
    for folder, stat in folders:
        try:
            info = os.stat(folder)
        except OSError:
            return False
        if stat != stat_of(info) or not _listable(folder):
            return False
    return True


def _listable(folder: str) -> bool:
    """This process may list `folder` (whoever runs the build, its stat does not change)."""
    return os.access(folder, os.R_OK | os.X_OK, effective_ids=_EFFECTIVE)


_EFFECTIVE = os.access in os.supports_effective_ids  # the rights a listing is made with


def _known_files(
    known: Sequence[File], changed: list[tuple[int, Stat | None]] | None
) -> Sequence[File] | None:
    """The last walk's files in folders that did not change, each `changed` (edited in
    place: its index, and its stat now) with its stat now; None when the helper gave no
    answer, or a changed one is no regular file any more (then the walk is made)."""
    if changed is None:
        return None
    if not changed:
        return known  # the state's own files: the next check finds them the same at once
    files = list(known)  # copied in C; only the changed are made again
    for number, stat in changed:
        if stat is None:
            return None
        files[number] = files[number]._replace(stat=stat)
    return files


def _settled(found: list[File], check: stat_check.Check) -> list[File]:
    """`found` with the stat of every file the helper saw changed (or of every file it was
    to check, when it gave no answer) taken again, as the walk takes it."""
    theirs = check.theirs()
    paths = stat_check.columns(check.known)[0]
    again = set(check.delegated()) if theirs is None else {paths[n] for n in theirs[::5]}
    if not again:
        return found
    settled = []
    for file in found:
        if file.path not in again:
            settled.append(file)
            continue
        try:
            info = os.lstat(file.path)  # as DirEntry.stat does for a file that is no link
        except OSError:
            continue
        if stat_module.S_ISREG(info.st_mode):
            settled.append(file._replace(stat=stat_of(info)))
    return settled


def _hint_for(folder: Path) -> str:
    """`; … try --articles X` when `folder` holds another tool's articles folder."""
    for name in ARTICLE_FOLDERS:
        candidate = folder / name
        if candidate.is_dir():
            # Jekyll's posts are read from the site's root, which holds `_posts/`
            target = folder if name == "_posts" else candidate
            return f"; {candidate} looks like the articles: try --articles {target}"
    return ""


def no_articles_hint(root: Path) -> Problem | None:
    """A warning saying where the articles probably are, for a folder that yields none.

    Looks for `_posts/`, `content/` or `posts/` beside `root` and inside it, and
    for names the walk skips (`_drafts`, `_index.md`): None when there is nothing
    to say. :func:`scan` adds it to its problems when it finds no article file.
    """
    inside = [root / name for name in ARTICLE_FOLDERS if (root / name).is_dir()]
    if inside:
        names = ", ".join(ext for ext in EXTENSIONS)
        return Problem(
            str(root),
            f"no article found; {inside[0]} holds no file ending in {names}",
            severity=Severity.WARNING,
        )
    beside = _hint_for(root.parent) if root.parent != root else ""
    if beside and root.resolve() not in {(root.parent / n).resolve() for n in ARTICLE_FOLDERS}:
        return Problem(str(root), f"no article found{beside}", severity=Severity.WARNING)
    try:
        skipped = sorted(
            _shown(entry.name) for entry in os.scandir(root)
            if entry.name[:1] in "._" and entry.name not in READ_ANYWAY
        )  # fmt: skip
    except OSError:
        return None
    if skipped:
        names = ", ".join(skipped[:5])
        return Problem(
            str(root),
            f"no article found; names starting with '.' or '_' are skipped ({names}); "
            "Jekyll's posts belong in _posts/, drafts in _drafts/ are never published",
            severity=Severity.WARNING,
        )
    return None


def origins_of(root: Path, config: Config, source: str) -> dict[str, str]:
    """Where each field of the article at `source` (under `root`) came from, for `check -v`.

    Field → the key as written (``date``, ``categories[0]``, ``taxonomies.tags``),
    or ``file name``, ``folder``, ``site.default_section``; empty when the file
    cannot be read. The same as :attr:`feedpub.parse.Parsed.origins`.
    """
    from .parse import parse_article

    raw = _read(root / source)
    if raw is None:
        return {}
    return parse_article(raw, str(root / source), config, source, keep_body=False).origins


Subfolders = list[tuple[str, str, int]]  # each folder to walk: its path, key and depth


class _Scanner:
    """The state of one walk over the articles folder."""

    def __init__(self, real_root: Path) -> None:
        self.real_root = real_root
        self.folders_seen: set[tuple[int, int]] = set()
        self.found: list[File] = []
        self.linked: list[File] = []
        self.linked_folders: list[tuple[str, str]] = []
        self.problems: list[Problem] = []
        self.unreadable: list[str] = []
        # path → the stat the last build saw, found unchanged or (for those a helper
        # checks) taken for now: see :mod:`feedpub.stat_check`
        self.provisional: Mapping[str, tuple[int, int, int, int]] = {}
        self.folders: list[tuple[str, Stat]] = []  # each folder read, with its stat
        # The folders the last walk read, each with its stat then, its files and its folders
        # (see start_from): one whose stat is as it was is not listed.
        self.recorded: dict[str, tuple[int, int, int, int]] = {}
        self.known_files: dict[str, list[File]] = {}
        self.known_folders: dict[str, list[str]] = {}
        self.taken: dict[str, Stat | None] = {}  # the stats the check took, of files changed
        self.device = -1  # the articles folder's: a folder on another device is listed
        # What a folder's stat does not vouch for was met: a symbolic link (followed or
        # not), or a folder reached twice (a bind mount).
        self.unrecorded = False

    def start_from(self, known: Sequence[File], folders: Folders, check: stat_check.Check) -> None:
        """Walk again from what the last walk found: `known`, whose stats `check` checked, in
        `folders` (each with its stat; none when the last walk vouched for none).

        A folder's times change whenever an entry is added to it, removed or renamed: one
        whose stat is as recorded holds the names it held, each of the same kind, so its
        files are the known ones (with the stats the check took, provisionally those the
        helper checks, as for a listed folder) and its folders the known ones, in the order
        the last listing gave. Only the folders that changed are listed, and those this
        process may not list, those on another device than the articles folder (a mount)
        and those holding a known file that is no regular file now.
        """
        try:
            device = os.stat(folders[0][0]).st_dev if folders else None
        except OSError:
            device = None
        if device is None:
            self.provisional = check.provisional()
            return
        self.device = device
        self.recorded = dict(folders)
        paths = stat_check.columns(known)[0]
        here = check.here
        self.taken = {
            paths[here[at]]: None if here[at + 1] < 0 else Stat(*here[at + 1 : at + 5])
            for at in range(0, len(here), 5)
        }  # fmt: skip
        by_folder: dict[str, list[File]] = {}
        for file in known:
            by_folder.setdefault(file.path.rpartition("/")[0], []).append(file)
        self.known_files = by_folder
        children: dict[str, list[str]] = {}
        for path, _ in folders[1:]:
            children.setdefault(path.rpartition("/")[0], []).append(path)
        self.known_folders = children

    def reused(self, folder: str, prefix: str, depth: int) -> Subfolders | None:
        """Record the known files of a folder found as it was; its known folders, to walk.
        None when it is to be listed after all: one of its files is no regular file now,
        or cannot be seen (the folder was reached by another build's rights, or a file
        system mounted in its place has the same stat)."""
        key = _entries_key(folder)
        files = self.known_files.get(key, ())
        taken = self.taken
        found: list[File] = []
        for file in files:
            stat = taken.get(file.path, file.stat)
            if stat is None:
                return None
            found.append(file if stat is file.stat else file._replace(stat=stat))
        self.found += found
        return [(path, f"{prefix}{path.rpartition('/')[2]}/", depth + 1)
                for path in self.known_folders.get(key, ())]  # fmt: skip

    def walk(self, top: str, top_prefix: str) -> None:
        """Every folder under `top`, depth first, with a stack rather than recursion."""
        stack = [(top, top_prefix, top_prefix.count("/"))]
        while stack:
            folder, prefix, depth = stack.pop()
            for name_path_prefix in reversed(self.read_folder(folder, prefix, depth)):
                stack.append(name_path_prefix)

    def read_folder(self, folder: str, prefix: str, depth: int) -> Subfolders:
        """Record the article files of one folder; the subfolders to walk next."""
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in self.folders_seen:
                # Reached twice (a bind mount): what it holds may show elsewhere later.
                self.unrecorded = True
                return []
            self.folders_seen.add((info.st_dev, info.st_ino))
            stat = stat_of(info)
            if (
                self.recorded and self.recorded.get(folder) == stat
                and info.st_dev == self.device and _listable(folder)
            ):  # fmt: skip
                reused = self.reused(folder, prefix, depth)
                if reused is not None:
                    self.folders.append((folder, stat))
                    return reused
            listing = os.scandir(folder)
            self.folders.append((folder, stat))
        except OSError as error:
            self.unreadable_folder(folder, prefix, error)
            return []
        if self.recorded:  # the last stat of each known file this folder holds, as reused
            taken = self.taken
            self.provisional = {file.path: file.stat
                                for file in self.known_files.get(_entries_key(folder), ())
                                if file.path not in taken}  # fmt: skip
        # Read as listed, not listed whole first: holding a large folder's entries all at
        # once cost 0.09 s of 0.5 at 100,000 files. A listing that fails half way leaves
        # nothing of that folder behind.
        marks = self.marks()
        try:
            with listing:
                return self.entries(listing, prefix, depth)
        except OSError as error:
            self.rewind(marks)
            self.unreadable_folder(folder, prefix, error)
            return []

    def unreadable_folder(self, folder: str, prefix: str, error: OSError) -> None:
        self.problems.append(Problem(
            _shown(folder), f"the folder cannot be read: {error.strerror}"
        ))  # fmt: skip
        self.unreadable.append(prefix)

    def _lists(self) -> tuple[list[Any], ...]:
        return self.found, self.linked, self.linked_folders, self.problems, self.unreadable

    def marks(self) -> tuple[int, ...]:
        return tuple(len(items) for items in self._lists())

    def rewind(self, marks: tuple[int, ...]) -> None:
        for items, mark in zip(self._lists(), marks, strict=True):
            del items[mark:]

    def entries(self, entries: Iterator[os.DirEntry[str]], prefix: str, depth: int) -> Subfolders:
        """Record the article files among one folder's entries; the subfolders to walk."""
        # The common case, a plain article file, is handled inline: this loop runs
        # over every file on every build, and the stat is most of its cost.
        found, is_regular, new = self.found, stat_module.S_ISREG, tuple.__new__
        provisional = self.provisional
        folders: list[tuple[str, str, int]] = []
        for entry in entries:
            name = entry.name
            if name[0] in "._" and name not in READ_ANYWAY:
                continue
            if name.endswith(".md") and name.isascii() and not entry.is_symlink():
                last = provisional.get(entry.path)
                # Its stat was found unchanged, or is being checked in the helper (a folder
                # or FIFO by that name now, as the listing says, is no file to vouch for).
                if last is not None and entry.is_file(follow_symlinks=False):
                    found.append(new(File, (prefix + name, entry.path, new(Stat, last))))
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    continue
                if is_regular(info.st_mode):
                    stat = new(
                        Stat, (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                    )
                    found.append(new(File, (prefix + name, entry.path, stat)))
                    continue
            subfolder = self.visit(entry, prefix)
            if subfolder is not None:
                if depth >= MAX_FOLDER_DEPTH:
                    self.problems.append(Problem(
                        _shown(entry.path), f"the folder is nested more than {MAX_FOLDER_DEPTH} "
                        "deep under the articles folder; its files are not read",
                    ))  # fmt: skip
                    self.unreadable.append(subfolder)
                    continue
                folders.append((entry.path, subfolder, depth + 1))
        return folders

    def visit(self, entry: os.DirEntry[str], prefix: str) -> str | None:  # noqa: PLR0911 - one per kind of entry
        """Record one entry that is not a plain article file; the key of a folder to walk."""
        name = entry.name
        link = entry.is_symlink()
        if link:
            self.unrecorded = True  # what it leads to may change with no folder changing
            if not self.followed(entry):
                return None
        if _undecodable(name):
            try:
                kind = "folder" if entry.is_dir() else "file"
            except OSError:
                return None
            if kind == "file" and not name.endswith(EXTENSIONS):
                return None
            self.problems.append(Problem(
                _shown(entry.path), f"the {kind} name is not UTF-8; expected a UTF-8 name"
                + ("" if kind == "file" else " (its files are not read)"),
            ))  # fmt: skip
            return None
        try:
            if entry.is_dir():
                if link:
                    self.linked_folders.append((entry.path, f"{prefix}{name}/"))
                    return None
                return f"{prefix}{name}/"
            if not name.endswith(EXTENSIONS):
                return None
            info = entry.stat()
        except OSError:
            return None
        if not stat_module.S_ISREG(info.st_mode):
            return None
        (self.linked if link else self.found).append(File(prefix + name, entry.path, stat_of(info)))
        return None

    def followed(self, entry: os.DirEntry[str]) -> bool:
        """True for a link to follow: one that leads somewhere inside the articles folder."""
        try:  # realpath, unlike Path.resolve, does not raise on a loop: stat tells
            real = os.path.realpath(entry.path)
            os.stat(entry.path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                self.problems.append(Problem(
                    _shown(entry.path), "the symbolic link loops (following it never ends); "
                    "expected a link to a file or folder",
                ))  # fmt: skip
            return False  # a dangling link: nothing to read
        return Path(real).is_relative_to(self.real_root)


def _entries_key(folder: str) -> str:
    """What the paths of `folder`'s entries, as its listing makes them, hold before their last
    `/` (`/` itself: the empty string)."""
    return os.path.join(folder, "_").rpartition("/")[0]


def _shown(path: str) -> str:
    """A path as messages show it: bytes that are not UTF-8 escaped (`\\xff`)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _undecodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogate escapes
        return True
    return False


def article_files(root: Path) -> list[File]:
    """Every article file under `root` (see :func:`scan`)."""
    return list(scan(root).files)


def load_articles(
    root: Path,
    config: Config,
    *,
    max_bytes: int = MAX_ARTICLE_BYTES,
    cache: Mapping[str, Cached] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    files: list[File] | None = None,
    now: datetime | None = None,
    cards: bool = False,
) -> Loaded:
    """Read and parse every article under `root`, reusing `cache` for unchanged files.

    With `now` (the build's), an article whose `expiryDate` / `expires` has come
    is a draft; an article that has an expiry date is never cached, so that each
    build judges it again. With `cards`, each freshly parsed article comes as a listing
    with its card (see :data:`feedpub.state.Card`).
    """
    cache = cache or {}
    files = article_files(root) if files is None else files
    articles: list[Listed] = []
    problems: list[Problem] = []
    broken: dict[str, str] = {}
    fresh: dict[str, Cached] = {}
    parsed = 0
    to_parse: list[File] = []
    for file in files:
        cached = cache.get(file.source)
        if cached is not None and cached.stat == file.stat:
            if cached.listing.path != file.path:  # the articles folder spelled another way
                cached.listing.path = file.path
            articles.append(cached.listing)
            fresh[file.source] = cached
        else:
            to_parse.append(file)
    # Touched, not changed (same bytes, new stat): found by digest (see recheck), not parsed.
    same = unchanged(to_parse, cache, max_bytes) if cache and to_parse else set()
    work = [(file, cache.get(file.source)) for file in to_parse if file.source not in same]
    outcomes = _parse_all(work, config, max_bytes, progress, jobs, now=now, cards=cards)
    for file in to_parse:
        outcome = None if file.source in same else next(outcomes)[1]
        if outcome is None:  # touched, not changed: the cached parse stands, with the new stat
            listing = cache[file.source].listing
            listing.path = file.path
            articles.append(listing)
            fresh[file.source] = Cached(file.stat, listing)
            continue
        article, found, cacheable = outcome
        problems.extend(found)
        if article is None:
            broken[file.source] = file.path
            continue
        parsed += 1
        if type(article) is Listing and article.source == file.source:
            article.source, article.path = file.source, file.path  # the same, held once
        articles.append(article)
        if not found and cacheable:  # an article with problems is not cached: reported each time
            listing = article if isinstance(article, Listing) else Listing.of(article)
            fresh[file.source] = Cached(file.stat, listing)
    for _ in outcomes:  # ends the parse (and closes its workers) in order
        pass
    return Loaded(tuple(articles), tuple(problems), len(files), broken, fresh, parsed)


def read_bodies(root: Path, articles: Iterable[Article]) -> dict[str, str]:
    """The Markdown body of each article, read again from its file, by source."""
    from .parse import read_body

    bodies = {}
    for article in articles:
        raw = _read(root / article.source)
        if raw is not None:
            bodies[article.source] = read_body(raw, article.path)
    return bodies


def read_articles(
    root: Path, config: Config, listings: Iterable[Listed], *, now: datetime | None = None
) -> dict[str, Article]:
    """The whole articles (bodies included) behind listings, read again from their files.

    A file that can no longer be read or parsed is left out: its caller keeps
    what it had. `now` judges expiry dates, as in :func:`load_articles`.
    """
    from .parse import parse_article

    articles = {}
    for listing in listings:
        raw = _read(root / listing.source)
        parsed = (
            None if raw is None
            else parse_article(raw, listing.path, config, listing.source, now=now)
        )  # fmt: skip
        if parsed is not None and parsed.article is not None:
            articles[listing.source] = parsed.article
    return articles


def _read(path: Path) -> bytes | None:
    """A file's bytes read again after loading; None when it can no longer be read."""
    try:
        return read_bytes(path)
    except OSError:
        return None


def read_bytes(path: str | Path, size: int = 0) -> bytes:
    """A file's bytes, read by system calls alone (a file object's layers cost a small file
    as much again as its read: 17 against 9 µs here), `size` (its stat's) in one read and
    whatever it has beyond that after. Raises OSError."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(descriptor, size + 1 if size > 0 else 1 << 16)
        if not data:
            return data
        more = os.read(descriptor, 1 << 16)  # at the end already, for a file as its stat said
        if not more:
            return data
        parts = [data, more]
        while more := os.read(descriptor, 1 << 20):
            parts.append(more)
        return b"".join(parts)
    finally:
        os.close(descriptor)


Work = tuple[File, Cached | None]
# What parsing one file gave: the article (as a listing when it has no problem
# and can be cached; None when it cannot be published) and its problems; or
# None when the file's bytes are those its cache entry was made from.
# `cacheable` is False for an article whose expiry date each build must judge.
Outcome = tuple[Article | Listing | None, tuple[Problem, ...], bool] | None
_worker_config: list[tuple[Config, int, bool, datetime | None, bool]] = []
# Up to this many files to parse, their articles are kept whole (a few MB), so the
# entries need not be read again; above it, only listings (a large archive's
# articles would not fit the memory a cron job should take).
WHOLE_UP_TO = 20_000


def forking() -> bool:
    """Processes can be forked (multiprocessing, 7 ms to import, is imported only to ask)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _parse_all(
    work: list[Work], config: Config, max_bytes: int, progress: Progress | None, jobs: int,
    *, now: datetime | None = None, cards: bool = False,
) -> Iterator[tuple[File, Outcome]]:  # fmt: skip
    """Each file of `work` with what parsing it gave, in order.

    Many files are parsed by `jobs` processes: this one and `jobs - 1` forked workers,
    each taking the next chunk of files as it becomes free (a shared counter), so that a
    core slowed by other work takes fewer. A worker receives nothing but the chunk's
    number (it inherits the files) and sends back compact records (see
    :func:`_parse_in_worker`); the chunks this process parses need no traffic at all.
    (On a quiet 2-core machine a cold 10,000-article build took 3.6 s either way with
    one worker or two beside this process: `--jobs` counts the processes, as it says.)
    """
    files = [file for file, _ in work]
    paced = progress(files) if progress else files
    whole = len(work) <= WHOLE_UP_TO
    if jobs > 1 and len(work) >= PARALLEL_FROM and forking():
        outcomes = _parse_chunks(work, (config, max_bytes, whole, now, cards), jobs)
        for file, outcome in zip(paced, outcomes, strict=True):
            yield file, outcome
        return
    cached = dict(work)
    for file in paced:
        yield file, _parse_file(file, cached[file], config, max_bytes, whole, now=now,
                                cards=cards)  # fmt: skip


def _parse_in_worker(number: int) -> tuple[int, list[Any]] | None:
    """Parse the next chunk of files in a worker: its number and a record per file; None when
    every chunk is taken.

    `number` is the task's (unused): the chunk is the next one no process has taken. A
    record is None (the cached parse stands), ``("card", record, card)`` for an article with
    no problem and a card (packed: :data:`feedpub.state.Card`), else ``(kind, record,
    problems, cacheable, card)`` where the record of an article with problems (rare) is the
    article itself: plain tuples and bytes, which travel between processes far faster than
    objects.
    """
    work, counter, size = _worker_work[0]
    chunk = take_chunk(counter, len(work), size)
    if chunk is None:
        return None
    records: list[Any] = []
    for outcome in _parse_chunk(work, chunk, size, _worker_config[0]):
        if outcome is None:
            records.append(None)
            continue
        article, found, cacheable = outcome
        if type(article) is Listing and article.card is not None and not found and cacheable:
            records.append(("card", article.record(), article.card))
            continue
        problems = [problem.record() for problem in found]
        if isinstance(article, Listing):
            records.append(("listing", article.record(), problems, cacheable, article.card))
            continue
        # pickled whole: its expiry date, time zones and origins are the parent's too
        records.append(("article", article, problems, cacheable, None))
    return chunk, records


def _parse_file(
    file: File, cached: Cached | None, config: Config, max_bytes: int, whole: bool = False,
    *, now: datetime | None = None, cards: bool = False,
) -> Outcome:  # fmt: skip
    if file.stat.size > max_bytes:
        message = (
            f"the file is {file.stat.size} bytes; expected at most {max_bytes} (max_article_bytes)"
        )
        return None, (Problem(file.path, message),), False
    try:
        raw = read_bytes(file.path, file.stat.size)
    except OSError as error:
        return None, (Problem(file.path, f"cannot be read: {error.strerror}"),), False
    from .parse import digest, parse_article  # here: a build with nothing to parse skips them

    if cached is not None and cached.listing.digest == digest(raw):
        return None
    parsed = parse_article(raw, file.path, config, file.source, keep_body=cards, now=now)
    article = parsed.article
    cacheable = article is None or article.expires is None
    if article is not None and not parsed.problems:
        if cards and cacheable:
            return _carded(article, config), (), cacheable
        if cards:
            article = replace(article, body="")
        return (article if whole else Listing.of(article)), (), cacheable
    if cards and article is not None:
        article = replace(article, body="")
    return article, parsed.problems, cacheable


# The files being parsed by worker processes, a counter of the chunks taken, and the size
# of a chunk: inherited by the forked workers, as :data:`_worker_config`.
_worker_work: list[tuple[list[Work], Any, int]] = []
CHUNKS_PER_JOB = 8  # a chunk is taken by whichever process is free: more of them, finer balance
MAX_CHUNK = 256  # files: each chunk is one message; the progress bar moves once per chunk
PARENT_PARSES = True  # this process parses chunks too, while the workers parse theirs (tests)


def _chunk_size(files: int, jobs: int) -> int:
    return max(1, min(MAX_CHUNK, -(-files // (jobs * CHUNKS_PER_JOB))))


def take_chunk(counter: Any, files: int, size: int) -> int | None:
    """The number of the next chunk no process has taken, now taken; None when none is left."""
    with counter.get_lock():
        chunk: int = counter.value
        if chunk * size >= files:
            return None
        counter.value = chunk + 1
    return chunk


def _parse_chunk(
    work: list[Work],
    chunk: int,
    size: int,
    settings: tuple[Config, int, bool, datetime | None, bool],
) -> list[Outcome]:
    """What parsing each file of one chunk of `work` gave."""
    config, max_bytes, whole, now, cards = settings
    return [
        _parse_file(file, cached, config, max_bytes, whole, now=now, cards=cards)
        for file, cached in work[chunk * size : (chunk + 1) * size]
    ]


def _parse_chunks(
    work: list[Work], settings: tuple[Config, int, bool, datetime | None, bool], jobs: int
) -> Iterator[Outcome]:
    """What parsing each file of `work` gave, in order, parsed by this process and workers."""
    import multiprocessing
    import threading

    from . import content, parse  # noqa: F401 - imported before the fork: no worker imports them

    context = multiprocessing.get_context("fork")
    size = _chunk_size(len(work), jobs)
    chunks = -(-len(work) // size)
    counter = context.Value("q", 0)
    # inherited by the forked workers
    _worker_config[:] = [settings]
    _worker_work[:] = [(work, counter, size)]
    done: dict[int, list[Outcome]] = {}
    failed: list[BaseException] = []
    arrived = threading.Condition()

    def received(result: tuple[int, list[Any]] | None) -> None:
        if result is not None:
            outcomes = [_outcome(record) for record in result[1]]
            with arrived:
                done[result[0]] = outcomes
                arrived.notify_all()

    def broke(error: BaseException) -> None:
        with arrived:
            failed.append(error)
            arrived.notify_all()

    try:
        with context.Pool(max(1, jobs - 1)) as pool:
            for number in range(chunks):
                pool.apply_async(_parse_in_worker, (number,), callback=received,
                                 error_callback=broke)  # fmt: skip
            for chunk in range(chunks):
                while chunk not in done:
                    mine = take_chunk(counter, len(work), size) if PARENT_PARSES else None
                    if mine is not None:
                        done[mine] = _parse_chunk(work, mine, size, settings)
                        continue
                    with arrived:  # every chunk is taken: wait for the worker parsing this one
                        while chunk not in done and not failed:
                            arrived.wait()
                    if failed:
                        raise failed[0]
                yield from done.pop(chunk)
    finally:
        _worker_work.clear()


def _outcome(record: Any) -> Outcome:
    """The outcome a worker's record of one file stands for (see :func:`_parse_in_worker`)."""
    if record is None:
        return None
    if record[0] == "card":
        return Listing(record[1], record[2]), (), True
    kind, record, found, cacheable, card = record
    problems = tuple(Problem.from_record(problem) for problem in found)
    article = Listing(record, card) if kind == "listing" else record
    return article, problems, cacheable


def _carded(article: Article, config: Config) -> Listing:
    """The listing of an article parsed with its body, with its card."""
    from .content import summary_of

    summary = summary_of(article, config.feeds, markdown=config.markdown)
    listing = Listing.of(article)
    listing.card = pack_card((*article_record(article, body=""), summary))
    return listing
