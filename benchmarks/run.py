"""Time `feedpub build` as a whole process, and Hugo and Pelican on the same corpus.

What it measures
----------------
For each corpus size N (default 1,000, 10,000 and 100,000 articles made by
``benchmarks/corpus.py``), every command runs as a child process, and the
script reports the median wall time and user+system CPU time over ``--runs``
runs, the peak memory, and how many documents the run wrote or left
untouched:

1. feedpub, cold: the output folder (and so its cache) deleted, then
   ``feedpub build -q``;
2. feedpub, rerun with no change;
3. feedpub, rerun after ``corpus.edit`` rewrote 1 % of the articles (a
   different round, so a different 1 %, each run);
4. feedpub, rerun after one article was edited (the newest, which is in the
   all-articles feed, its section's and its topics');
5. feedpub, rerun after one article in no feed was edited (the median by
   date: on archive pages only);
6. feedpub, rerun after one article was added (the newest), then after it was
   deleted again, and after the newest article's topics changed;
7. feedpub, rerun after every article file was touched (content unchanged);
8. ``feedpub --help`` (and the interpreter's own start, for reference).

Cold builds of every tool are interleaved (feedpub, Hugo, Pelican, feedpub, …)
so that a change in the machine's load weighs on all alike; the load average
before each run is logged. ``--before PATH`` runs a second feedpub (an older
version, for a before/after table) cold, with no change and after one edit, in
the same loops. ``--cold-only N …`` runs only the cold builds at those sizes
(a 300,000-article corpus), and ``--plot FILE`` draws the per-article cost
against N (matplotlib, the ``bench`` extra).

Then the corpus is built once more with ``--no-cache`` into a fresh folder and
every document (all formats, archive pages, indexes) is compared byte for byte with the cached
build's.

Hugo and Pelican, when installed, build the same corpus (converted into a site
folder of their own beforehand, not timed) configured to write feeds only
(``benchmarks/peers/``): cold and rerun with no change. The ratios
feedpub / peer follow: a ratio of 1.0 or less means feedpub is at least as
fast. Pelican is skipped above 10,000 articles unless ``--pelican-all``.

How it measures
---------------
Wall time is ``time.perf_counter()`` around the spawn and ``os.wait4``; CPU
time is the child's user+system time from ``wait4`` (worker processes it
waited for included). Peak memory is given twice: ``ru_maxrss`` from
``wait4`` (the largest single process: feedpub's parsing workers are separate
processes) and the summed proportional set size (PSS) of the whole process
tree, sampled every 50 ms from ``/proc``. Linux only. Every file a tool reads
is read by the script before each run (not timed), so that no run reads its
input from the disk. ``feedpub, archives off`` is a cold build with
``[archives] enabled = false``, beside the default one.

feedpub distrusts the stat of an article modified within 2 s of a build's start
(git's racily-clean rule) and reads such a file again on the next build, so
before every feedpub build that follows a change to the articles the script
waits until 2.5 s have passed since the change, and it waits 2.5 s after the
cold build before the no-change reruns. Waits are not timed. Corpora stay in
the work folder and are reused; the articles the edits touched are restored
at the end of each size.

How to run it
-------------
From the repository root, with feedpub installed (Hugo and Pelican optional)::

    python benchmarks/run.py
    python benchmarks/run.py --sizes 1000 10000 --runs 3 --markdown /tmp/results.md
    python benchmarks/run.py --pelican /tmp/pelican-venv/bin/pelican --pelican-all

The report, in Markdown, goes to stdout (and to ``--markdown FILE``);
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import corpus

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
NOW = "2026-01-01T00:00:00Z"
SEED = 1
SETTLE = 2.5  # seconds; feedpub distrusts stats of files modified within 2 s of a build
HELP_RUNS = 20
ARCHIVES_OFF = "feedpub, archives off"  # the cold build without archives, beside the default
PELICAN_MAX = 10_000
SAMPLE_EVERY = 0.05  # seconds between two samples of the process tree's memory
SUMMARY = re.compile(r"(\d+) written, (\d+) unchanged, (\d+) removed")
PROBLEMS = re.compile(r"(\d+) errors?, (\d+) warnings?")

# Targets of the issue, checked at the end when the size they name was run (see targets()).
HELP_TARGET_S = 0.150


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Measuring one child process


class CommandFailed(Exception):
    """A measured command exited with a non-zero status."""

    def __init__(self, command: Sequence[str], code: int, output: str) -> None:
        tail = " | ".join(output.strip().splitlines()[-3:])
        super().__init__(f"`{shlex.join(command)}` exited with {code}: {tail}")


@dataclass(frozen=True, slots=True)
class Timing:
    wall: float  # seconds
    cpu: float  # seconds, user + system, the child and the descendants it waited for
    rss_kib: int  # ru_maxrss: the largest single process
    tree_kib: int  # summed PSS of the process tree, at its sampled peak
    output: str  # stdout and stderr


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as file:
                stat = file.read()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as file:
            for line in file:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_kib(root: int) -> int:
    """The proportional set size of `root` and all its descendants, in KiB."""
    children = _children_by_parent()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _pss_kib(pid)
        pending.extend(children.get(pid, ()))
    return total


class TreeSampler:
    """Samples a process tree's memory in a thread until the block ends; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, tree_pss_kib(self.pid))
            if self._done.wait(SAMPLE_EVERY):
                return


def isolated(function: Callable[..., T], *arguments: object) -> T:
    """`function(*arguments)` in a forked child process, so that this one stays small.

    A child spawned with vfork (as subprocess does) starts with this process's peak RSS as
    its own `ru_maxrss`: work on 100,000 files here would raise every measured peak's floor.
    """
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result: T = pool.apply(function, arguments)
    return result


