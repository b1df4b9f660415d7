"""Touched files (new stat, same bytes) are vouched for by digest (half in a forked process,
or in threads), not parsed; a file whose bytes changed is always parsed, whatever its stat
says."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import build_site, feed_files, write_article
from test_cache import parsed

from feedpub import forked, recheck

OLD = 1_600_000_000
COUNT = recheck.SERIAL_UP_TO + 40  # enough files that the threads check them


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from feedpub import incremental

    monkeypatch.setattr(incremental, "RACY_NS", 0)


@pytest.fixture(params=["forked", "threads"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A test twice: half the files checked by a forked process (and one was), and all in
    threads."""
    monkeypatch.setattr(recheck, "FORK_FROM", 10 if request.param == "forked" else 10**9)
    started: list[int] = []
    real = forked.Forked.__init__

    def spy(self: forked.Forked, work: Callable[[], bytes]) -> None:
        real(self, work)
        started.append(self.pid)

    monkeypatch.setattr(forked.Forked, "__init__", spy)
    yield str(request.param)
    if request.param == "forked":
        assert started, "no forked process checked a share"
        assert all(started)


def make(articles: Path) -> list[Path]:
    paths = [
        write_article(
            articles, f"{number // 50}/a{number:03d}.md",
            f"title: Article {number:03d}\nsection: S{number % 3}\n"
            f"published: 2021-02-{number % 28 + 1:02d}T12:{number % 60:02d}:00Z",
            f"Body {number:03d}. " + "words " * 500 + "\n",  # above hashlib's 2 KiB
        )
        for number in range(COUNT)
    ]  # fmt: skip
    for path in paths:
        os.utime(path, (OLD, OLD))
    return paths


def outputs(out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in feed_files(out)}


@pytest.mark.usefixtures("way")
def test_touched_files_are_not_parsed_and_an_edit_among_them_is_seen(tmp_path: Path) -> None:
    articles, out = tmp_path / "articles", tmp_path / "out"
    paths = make(articles)
    build_site(articles, out)
    before = outputs(out)
    for step, path in enumerate(paths):
        os.utime(path, (OLD + 10 + step, OLD + 10 + step))
    result = build_site(articles, out)
    assert result.exit_code == 0, result.output
    assert parsed(result.output) == 0  # every file digested, none parsed
    assert outputs(out) == before
    # The same size, a new stat and new bytes: only the digest tells, and it does.
    edited = paths[55]  # the newest: in the all-articles feed
    edited.write_text(edited.read_text().replace("Article 055", "Article X55"))
    for step, path in enumerate(paths):
        os.utime(path, (OLD + 500 + step, OLD + 500 + step))
    result = build_site(articles, out)
    assert parsed(result.output) == 1
    assert b"Article X55" in (out / "all.atom").read_bytes()
    build_site(articles, tmp_path / "reference", None, "--no-cache")
    assert outputs(out) == outputs(tmp_path / "reference")


@pytest.mark.usefixtures("way")
def test_a_touched_file_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    """A file the digest check cannot open goes on to the parse, which reports it."""
    articles, out = tmp_path / "articles", tmp_path / "out"
    paths = make(articles)
    build_site(articles, out)
    broken = paths[3]
    broken.unlink()
    broken.mkdir()  # a folder where the file was: not an article any more
    (articles / "0" / "link.md").symlink_to(paths[4])  # the same file reached twice
    for step, path in enumerate(paths):
        if path != broken:
            os.utime(path, (OLD + 10 + step, OLD + 10 + step))
    result = build_site(articles, out)
    assert result.exit_code == 0, result.output
    assert b"Article 003" not in (out / "all.atom").read_bytes()
    assert parsed(result.output) == 0


@pytest.mark.usefixtures("way")
def test_unchanged_reads_only_files_of_their_cached_size(tmp_path: Path) -> None:
    """The check itself: a grown file and a missing one are not vouched for."""
    from feedpub.config import default_config
    from feedpub.load import load_articles, scan

    articles = tmp_path / "articles"
    paths = make(articles)
    config = default_config()
    files = scan(articles).files
    loaded = load_articles(articles, config, files=files)
    cache = loaded.fresh
    paths[0].write_text(paths[0].read_text() + "more\n")
    paths[1].unlink()
    found = recheck.unchanged(files, cache, 10**6)
    assert paths[0].relative_to(articles).as_posix() not in found
    assert paths[1].relative_to(articles).as_posix() not in found
    assert len(found) == COUNT - 2


