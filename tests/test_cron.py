"""Cron-grade builds: atomic writes, one build at a time, nothing lost, limits kept."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import build_site, feed_files, read_feed, write_article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.store import LOCK_FILE

SECTIONS = ["World", "Business", "Opinion", "Science"]
TOPICS = ["Trade", "Climate", "Elections", "Health", "Energy", "Security"]


def make_site(folder: Path, count: int, edition: str) -> None:
    """`count` articles over a few sections and topics; `edition` changes every title and body."""
    for number in range(count):
        topics = ", ".join(TOPICS[(number + k) % len(TOPICS)] for k in range(1 + number % 3))
        write_article(
            folder, f"article-{number:04d}.md",
            f"""
            title: Article {number} ({edition})
            section: {SECTIONS[number % len(SECTIONS)]}
            topics: {topics}
            published: 2021-{1 + number % 12:02d}-{1 + number % 28:02d}T{number % 24:02d}:00:00Z
            """,
            f"Edition {edition} of article {number}. " * 200 + "\n",
        )  # fmt: skip


def snapshot(out: Path) -> dict[str, bytes]:
    """Every document: Atom, RSS and JSON Feed."""
    documents = sorted(out.rglob("*.json"))
    return {str(path.relative_to(out)): path.read_bytes() for path in feed_files(out) + documents}


def feedpub_process(articles: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "feedpub", "build", "--articles", str(articles),
               "--out", str(out), "--now", "2026-01-01T00:00:00Z", "-q", *extra]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Run in a child process: feedpub's build, killed with SIGKILL by itself at the given rename
# of a document into place (before or after it), so that a kill lands mid-write for sure.
SELF_KILLING = """
import os, signal, sys
from feedpub.cli import main
at, after = int(sys.argv[1]), sys.argv[2] == "after"
real, calls = os.replace, [0]
def replace(source, target):
    calls[0] += 1
    if calls[0] == at and not after:
        os.kill(os.getpid(), signal.SIGKILL)
    real(source, target)
    if calls[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
main(sys.argv[3:])
"""


def self_killing_process(
    articles: Path, out: Path, at: int, moment: str
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", SELF_KILLING, str(at), moment, "build",
               "--articles", str(articles), "--out", str(out), "--now", "2026-01-01T00:00:00Z",
               "-q"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def changed_documents(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> int:
    """How many documents are the new ones, after asserting each is the old or the new one,
    whole (it parses)."""
    found = snapshot(out)
    assert found.keys() == old.keys()
    for name, data in found.items():
        assert data in (old[name], new[name]), f"{name} is neither the old nor the new file"
        json.loads(data) if name.endswith(".json") else etree.fromstring(data)
    return sum(found[name] == new[name] != old[name] for name in found)


def test_a_build_killed_at_any_moment_leaves_old_or_new_files(tmp_path: Path) -> None:
    """kill -9 mid-build: every feed is still the old one or the new one, whole and parseable;
    kills that land while documents are being written leave a mix of old and new ones."""
    old_site, new_site = tmp_path / "old", tmp_path / "new"
    make_site(old_site, 120, "first")
    make_site(new_site, 120, "second")
    reference = tmp_path / "reference"
    build_site(new_site, reference)
    new = snapshot(reference)
    pristine = tmp_path / "pristine"
    build_site(old_site, pristine)
    old = snapshot(pristine)
    assert old.keys() == new.keys()
    assert all(old[name] != new[name] for name in old)  # every document changes
    out = tmp_path / "feeds"

    # Killed by itself at a chosen rename: exactly the documents renamed before are new.
    total = len(old)
    for at, moment, expected in [
        (1, "before", 0), (1, "after", 1), (total // 2, "after", total // 2),
        (total, "before", total - 1),
    ]:  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(pristine, out)
        process = self_killing_process(new_site, out, at, moment)
        assert process.wait(60) == -signal.SIGKILL
        assert changed_documents(out, old, new) == expected, (at, moment)

    # Killed from outside at a random moment, mostly while writing: the moment the first new
    # document appears, then at once or a little later.
    chance = random.Random(20210401)
    mixed = 0
    for _ in range(6):
        shutil.rmtree(out)
        shutil.copytree(pristine, out)
        process = feedpub_process(new_site, out)
        for _poll in range(20_000):  # at most about 20 s
            if process.poll() is not None or (out / "all.atom").read_bytes() != old["all.atom"]:
                break
            time.sleep(0.001)
        time.sleep(chance.choice([0, 0, chance.uniform(0, 0.05)]))
        process.kill()
        process.wait()
        changed = changed_documents(out, old, new)
        mixed += 0 < changed < total
    assert mixed >= 1  # some kills landed mid-write (the first ones, deterministically, did)

    result = build_site(new_site, out)
    assert result.exit_code == 0
    assert snapshot(out) == new
    leftovers = [path.name for path in out.rglob("*.tmp")]
    assert leftovers == []


def test_a_second_build_gives_up_when_the_lock_is_held(tmp_path: Path) -> None:
    """While another build holds the lock, --wait 0 exits 3 at once and writes nothing."""
    make_site(tmp_path / "articles", 3, "only")
    out = tmp_path / "feeds"
    out.mkdir()
    with open(out / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = build_site(tmp_path / "articles", out, None, "--wait", "0")
    assert result.exit_code == 3
    assert f"feedpub: {out}: another feedpub build is writing here" in result.output
    assert feed_files(out) == []


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    """A build started while another holds the lock waits for it, then builds."""
    make_site(tmp_path / "articles", 3, "only")
    out = tmp_path / "feeds"
    out.mkdir()
    handle = open(out / LOCK_FILE, "a+b")  # noqa: SIM115 - released by the timer below
    fcntl.flock(handle, fcntl.LOCK_EX)
    written_while_held: list[list[Path]] = []

    def release() -> None:
        written_while_held.append(feed_files(out))  # what the waiting build wrote meanwhile
        handle.close()

    timer = threading.Timer(0.5, release)
    timer.start()
    result = build_site(tmp_path / "articles", out, None, "--wait", "30")
    timer.join()
    assert result.exit_code == 0
    assert written_while_held == [[]]  # it waited: nothing was written before the release
    assert len(read_feed(out / "all.atom").entries) == 3


def test_two_builds_at_once_both_succeed_and_agree(tmp_path: Path) -> None:
    """Two builds started together: one waits for the other; the output is whole and correct."""
    make_site(tmp_path / "articles", 200, "only")
    reference = tmp_path / "reference"
    build_site(tmp_path / "articles", reference)
    out = tmp_path / "feeds"
    processes = [feedpub_process(tmp_path / "articles", out) for _ in range(2)]
    assert [process.wait(120) for process in processes] == [0, 0]
    assert snapshot(out) == snapshot(reference)


def test_a_broken_article_keeps_its_last_good_version(tmp_path: Path) -> None:
    """Broken after publication: reported every run, its last good version stays until fixed."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles, 2, "first")
    build_site(articles, out)
    path = articles / "article-0001.md"
    path.write_text(path.read_text().replace("section: Business", "section: [Business"))
    for _ in range(2):
        result = build_site(articles, out)
        assert result.exit_code == 1
        assert f"{path}:3: error: section: front matter is not valid YAML" in result.output
        assert f"{path}: warning: its last good version stays in the feeds" in result.output
        titles = {entry.title for entry in read_feed(out / "sections/business.atom").entries}
        assert titles == {"Article 1 (first)"}
    write_article(
        articles, "article-0001.md", "title: Repaired\nsection: Business\npublished: 2021-02-02"
    )
    assert build_site(articles, out).exit_code == 0
    assert [e.title for e in read_feed(out / "sections/business.atom").entries] == ["Repaired"]


def test_a_deleted_article_leaves_the_feeds(tmp_path: Path) -> None:
    """An article whose file is deleted leaves every feed; its section's feeds are removed."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles, 2, "first")
    build_site(articles, out)
    (articles / "article-0001.md").unlink()
    result = build_site(articles, out)
    assert result.exit_code == 0
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Article 0 (first)"]
    assert not (out / "sections/business.atom").exists()


def test_a_draft_enters_the_feeds_when_undrafted(tmp_path: Path) -> None:
    """A draft stays out; once `draft` is false it enters on the next build."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    front = "title: Soon\nsection: World\npublished: 2021-01-01\ndraft: {}"
    write_article(articles, "soon.md", front.format("true"))
    build_site(articles, out)
    assert read_feed(out / "all.atom").entries == []
    write_article(articles, "soon.md", front.format("false"))
    build_site(articles, out)
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Soon"]


def test_unchanged_rebuild_touches_no_file(tmp_path: Path) -> None:
    """With nothing changed, no document and not the state is rewritten: every mtime stays."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles, 20, "first")
    build_site(articles, out)
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    time.sleep(0.01)
    result = build_site(articles, out)
    assert "0 written" in result.output
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()} == before


def test_symlinks_leaving_the_folder_and_loops_are_not_followed(tmp_path: Path) -> None:
    """A link out of the folder is ignored, a loop ends, a file linked twice is read once."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles, 1, "first")
    write_article(
        tmp_path / "outside", "secret.md", "title: Secret\nsection: World\npublished: 2021-01-01"
    )
    (articles / "secret.md").symlink_to(tmp_path / "outside" / "secret.md")
    (articles / "outside-folder").symlink_to(tmp_path / "outside")
    (articles / "loop").symlink_to(articles)
    (articles / "inside.md").symlink_to(articles / "article-0000.md")
    result = build_site(articles, out)
    titles = [e.title for e in read_feed(out / "all.atom").entries]
    assert titles == ["Article 0 (first)"]
    assert result.exit_code == 0


def test_an_oversized_article_is_reported_and_skipped(tmp_path: Path) -> None:
    """A file above max_article_bytes is named with its size and skipped."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles, 1, "first")
    big = write_article(
        articles, "big.md", "title: Big\nsection: World\npublished: 2021-01-01", "x" * 20000
    )
    config = tmp_path / "feedpub.toml"
    config.write_text("[build]\nmax_article_bytes = 16384\n")
    result = build_site(articles, out, config)
    assert result.exit_code == 1
    size = big.stat().st_size
    assert (
        f"{big}: error: the file is {size} bytes; expected at most 16384 (max_article_bytes)"
        in result.output
    )
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Article 0 (first)"]


def test_an_unreadable_article_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be read is named with the reason; the others are published."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles, 2, "first")
    unreadable = articles / "article-0001.md"
    real = os.open

    def guarded_open(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == str(unreadable):  # as a file this user may not read would
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", guarded_open)
    result = build_site(articles, out)
    assert result.exit_code == 1
    assert f"{unreadable}: error: cannot be read: Permission denied" in result.output
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Article 0 (first)"]


def test_progress_bar_only_for_a_watching_person(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Long builds show progress on a terminal; never when stderr is not one (cron)."""
    from feedpub import cli

    paths = [Path(f"{number}.md") for number in range(cli.PROGRESS_FROM)]
    assert list(cli._progress(paths)) == paths
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert list(cli._progress(paths)) == paths
    assert "Reading articles" in capsys.readouterr().err


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["edit", "break", "repair", "delete", "draft"]), st.integers(0, 3)),
    min_size=1, max_size=12,
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_no_sequence_of_edits_breakages_and_repairs_loses_an_article(
    tmp_path_factory: pytest.TempPathFactory, operations: list[tuple[str, int]]
) -> None:
    """Whatever happens to the files, every published article stays as its last good version."""
    root = tmp_path_factory.mktemp("edits")
    articles, out = root / "articles", root / "feeds"
    good: dict[int, str] = {}  # the last good title of each article in the feeds
    version = 0

    def write(number: int, *, broken: bool = False, draft: bool = False) -> None:
        nonlocal version
        version += 1
        title = f"Article {number} v{version}"
        published = "someday" if broken else f"2021-01-0{number + 1}"
        write_article(
            articles,
            f"a{number}.md",
            f"title: {title}\nsection: World\npublished: {published}\ndraft: {str(draft).lower()}",
        )
        if not broken:
            good.pop(number, None) if draft else good.__setitem__(number, title)

    for number in range(4):
        write(number)
    build_site(articles, out)
    for operation, number in operations:
        path = articles / f"a{number}.md"
        if operation == "delete":
            path.unlink(missing_ok=True)
            good.pop(number, None)
        elif operation == "break":
            if path.exists():
                write(number, broken=True)
        elif operation == "draft":
            write(number, draft=True)
        else:
            write(number)
        build_site(articles, out)
        titles = sorted(entry.title for entry in read_feed(out / "all.atom").entries)
        assert titles == sorted(good.values())


def test_a_full_disk_is_exit_5_naming_the_file_and_the_next_run_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails after writing began (ENOSPC) exits 5 naming the file, leaves every
    document whole (old or new), and the next run completes the folder."""
    import errno
    import os

    from feedpub import store

    site = tmp_path
    make_site(site / "articles", 20, "first")
    build_site(site / "articles", site / "feeds")
    make_site(site / "articles", 21, "second")
    real = os.replace
    calls = {"n": 0}

    def full(source: str, target: str) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(source, target)

    monkeypatch.setattr(store.os, "replace", full)
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 5
    assert "No space left on device" in result.output
    assert str(site / "feeds") in result.output
    for path in feed_files(site / "feeds"):
        read_feed(path)  # each document is whole
    assert not list((site / "feeds").rglob("*.tmp"))
    monkeypatch.setattr(store.os, "replace", real)
    again = build_site(site / "articles", site / "feeds")
    assert again.exit_code == 0, again.output
    titles = {e.title for e in read_feed(site / "feeds" / "all.atom").entries}
    assert "Article 20 (second)" in titles