def _reset_peak_rss() -> None:
    """Reset this process's peak RSS, which a child spawned with vfork inherits as its own."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w", encoding="ascii") as file:
        file.write("5")


def measure(command: Sequence[str], cwd: Path) -> Timing:
    """Run `command` in `cwd` as a child process; its wall and CPU time and peak memory."""
    _reset_peak_rss()
    with tempfile.TemporaryFile() as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file
        )
        with TreeSampler(process.pid) as sampler:
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log_file.seek(0)
        output = log_file.read().decode("utf-8", "replace")
    if process.returncode:
        raise CommandFailed(command, process.returncode, output)
    return Timing(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, sampler.peak_kib, output)


def compile_feedpub(programs: Programs) -> None:
    """Write the bytecode of the feedpub being timed, as `pip install` does for a package.

    An editable install under PYTHONDONTWRITEBYTECODE (set on this machine) would compile
    every module again in each run (about 0.1 s), which no installed copy does.
    """
    python = programs.feedpub_python
    if python is None:
        return
    found = subprocess.run(
        [python, "-c", "import feedpub, os; print(os.path.dirname(feedpub.__file__))"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode == 0 and found.stdout.strip():
        subprocess.run([python, "-m", "compileall", "-q", found.stdout.strip()], check=False)
        log(f"bytecode written for {found.stdout.strip()}")


def warm(folders: Sequence[Path]) -> None:
    """Read every file under `folders`, so that a run reads its input from memory.

    Some machines page out what has not been touched for a minute or so (DAMON's
    reclaim, seen on this one): without this, a tool whose turn comes late would read its
    articles from the disk, and the other tools theirs from memory.
    """
    buffer = bytearray(1 << 16)
    pending = [*folders]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError), open(entry.path, "rb", buffering=0) as file:
                    while file.readinto(buffer):
                        pass


# What a run wrote

Snapshot = dict[str, tuple[int, int, int]]


def snapshot(folder: Path) -> Snapshot:
    """Every document under `folder` (names starting with `.` left out) with its stat."""
    found: Snapshot = {}
    if not folder.is_dir():
        return found
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        found[relative.as_posix()] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    return found


@dataclass(frozen=True, slots=True)
class Run:
    timing: Timing
    written: int
    unchanged: int
    note: str = ""
    load: float = 0.0  # the 1-minute load average just before the run


@dataclass(slots=True)
class Row:
    """One scenario of one tool: its runs, or why there are none."""

    label: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(run.timing.wall for run in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(run.timing.cpu for run in self.runs)

    @property
    def rss_mib(self) -> float:
        return max(run.timing.rss_kib for run in self.runs) / 1024

    @property
    def tree_mib(self) -> float:
        return max(run.timing.tree_kib for run in self.runs) / 1024

    @property
    def written(self) -> list[int]:
        return [run.written for run in self.runs]

    @property
    def unchanged(self) -> list[int]:
        return [run.unchanged for run in self.runs]

    @property
    def load(self) -> str:
        loads = [run.load for run in self.runs]
        return f"{min(loads):.1f}–{max(loads):.1f}"


# Tools


@dataclass(frozen=True, slots=True)
class Tool:
    """A command that builds feeds in `cwd` into `output`; `scratch` is deleted for a cold run."""

    name: str
    cwd: Path
    command: tuple[str, ...]
    output: Path
    scratch: tuple[Path, ...]
    cold_command: tuple[str, ...] | None = None
    parse_summary: bool = False
    inputs: tuple[Path, ...] = ()  # folders read into the page cache before each run

    def reset(self) -> None:
        for folder in self.scratch:
            shutil.rmtree(folder, ignore_errors=True)

    def run(self, *, cold: bool = False) -> Run:
        if cold:
            self.reset()
        warm(self.inputs)
        before = snapshot(self.output)
        command = self.cold_command if cold and self.cold_command else self.command
        load = os.getloadavg()[0]
        timing = measure(command, self.cwd)
        after = snapshot(self.output)
        written = sum(1 for name, stat in after.items() if before.get(name) != stat)
        unchanged = len(after) - written
        if not self.parse_summary or not (found := SUMMARY.search(timing.output)):
            return Run(timing, written, unchanged, load=load)
        said_written, said_unchanged = int(found[1]), int(found[2])
        notes = []
        if (said_written, said_unchanged) != (written, unchanged):
            notes.append(
                f"summary says {said_written} written, {said_unchanged} unchanged; "
                f"file stats say {written} and {unchanged}"
            )
        problems = PROBLEMS.search(timing.output)
        if problems and problems[1] != "0":
            notes.append(f"{problems[1]} errors")
        return Run(timing, said_written, said_unchanged, "; ".join(notes), load=load)


def _interpreter(script: Path) -> Path | None:
    """The Python a console script runs with, from its `#!` line."""
    try:
        with script.open("rb") as file:
            line = file.readline(512).decode("utf-8", "replace")
    except OSError:
        return None
    if not line.startswith("#!"):
        return None
    program = Path(line[2:].split()[0]) if line[2:].split() else None
    return program if program and program.name.startswith("python") else None


def _output_of(command: Sequence[str]) -> str:
    """The first line `command` prints; empty when it prints nothing or fails."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return lines[0] if done.returncode == 0 and lines else ""


@dataclass(frozen=True, slots=True)
class Programs:
    """The commands found, and the versions they report."""

    feedpub: str
    hugo: str | None
    pelican: tuple[str, ...] | None
    pelican_all: bool
    before: str | None = None  # another feedpub (an older version) run beside it

    @classmethod
    def find(cls, arguments: argparse.Namespace) -> Programs:
        feedpub = arguments.feedpub or _beside_python("feedpub") or shutil.which("feedpub")
        if not feedpub:
            sys.exit("feedpub not found: install it, or give --feedpub PATH")
        hugo = None if arguments.no_hugo else arguments.hugo or shutil.which("hugo")
        pelican: tuple[str, ...] | None = None
        if arguments.no_pelican:
            pass
        elif arguments.pelican:
            pelican = (arguments.pelican,)
        elif found := shutil.which("pelican") or _beside_python("pelican"):
            pelican = (found,)
        elif importlib.util.find_spec("pelican") is not None:
            pelican = (sys.executable, "-m", "pelican")
        before = str(Path(arguments.before).absolute()) if arguments.before else None
        return cls(str(Path(feedpub).absolute()), hugo, pelican, arguments.pelican_all, before)

    @property
    def feedpub_python(self) -> Path | None:
        return _interpreter(Path(self.feedpub))

    @property
    def pelican_python(self) -> Path | None:
        if self.pelican is None:
            return None
        if len(self.pelican) > 1:
            return Path(self.pelican[0])
        return _interpreter(Path(self.pelican[0]))