@pytest.mark.usefixtures("way")
def test_a_touch_only_rerun_saves_the_new_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun after a touch is a rerun with nothing changed that saves the new stats: the
    build after it trusts them again (the state records the files as they now are)."""
    from feedpub.load import scan
    from feedpub.source import Source
    from feedpub.state import STATE_FILE, decode_state

    articles, out = tmp_path / "articles", tmp_path / "out"
    paths = make(articles)
    build_site(articles, out)
    before = outputs(out)
    for step, path in enumerate(paths):
        os.utime(path, (OLD + 10 + step, OLD + 10 + step))

    def no_listing(*_: object) -> None:
        raise AssertionError("a touch-only rerun lists no article")

    monkeypatch.setattr(Source, "listings", no_listing)
    result = build_site(articles, out)
    assert "0 written" in result.output
    assert parsed(result.output) == 0
    assert outputs(out) == before
    saved = decode_state((out / STATE_FILE).read_bytes()).files
    assert [tuple(file) for file in scan(articles).files] == [tuple(file) for file in saved]


@pytest.mark.usefixtures("way")
def test_a_broken_file_restored_and_touched_leaves_the_last_good_version(tmp_path: Path) -> None:
    """A file whose last build reported a problem is never vouched for by its digest: its
    problem is gone once its good bytes are back, whatever its stat."""
    articles, out = tmp_path / "articles", tmp_path / "out"
    paths = make(articles)
    build_site(articles, out)
    good = paths[55].read_bytes()
    # Broken with its size kept: only the digest can tell the good bytes from these.
    paths[55].write_bytes(good.replace(b"title: Article 055", b"title: [rticle 055"))
    os.utime(paths[55], (OLD + 5, OLD + 5))
    broken = build_site(articles, out)
    assert "error" in broken.output
    paths[55].write_bytes(good)
    for step, path in enumerate(paths):
        os.utime(path, (OLD + 10 + step, OLD + 10 + step))
    result = build_site(articles, out)
    assert " 0 errors" in result.output, result.output
    build_site(articles, tmp_path / "reference", None, "--no-cache")
    assert outputs(out) == outputs(tmp_path / "reference")


@pytest.mark.usefixtures("way")
def test_an_edit_reverted_with_a_new_stat_is_seen(tmp_path: Path) -> None:
    """An edit (the quick path, which leaves the cache as it was) then its revert to the
    cached bytes: the feeds show the reverted text, not the edit."""
    articles, out = tmp_path / "articles", tmp_path / "out"
    paths = make(articles)
    build_site(articles, out)
    original = paths[55].read_bytes()
    paths[55].write_bytes(original.replace(b"Body 055.", b"Body X55."))
    os.utime(paths[55], (OLD + 5, OLD + 5))
    build_site(articles, out)
    assert b"Body X55." in (out / "all.atom").read_bytes()
    paths[55].write_bytes(original)
    for step, path in enumerate(paths):
        os.utime(path, (OLD + 10 + step, OLD + 10 + step))
    build_site(articles, out)
    assert b"Body X55." not in (out / "all.atom").read_bytes()
    build_site(articles, tmp_path / "reference", None, "--no-cache")
    assert outputs(out) == outputs(tmp_path / "reference")


def test_a_listing_that_fails_half_way_leaves_nothing_of_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder whose listing breaks off is reported unreadable, with none of its files."""
    import errno

    from feedpub import load

    articles = tmp_path / "articles"
    make(articles)
    real = os.scandir

    class Failing:
        def __init__(self, folder: str) -> None:
            self.listing = real(folder)

        def __enter__(self) -> Failing:
            return self

        def __exit__(self, *_: object) -> None:
            self.listing.close()

        def __iter__(self) -> Failing:
            return self

        def __next__(self) -> os.DirEntry[str]:
            entry = next(self.listing)
            if entry.name == "a060.md":
                raise OSError(errno.EIO, "Input/output error")
            return entry

    def scandir(folder: str) -> object:
        return Failing(folder) if str(folder).endswith("/1") else real(folder)

    monkeypatch.setattr(load.os, "scandir", scandir)
    found = load.scan(articles)
    assert sorted({file.source.split("/")[0] for file in found.files}) == ["0", "2"]
    assert found.unreadable == ["1/"]
    assert [problem.message for problem in found.problems] == [
        "the folder cannot be read: Input/output error"
    ]


@pytest.mark.parametrize("answer", ["crash", "cut short", "not flags"])
def test_a_helper_that_gives_no_whole_answer_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """The forked half is checked again here when its answer is not whole: an edited file
    in that half is still found, and no unchanged one is lost."""
    from feedpub.config import default_config
    from feedpub.load import load_articles, scan

    monkeypatch.setattr(recheck, "FORK_FROM", 10)
    articles = tmp_path / "articles"
    make(articles)
    files = scan(articles).files
    cache = load_articles(articles, default_config(), files=files).fresh
    edited = Path(files[-1].path)  # in the helper's half
    edited.write_text(edited.read_text().replace("Article", "Artikel", 1))  # the same size
    real = forked.Forked.__init__

    started: list[int] = []

    def start(self: forked.Forked, _: object) -> None:
        def bad() -> bytes:
            if answer == "crash":
                os._exit(3)
            return b"\1" if answer == "cut short" else b"\2" * (COUNT - COUNT // 2)

        real(self, bad)
        started.append(self.pid)

    monkeypatch.setattr(forked.Forked, "__init__", start)
    found = recheck.unchanged(files, cache, 10**6)
    assert edited.relative_to(articles).as_posix() not in found
    assert len(found) == COUNT - 1
    assert started  # the helper ran, and its answer was not believed
    assert all(started)