def _beside_python(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


# The corpus and the peers' copies of it


Front = dict[str, str | list[str]]


def read_article(path: Path) -> tuple[Front, str]:
    """The front matter and body of one of corpus.py's articles (nested keys left out)."""
    text = path.read_text(encoding="utf-8")
    head, _, body = text[4:].partition("\n---\n")
    front: Front = {}
    for line in head.splitlines():
        if line.startswith(" "):
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if value.startswith("["):
            front[key] = [item.strip() for item in value[1:-1].split(",") if item.strip()]
        elif value.startswith('"'):
            front[key] = json.loads(value)
        else:
            front[key] = value
    return front, body


def _text(front: Front, key: str) -> str:
    value = front.get(key, "")
    return value if isinstance(value, str) else ", ".join(value)


def _iso(stamp: str) -> str:
    """`2021-03-30 09:15`, `…T09:15:00Z` or `…T09:15:00-04:00` as ISO 8601 with seconds."""
    return datetime.fromisoformat(stamp).isoformat()


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def hugo_article(front: Front, body: str, slug: str) -> str:
    """The article with Hugo's front matter: `date`, and taxonomies `sections` and `topics`."""
    topics = front.get("topics", [])
    lines = [
        "---",
        f"title: {_quoted(_text(front, 'title'))}",
        f"date: {_quoted(_iso(_text(front, 'published')))}",
    ]
    if front.get("updated"):
        lines.append(f"lastmod: {_quoted(_iso(_text(front, 'updated')))}")
    if front.get("subtitle"):
        lines.append(f"description: {_quoted(_text(front, 'subtitle'))}")
    lines.append(f"sections: [{_quoted(_text(front, 'section'))}]")
    if isinstance(topics, list) and topics:
        lines.append(f"topics: [{', '.join(_quoted(topic) for topic in topics)}]")
    if front.get("author"):
        lines.append(f"author: {_quoted(_text(front, 'author'))}")
    lines += [f"slug: {_quoted(slug)}", "---"]
    return "\n".join(lines) + "\n" + body


def pelican_article(front: Front, body: str, slug: str) -> str:
    """The article with Pelican's Markdown metadata: section → Category, topics → Tags."""
    lines = [
        f"Title: {_text(front, 'title')}",
        f"Date: {_iso(_text(front, 'published'))}",
    ]
    if front.get("updated"):
        lines.append(f"Modified: {_iso(_text(front, 'updated'))}")
    lines += [f"Category: {_text(front, 'section')}", f"Tags: {_text(front, 'topics')}"]
    if front.get("author"):
        lines.append(f"Author: {_text(front, 'author')}")
    if front.get("subtitle"):
        lines.append(f"Summary: {_text(front, 'subtitle')}")
    lines.append(f"Slug: {slug}")
    return "\n".join(lines) + "\n\n" + body


def convert_corpus(source: Path, content: Path, make: Callable[[Front, str, str], str]) -> None:
    """Write every article under `source` into `content` in a peer's format, by `make`."""
    for path in sorted(source.rglob("*.md")):
        front, body = read_article(path)
        target = content / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(make(front, body, path.stem), encoding="utf-8")


def newest_article(folder: Path) -> Path:
    """The article with the latest date in its name (`YYYYMMDD-NNNNNN.md`): in all its feeds."""
    return max(folder.rglob("*.md"), key=lambda path: path.stem)


def median_article(folder: Path) -> Path:
    """The article in the middle by date: in no feed's newest entries, on archive pages only."""
    found = sorted(folder.rglob("*.md"), key=lambda path: path.stem)
    return found[len(found) // 2]


def retopic(path: Path, round_: int) -> None:
    """Give an article other topics (one more, or one fewer, each round)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if line.startswith("topics: ["):
            names = [name.strip() for name in line[len("topics: [") : -1].split(",")]
            names = names[:-1] if len(names) > 1 and round_ % 2 else [*names, "Benchmarks"]
            lines[number] = f"topics: [{', '.join(names)}]"
            break
    path.write_text("\n".join(lines), encoding="utf-8")


def touch(folder: Path) -> None:
    """Touch every article file: new times, the same bytes."""
    now = time.time()
    for path in folder.rglob("*.md"):
        os.utime(path, (now, now))


def count_articles(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.md")) if folder.is_dir() else 0


def edit_one(path: Path, round_: int) -> None:
    """Edit one article in place as an editor would: a new line and an `updated` date."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text[4:].partition("\n---\n")
    head = "\n".join(line for line in head.splitlines() if not line.startswith("updated:"))
    updated = f"updated: 2025-07-{1 + round_ % 28:02d}T12:00:00Z"
    path.write_text(
        f"---\n{head}\n{updated}\n---\n{rest}One more line, round {round_}.\n", encoding="utf-8"
    )


def restore(folder: Path, paths: set[Path]) -> None:
    """Write the edited articles back as corpus.py made them."""
    for path in paths:
        number = int(path.stem.rpartition("-")[2])
        name, text = corpus.article(number, SEED)
        if folder / name != path:
            raise RuntimeError(f"{path} is not corpus.py's article {number} ({name})")
        path.write_text(text, encoding="utf-8")


# One corpus size


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


@dataclass(slots=True)
class Section:
    """Everything measured for one corpus size."""

    size: int
    rows: dict[str, Row] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row | None:
        found = self.rows.get(key)
        return found if found is not None and found.runs else None

    def ratio(self, key: str, peer: str) -> tuple[float, float] | None:
        mine, theirs = self.row(f"feedpub {key}"), self.row(f"{peer} {key}")
        if mine is None or theirs is None:
            return None
        return mine.wall / theirs.wall, mine.cpu / theirs.cpu

    def markdown(self) -> list[str]:
        lines = [
            f"## N = {self.size:,}",
            "",
            "| run | runs | wall s (median) | CPU s (median) | peak MiB, largest process "
            "| peak MiB, process tree (PSS) | documents written | unchanged | load (1 min) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        order = ("feedpub", "before", "Hugo", "Pelican")
        rows = sorted(self.rows.values(), key=lambda row: order.index(row.label.split(",")[0]))
        for row in rows:
            if not row.runs:
                lines.append(f"| {row.label} | – | {row.note} | | | | | | |")
                continue
            lines.append(
                f"| {row.label} | {len(row.runs)} | {_seconds(row.wall)} | {_seconds(row.cpu)} "
                f"| {row.rss_mib:.1f} | {row.tree_mib:.1f} | {_span(row.written)} "
                f"| {_span(row.unchanged)} | {row.load} |"
            )
        ratios = [
            (f"feedpub / {peer}, {key}", found)
            for peer in ("before", "Hugo", "Pelican")
            for key in ("cold", "rerun, no change", "edit one")
            if (found := self.ratio(key, peer)) is not None
        ]
        off, hugo = self.row(f"{ARCHIVES_OFF} cold"), self.row("Hugo cold")
        if off is not None and hugo is not None:
            ratios.append(
                (f"{ARCHIVES_OFF} / Hugo, cold", (off.wall / hugo.wall, off.cpu / hugo.cpu))
            )
        if ratios:
            lines += [
                "",
                "Ratios, feedpub / peer (1.0 or less: feedpub at least as fast):",
                "",
                "| ratio | wall | CPU |",
                "| --- | ---: | ---: |",
            ]
            lines += [f"| {label} | {wall:.2f} | {cpu:.2f} |" for label, (wall, cpu) in ratios]
        run_notes = [
            f"{row.label}, run {number}: {run.note}"
            for row in rows
            for number, run in enumerate(row.runs, 1)
            if run.note
        ]
        if self.notes or run_notes:
            lines += ["", *(f"- {note}" for note in [*self.notes, *run_notes])]
        return [*lines, ""]


class SizeBench:
    """Generates (or reuses) one corpus and runs every scenario on it."""

    def __init__(
        self, size: int, runs: int, work: Path, programs: Programs, *, cold_only: bool = False,
        before_runs: int = 1,
    ) -> None:  # fmt: skip
        self.cold_only = cold_only
        self.before_runs = before_runs
        self.size = size
        self.runs = runs
        self.programs = programs
        self.root = work / str(size)
        self.corpus = self.root / "corpus"
        self.marker = self.root / "corpus.json"
        self.changed_at = 0.0
        self.source = ""
        self.edited: set[Path] = set()
        self.section = Section(size)
        self.feedpub = self._feedpub_tool()
        self.before = self._before_tool()

    # The corpus

    def prepare(self) -> str:
        """Make sure the corpus holds corpus.py's N articles; a token naming this copy."""
        self.root.mkdir(parents=True, exist_ok=True)
        info = json.loads(self.marker.read_text()) if self.marker.is_file() else {}
        if (
            info.get("count") == self.size and info.get("seed") == SEED and info.get("pristine")
        ) and count_articles(self.corpus) == self.size:
            log(f"N={self.size:,}: reusing {self.corpus}")
            self.changed_at = self.marker.stat().st_mtime
            return str(info["token"])
        log(f"N={self.size:,}: generating {self.corpus} ...")
        shutil.rmtree(self.corpus, ignore_errors=True)
        isolated(corpus.generate, self.corpus, self.size, SEED)
        token = str(time.time_ns())
        self._mark(token, pristine=True)
        return token

    def _mark(self, token: str, *, pristine: bool) -> None:
        record = {"count": self.size, "seed": SEED, "pristine": pristine, "token": token}
        self.marker.write_text(json.dumps(record) + "\n")
        self.changed_at = time.time()

    def settle(self) -> None:
        """Wait until the last change to the articles is old enough for feedpub to trust."""
        delay = self.changed_at + SETTLE - time.time()
        if delay > 0:
            time.sleep(delay)

    def convert(self, site: Path, token: str, make: Callable[[Front, str, str], str]) -> None:
        """Copy the corpus into `site`/content in a peer's format, unless already done."""
        marker = site / ".bench-corpus"
        content = site / "content"
        done = marker.is_file() and marker.read_text().strip() == token
        if done and count_articles(content) == self.size:
            return
        log(f"N={self.size:,}: converting the corpus for {site.name} ...")
        shutil.rmtree(site, ignore_errors=True)
        isolated(convert_corpus, self.corpus, content, make)
        marker.write_text(token + "\n")

    # The tools

    def _feedpub_tool(self) -> Tool:
        out = self.root / "feedpub-out"
        command = feedpub_build(self.programs.feedpub, out.name)
        return Tool(
            "feedpub", self.root, command, out, (out,), cold_command=(*command, "-q"),
            parse_summary=True, inputs=(self.corpus,),
        )  # fmt: skip

    def _archives_off_tool(self) -> Tool:
        """feedpub with `archives.enabled = false`: cold builds only, for the ratio."""
        out = self.root / "feedpub-noarchives-out"
        config = self.root / "no-archives.toml"
        config.write_text("[archives]\nenabled = false\n", encoding="utf-8")
        command = (*feedpub_build(self.programs.feedpub, out.name), "--config", config.name)
        return Tool(
            ARCHIVES_OFF, self.root, command, out, (out,),
            cold_command=(*command, "-q"), parse_summary=True, inputs=(self.corpus,),
        )  # fmt: skip

    def _before_tool(self) -> Tool | None:
        if self.programs.before is None:
            return None
        out = self.root / "before-out"
        command = feedpub_build(self.programs.before, out.name)
        return Tool(
            "before", self.root, command, out, (out,), cold_command=(*command, "-q"),
            parse_summary=True, inputs=(self.corpus,),
        )  # fmt: skip

    def hugo_tool(self, token: str) -> Tool | None:
        if self.programs.hugo is None:
            return None
        site = self.root / "hugo"
        self.convert(site, token, hugo_article)
        shutil.copyfile(PEERS / "hugo.toml", site / "hugo.toml")
        public = site / "public"
        return Tool(
            "Hugo",
            site,
            (self.programs.hugo, "--quiet"),
            public,
            (public, site / "resources"),
            inputs=(site / "content",),
        )

    def pelican_tool(self, token: str) -> Tool | None:
        if self.programs.pelican is None:
            return None
        if self.size > PELICAN_MAX and not self.programs.pelican_all:
            log(f"N={self.size:,}: Pelican skipped: too slow (--pelican-all runs it)")
            self.section.rows["Pelican cold"] = Row(
                "Pelican, cold", note=f"skipped: too slow above {PELICAN_MAX:,} (--pelican-all)"
            )
            return None
        site = self.root / "pelican"
        self.convert(site, token, pelican_article)
        shutil.copyfile(PEERS / "pelicanconf.py", site / "pelicanconf.py")
        output = site / "output"
        command = pelican_build(self.programs.pelican)
        return Tool(
            "Pelican", site, command, output, (output, site / "cache"), inputs=(site / "content",)
        )

    # Scenarios

    def repeat(
        self, key: str, label: str, step: Callable[[int], Run], *, tolerate: bool = False
    ) -> bool:
        """Run `step` `runs` times into the row `key`; False when a tolerated command failed."""
        row = self.section.rows.setdefault(key, Row(label))
        for number in range(1, self.runs + 1):
            before = source_digest()
            try:
                run = step(number)
            except CommandFailed as error:
                if not tolerate:
                    raise
                row.runs.clear()
                row.note = f"failed: {error}"
                log(f"N={self.size:,}: {label} failed: {error}")
                return False
            after = source_digest()
            if label.startswith("feedpub") and run.note != "untimed":
                if not before == after == self.source:
                    # feedpub's caches are keyed on a digest of its own source
                    note = "feedpub's source changed since its last run here (caches invalid)"
                    run = replace(run, note="; ".join(filter(None, [run.note, note])))
                self.source = after
            row.runs.append(run)
            log(
                f"N={self.size:,}: {label} {number}/{self.runs}: {run.timing.wall:.3f} s wall, "
                f"{run.timing.cpu:.3f} s CPU, {run.timing.rss_kib / 1024:.0f} MiB, "
                f"{run.written} written"
            )
        return True

    def colds(self, tools: Sequence[Tool]) -> list[Tool]:
        """Cold builds of every tool, interleaved run by run; the tools that did not fail."""
        rows = {tool.name: self.section.rows.setdefault(f"{tool.name} cold",
                                                        Row(f"{tool.name}, cold"))
                for tool in tools}  # fmt: skip
        failed: set[str] = set()
        for number in range(1, self.runs + 1):
            for tool in tools:
                if tool.name in failed or (tool.name == "before" and number > self.before_runs):
                    continue
                self.settle()
                try:
                    run = tool.run(cold=True)
                except CommandFailed as error:
                    if tool.name == "feedpub":
                        raise
                    failed.add(tool.name)
                    rows[tool.name].runs.clear()
                    rows[tool.name].note = f"failed: {error}"
                    continue
                rows[tool.name].runs.append(run)
                log(f"N={self.size:,}: {tool.name} cold {number}/{self.runs}: "
                    f"{run.timing.wall:.3f} s wall, {run.timing.rss_kib / 1024:.0f} MiB "
                    f"(load {run.load:.2f})")  # fmt: skip
        for tool in tools:
            if tool.name not in failed:
                self.section.notes.append(f"{tool.name} output: {describe_output(tool)}")
        return [tool for tool in tools if tool.name not in failed]

    def rerun(self, tool: Tool) -> None:
        """Reruns with nothing changed; a peer that fails is noted, not fatal."""
        time.sleep(SETTLE)
        self.repeat(
            f"{tool.name} rerun, no change", f"{tool.name}, rerun, no change",
            lambda _: tool.run(), tolerate=tool.name not in {"feedpub", "before"},
        )  # fmt: skip

    def edits(self, token: str) -> None:
        self._mark(token, pristine=False)
        edited = max(1, round(self.size / 100))

        newest = isolated(newest_article, self.corpus)

        before = self.before
        before_runs: list[Run] = []

        def one_article(number: int) -> Run:
            edit_one(newest, number)
            self.edited.add(newest)
            self.changed_at = time.time()
            self.settle()
            run = self.feedpub.run()
            if before is not None:  # the same change, seen by the older version too
                before_runs.append(before.run())
            return run

        self.repeat("feedpub edit one", "feedpub, rerun after editing 1 article", one_article)
        if before is not None:
            self.section.rows["before edit one"] = Row(
                "before, rerun after editing 1 article", before_runs
            )

        def one_percent(number: int) -> Run:
            self.edited.update(isolated(corpus.edit, self.corpus, 1.0, SEED, number))
            self.changed_at = time.time()
            self.settle()
            return self.feedpub.run()

        self.repeat(
            "feedpub edit 1%", f"feedpub, rerun after editing 1% ({edited:,} articles)",
            one_percent,
        )  # fmt: skip

    def changes(self) -> None:
        """One article edited in no feed, added then deleted, re-topicked; every file touched."""
        newest = isolated(newest_article, self.corpus)
        middle = isolated(median_article, self.corpus)

        def no_feed(number: int) -> Run:
            edit_one(middle, number)
            self.edited.add(middle)
            self.changed_at = time.time()
            self.settle()
            return self.feedpub.run()

        self.repeat(
            "feedpub edit no feed",
            "feedpub, rerun after editing 1 article in no feed (archive pages only)", no_feed,
        )  # fmt: skip
        deletes: list[Run] = []

        def add_then_delete(number: int) -> Run:
            added = self.corpus / "2025" / f"20251231-{900_000 + number:06d}.md"
            added.parent.mkdir(exist_ok=True)
            _, text = corpus.article(900_000 + number, SEED)
            head, _, rest = text[4:].partition("\n---\n")
            head = "\n".join(
                f"published: 2025-12-31T{number % 24:02d}:00:00Z" if line.startswith("published:")
                else line for line in head.splitlines()
            )  # fmt: skip
            added.write_text(f"---\n{head}\n---\n{rest}", encoding="utf-8")
            self.changed_at = time.time()
            self.settle()
            run = self.feedpub.run()
            added.unlink()
            self.changed_at = time.time()
            self.settle()
            deletes.append(self.feedpub.run())
            return run

        self.repeat("feedpub add one", "feedpub, rerun after adding 1 article", add_then_delete)
        self.section.rows["feedpub delete one"] = Row(
            "feedpub, rerun after deleting that article", deletes
        )

        def topics(number: int) -> Run:
            retopic(newest, number)
            self.edited.add(newest)
            self.changed_at = time.time()
            self.settle()
            return self.feedpub.run()

        self.repeat(
            "feedpub topics", "feedpub, rerun after changing 1 article's topics", topics
        )  # fmt: skip

        def touch_all(_: int) -> Run:
            isolated(touch, self.corpus)
            self.changed_at = time.time()
            self.settle()
            return self.feedpub.run()

        self.repeat(
            "feedpub touch all", "feedpub, rerun after touching every file (content unchanged)",
            touch_all,
        )  # fmt: skip
        self.section.notes.append(
            f"The article edited one at a time is the newest, `{newest.relative_to(self.corpus)}`; "
            f"the one in no feed, `{middle.relative_to(self.corpus)}`; the article added (and "
            "then deleted) is dated 2025-12-31, newer than all; the topics changed are the "
            "newest article's."
        )

    def check_cache(self) -> None:
        """Build again with --no-cache into a fresh folder; compare every feed byte for byte."""
        fresh = self.root / "feedpub-nocache"
        shutil.rmtree(fresh, ignore_errors=True)
        command = feedpub_build(self.programs.feedpub, fresh.name, "--no-cache", "-q")
        subprocess.run(command, cwd=self.root, check=True)
        cached, uncached = all_documents(self.feedpub.output), all_documents(fresh)
        differing = sorted(
            name
            for name in cached.keys() | uncached.keys()
            if cached.get(name) is None
            or uncached.get(name) is None
            or cached[name].read_bytes() != uncached[name].read_bytes()
        )
        if differing:
            shown = ", ".join(f"`{name}`" for name in differing[:10])
            more = f" and {len(differing) - 10} more" if len(differing) > 10 else ""
            verdict = f"**differ**: {len(differing)} documents: {shown}{more}"
        else:
            verdict = f"identical ({len(cached)} documents)"
        self.section.notes.append(
            f"Cache check: after the edits, a `--no-cache` build into a fresh folder and the "
            f"cached build's documents (every format, archive pages and indexes) are {verdict}."
        )
        log(f"N={self.size:,}: cache check: {verdict}")

    def run(self) -> Section:
        token = self.prepare()
        peers = [tool for tool in (self.hugo_tool(token), self.pelican_tool(token)) if tool]
        self.source = source_digest()
        mine = [self.feedpub, self._archives_off_tool(), *([self.before] if self.before else [])]
        working = self.colds([*mine, *peers])
        if self.cold_only:
            return self.section
        for tool in working:
            if tool.name != ARCHIVES_OFF:  # timed cold only, for the ratio
                self.rerun(tool)
        try:
            self.edits(token)
            self.changes()
            self.check_cache()
        finally:
            restore(self.corpus, self.edited)
            self._mark(token, pristine=True)
        return self.section


def feedpub_build(feedpub: str, out: str, *extra: str) -> tuple[str, ...]:
    """The feedpub command run in a size's folder, building `corpus` into `out`."""
    return (feedpub, "build", "--articles", "corpus", "--out", out, "--now", NOW, *extra)


def pelican_build(pelican: Sequence[str]) -> tuple[str, ...]:
    """The Pelican command run in its site folder."""
    return (*pelican, "content", "-o", "output", "-s", "pelicanconf.py", "-q")


def all_documents(folder: Path) -> dict[str, Path]:
    """Every document under `folder`: every file but feedpub's own dotfiles (state, caches)."""
    return {
        path.relative_to(folder).as_posix(): path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }


def describe_output(tool: Tool) -> str:
    """How many documents the tool wrote, and how many entries its all-articles feed holds."""
    documents = snapshot(tool.output)
    main = {
        "feedpub": "all.atom",
        "feedpub, archives off": "all.atom",
        "before": "all.atom",
        "Hugo": "index.xml",
        "Pelican": "all.atom",
    }[tool.name]
    path = tool.output / main
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    entries = text.count("<item>") + text.count("<entry>") + text.count("<entry ")
    kinds = sorted({Path(name).suffix for name in documents})
    return f"{len(documents)} documents ({', '.join(kinds)}), {entries} entries in `{main}`"


def source_digest() -> str:
    """The newest modification of feedpub's source files, to notice edits during a run."""
    source = ROOT / "src" / "feedpub"
    stamps = [path.stat().st_mtime_ns for path in source.rglob("*.py")] if source.is_dir() else []
    return f"{len(stamps)}:{max(stamps, default=0)}"


# The report


def _commit() -> str:
    return _output_of(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "unknown"


def machine(programs: Programs) -> list[str]:
    """The machine and every program's version, taken before the run."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (
            line.partition(":")[2].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = next(
        (int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0
    )
    os_name = platform.platform()
    release = Path("/etc/os-release")
    if release.is_file():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.partition('=')[2].strip(chr(34))}, Linux {platform.release()}"
    python = programs.feedpub_python
    python_version = _output_of([str(python), "--version"]) if python else platform.python_version()
    commit = _commit()
    dirty = _output_of(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"])
    feedpub_version = _output_of([programs.feedpub, "--version"]).rpartition(" ")[2] or "unknown"
    lines = [
        "## Machine",
        "",
        f"- CPU: {model}; `nproc` {len(os.sched_getaffinity(0))} (of {os.cpu_count()} logical)",
        f"- Memory: {total / 1024 / 1024:.1f} GiB",
        f"- OS: {os_name}",
        f"- Python (feedpub's): {python_version} at `{python or sys.executable}`",
        f"- feedpub: {feedpub_version}, commit {commit}"
        + (" **with uncommitted changes in src/**" if dirty else ""),
    ]
    if programs.hugo:
        lines.append(f"- Hugo: {_output_of([programs.hugo, 'version'])}")
    else:
        lines.append("- Hugo: not installed")
    if programs.pelican:
        version = _output_of([*programs.pelican, "--version"])
        pelican_python = programs.pelican_python
        extra = ""
        if pelican_python:
            extra = _output_of([
                str(pelican_python), "-c",
                "import sys, markdown; print(f'Markdown {markdown.__version__}, "
                "Python {sys.version.split()[0]}')",
            ])  # fmt: skip
        lines.append(f"- Pelican: {version}" + (f" ({extra})" if extra else ""))
    else:
        lines.append("- Pelican: not installed")
    return [*lines, ""]


def method(programs: Programs, work: Path, sizes: Sequence[int], baseline_kib: int) -> list[str]:
    feedpub = programs.feedpub
    lines = [
        "## Method",
        "",
        "- Each command runs as a child process, timed from spawn to `os.wait4`: wall time "
        "(`perf_counter`), CPU time (user + system of the child and the worker processes it "
        "waited for), peak memory as `ru_maxrss` (the largest single process) and as the "
        "summed PSS of the whole process tree sampled every 50 ms (a sample costs about 1.5 ms "
        "of one core). On Linux a child's `ru_maxrss` starts at the spawning process's resident "
        "size: the script resets its own peak before each spawn and does its file work in "
        f"forked helpers, and `true` shows {baseline_kib / 1024:.1f} MiB here, the floor.",
        "- feedpub's bytecode is written before the first run (`python -m compileall`), as "
        "`pip install` writes it for an installed package.",
        "- Medians over the runs (peak memory: the largest over the runs). Before every run, "
        "the script reads each of the tool's input files (feedpub's corpus, the peer's "
        "`content/`), not timed: this machine pages out what has not been touched for about a "
        "minute (DAMON's reclaim), so without it a tool could read its articles from the disk "
        "and another from memory.",
        f"- `{ARCHIVES_OFF}`: the cold build with `[archives] enabled = false` "
        "(`no-archives.toml` in the size's folder), timed cold only, interleaved with the others.",
        "- Documents written / unchanged: feedpub's own summary line where it prints one, and "
        "otherwise the output files whose stat (mtime, size, inode) changed or not.",
        f"- feedpub distrusts the stat of an article modified within 2 s of a build's start (like "
        f"git's racily-clean entries), so a rerun right after a change is not representative: "
        f"before every feedpub build that follows a change to the articles, the script waits "
        f"until {SETTLE} s have passed since the change, and it waits {SETTLE} s after the cold "
        "builds before the no-change reruns. Waits are not timed.",
        "- Rerun after editing 1%: `corpus.edit(corpus, 1.0, round_=k)` with k = 1, 2, … (a new "
        "paragraph and an `updated` date on a different 1% each run). Rerun after editing 1 "
        "article: the newest article, edited the same way, once per run. The edited articles "
        "are restored afterwards.",
        "- Peers build the same articles, converted beforehand (not timed) into their own site "
        "folders, configured for feeds only (`benchmarks/peers/`). Hugo writes RSS only (one "
        "feed for all articles and one per section and topic, 50 items, its built-in template: "
        "the items carry a summary, not the full content); Pelican and feedpub write Atom and "
        "RSS with full content. Hugo and Pelican rewrite every document on every build. "
        "Pelican's reader cache is on.",
        "",
        "## Commands",
        "",
        "```sh",
        f"python benchmarks/corpus.py {work}/N/corpus N   # the corpus (seed {SEED}), made once",
        f"cd {work}/N",
        f"rm -rf feedpub-out && {shlex.join(feedpub_build(feedpub, 'feedpub-out', '-q'))}",
        f"{shlex.join(feedpub_build(feedpub, 'feedpub-out'))}   # every rerun",
        "rm -rf feedpub-noarchives-out && "
        + shlex.join(
            feedpub_build(feedpub, "feedpub-noarchives-out", "--config", "no-archives.toml", "-q")
        ),
        f"{shlex.join(feedpub_build(feedpub, 'feedpub-nocache', '--no-cache', '-q'))}",
    ]
    if programs.hugo:
        hugo = shlex.join([programs.hugo, "--quiet"])
        lines += [f"cd {work}/N/hugo && rm -rf public resources && {hugo}", f"{hugo}   # rerun"]
    if programs.pelican:
        pelican = shlex.join(pelican_build(programs.pelican))
        lines += [
            f"cd {work}/N/pelican && rm -rf output cache && {pelican}",
            f"{pelican}   # rerun",
        ]
    lines += [f"{shlex.join([feedpub, '--help'])}   # {HELP_RUNS} runs", "```", ""]
    if programs.pelican and max(sizes) > PELICAN_MAX and not programs.pelican_all:
        lines += [
            f"Pelican is skipped above {PELICAN_MAX:,} articles: too slow (`--pelican-all`).",
            "",
        ]
    return lines


def startup(programs: Programs, cwd: Path) -> tuple[list[str], Row]:
    """`feedpub --help` and, for reference, the bare interpreter's start."""
    help_row = Row("`feedpub --help`")
    for _ in range(HELP_RUNS):
        help_row.runs.append(Run(measure([programs.feedpub, "--help"], cwd), 0, 0))
    rows = [help_row]
    python = programs.feedpub_python
    if python:
        bare = Row(f"`{python.name} -c pass` (the interpreter alone)")
        for _ in range(HELP_RUNS):
            bare.runs.append(Run(measure([str(python), "-c", "pass"], cwd), 0, 0))
        rows.append(bare)
    lines = [
        "## Start-up",
        "",
        "| command | runs | wall (median) | CPU (median) |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {row.label} | {len(row.runs)} | {_ms(row.wall)} | {_ms(row.cpu)} |" for row in rows
    ]
    return [*lines, ""], help_row


def targets(sections: dict[int, Section], help_row: Row) -> list[str]:
    """The issue's targets, each with what was measured (or why nothing was)."""
    checks: list[tuple[str, str, bool | None]] = []

    def cold_ratio(size: int, target: float) -> None:
        name = f"cold build, {size:,} articles, ≤ {target}× Hugo (wall)"
        section = sections.get(size)
        found = section.ratio("cold", "Hugo") if section else None
        if found is None:
            checks.append((name, "not measured", None))
        else:
            checks.append((name, f"{found[0]:.2f}", found[0] <= target))

    def under(size: int, key: str, what: str, seconds: float, mib: float | None = None) -> None:
        name = f"{what}, {size:,} articles"
        name += "" if seconds == float("inf") else f", ≤ {seconds} s"
        name += f", ≤ {mib:.0f} MiB" if mib else ""
        section = sections.get(size)
        row = section.row(key) if section else None
        if row is None:
            checks.append((name, "not measured", None))
            return
        peak = max(row.rss_mib, row.tree_mib)
        shown = f"{_seconds(row.wall)} s" + (f", {peak:.0f} MiB" if mib else "")
        checks.append((name, shown, row.wall <= seconds and (mib is None or peak <= mib)))

    cold_ratio(1_000, 1.0)
    cold_ratio(10_000, 0.4)
    cold_ratio(100_000, 0.3)
    under(100_000, "feedpub cold", "cold build", float("inf"), 300)
    under(300_000, "feedpub cold", "cold build", 15.0, 700)
    under(100_000, "feedpub rerun, no change", "no change", 0.5)
    under(100_000, "feedpub edit one", "one article edited (in a feed)", 1.0)
    under(100_000, "feedpub edit no feed", "one article edited (in no feed)", 1.0)
    under(100_000, "feedpub add one", "one article added", 1.0)
    under(100_000, "feedpub topics", "one article's topics changed", 1.0)
    under(100_000, "feedpub delete one", "one article deleted", 1.0)
    under(100_000, "feedpub edit 1%", "1% of articles edited", 2.0)
    under(100_000, "feedpub touch all", "every file touched", 3.0)
    checks.append((
        f"`feedpub --help` under {HELP_TARGET_S * 1000:.0f} ms", _ms(help_row.wall),
        help_row.wall < HELP_TARGET_S,
    ))  # fmt: skip
    verdicts = {True: "yes", False: "**no**", None: "–"}
    lines = ["## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {verdicts[met]} |" for name, value, met in checks]
    return [*lines, ""]


PLOTTED = (
    ("feedpub cold", "feedpub, cold build"),
    ("feedpub edit one", "feedpub, one article edited"),
    ("feedpub add one", "feedpub, one article added"),
    ("Hugo cold", "Hugo 0.111, cold build (RSS only)"),
)


def plot(sections: dict[int, Section], path: Path) -> list[str]:
    """The wall time per article against N, log-log, into a PNG; the lines saying so."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7.5, 4.5), dpi=120)
    for key, label in PLOTTED:
        points = [(size, row.wall / size * 1e6) for size, section in sorted(sections.items())
                  if (row := section.row(key)) is not None]  # fmt: skip
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("articles (N)")
    axes.set_ylabel("wall time per article (µs), median")
    axes.set_title("Per-article cost against N (2-core machine)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    return [f"Per-article cost against N: `{path.name}`.", ""]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/feedpub-bench"))
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the report here")
    parser.add_argument("--feedpub", metavar="PATH", help="default: beside this Python, or PATH")
    parser.add_argument("--hugo", metavar="PATH", help="default: `hugo` on PATH")
    parser.add_argument("--pelican", metavar="PATH", help="default: `pelican` on PATH")
    parser.add_argument("--pelican-all", action="store_true", help="run Pelican at every size")
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--no-pelican", action="store_true")
    parser.add_argument("--before", metavar="PATH", help="another feedpub to time beside it")
    parser.add_argument(
        "--before-runs",
        type=int,
        default=3,
        metavar="K",
        help="cold builds of --before (they may be slow)",
    )
    parser.add_argument(
        "--cold-only",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="sizes (also run) at which only the cold builds are timed",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE",
        help="draw the per-article cost against N into this PNG",
    )
    arguments = parser.parse_args(argv)
    if arguments.runs < 1 or any(size < 1 for size in arguments.sizes):
        parser.error("--runs and --sizes must be positive")
    work: Path = arguments.work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    programs = Programs.find(arguments)
    log(f"feedpub: {programs.feedpub}")
    log(f"Hugo: {programs.hugo or 'not found, skipped'}")
    log(f"Pelican: {shlex.join(programs.pelican) if programs.pelican else 'not found, skipped'}")
    started = datetime.now(UTC)
    header = machine(programs)
    commit, load = _commit(), os.getloadavg()[0]
    baseline = measure(["true"], work).rss_kib
    compile_feedpub(programs)
    sections: dict[int, Section] = {}
    for size in sorted({*arguments.sizes, *arguments.cold_only}):
        sections[size] = SizeBench(
            size, arguments.runs, work, programs, cold_only=size in arguments.cold_only,
            before_runs=arguments.before_runs,
        ).run()  # fmt: skip
    log("timing feedpub --help ...")
    start_lines, help_row = startup(programs, work)
    command = shlex.join(
        ["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]
    )
    report = [
        "# feedpub benchmark",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC, `{command}`, runs per scenario: {arguments.runs}.",
        "",
        *header[:-1],
        f"- Load average (1 min): {load:.2f} before the run, {os.getloadavg()[0]:.2f} after",
        *(
            []
            if _commit() == commit
            else [f"- **feedpub's commit changed during the run**: {commit} → {_commit()}"]
        ),
        "",
        *method(programs, work, arguments.sizes, max(baseline, measure(["true"], work).rss_kib)),
        *(line for section in sections.values() for line in section.markdown()),
        *start_lines,
        *targets(sections, help_row),
    ]
    if arguments.plot:
        report += plot(sections, arguments.plot)
    text = "\n".join(report).rstrip() + "\n"
    sys.stdout.write(text)
    if arguments.markdown:
        arguments.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
