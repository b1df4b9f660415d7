"""Nothing is written, created or removed outside the output folder, whatever links it holds;
a build state that exists but cannot be read is an error naming it, never "no state"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import build_site, read_feed, write_article

from feedpub.store import LOCK_FILE

GOOD = "title: {title}\nsection: {section}\ntopics: [Local]\npublished: 2021-03-0{day}"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for day, (title, section) in enumerate([("A", "News"), ("B", "Sports")], start=1):
        write_article(
            tmp_path / "articles", f"{title.lower()}.md",
            GOOD.format(title=title, section=section, day=day),
        )  # fmt: skip
    (tmp_path / "outside").mkdir()
    return tmp_path


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` (not through links) with its bytes and modification time."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    }


@pytest.mark.parametrize("target", ["missing.lock", "existing.lock"])
def test_a_linked_lock_file_is_neither_followed_nor_created(site: Path, target: str) -> None:
    """feeds/.feedpub.lock linked out of the folder: exit 2 naming the lock file, and the
    link's target is neither created nor opened for writing."""
    out, outside = site / "feeds", site / "outside"
    out.mkdir()
    if target == "existing.lock":
        (outside / target).write_bytes(b"someone's file")
    before = tree(outside)
    (out / LOCK_FILE).symlink_to(outside / target)
    result = build_site(site / "articles", out)
    assert result.exit_code == 2, result.output
    assert f"feedpub: error: {out / LOCK_FILE}: cannot open the lock file" in result.output
    assert "not a link" in result.output
    assert "Traceback" not in result.output
    assert tree(outside) == before
    assert not (outside / "missing.lock").exists()
    assert not (out / "all.atom").exists()  # nothing was built without the lock


@pytest.mark.parametrize("history", ["first build", "after a real folder"])
def test_a_linked_documents_folder_is_not_written_through(site: Path, history: str) -> None:
    """feeds/sections linked to a folder outside: its documents are refused and reported
    (exit 1), nothing outside is written or removed (not even files that look like feedpub's
    documents), and the other feeds are written."""
    out, outside = site / "feeds", site / "outside"
    if history == "after a real folder":  # the last build wrote sections/news.atom and others
        build_site(site / "articles", out)
        for path in (out / "sections").iterdir():
            path.rename(outside / path.name)  # feedpub's own documents, now outside
        (out / "sections").rmdir()
        (site / "articles" / "b.md").unlink()  # sections/sports.* are stale: to be removed
    else:
        out.mkdir()
        (outside / "news.atom").write_bytes(b"<feed>not feedpub's</feed>")
    (outside / "old-section.rss").write_bytes(b"<rss>kept</rss>")
    (out / "sections").symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    result = build_site(site / "articles", out)
    assert result.exit_code == 1, result.output
    for suffix in (".atom", ".rss", ".json"):
        assert (
            f"{out / 'sections' / ('news' + suffix)}: error: this file was not written by "
            "feedpub (or is a link)" in result.output
        )
    assert tree(outside) == before  # nothing written, replaced or removed there
    assert [entry.title for entry in read_feed(out / "all.atom").entries][-1] == "A"
    assert (out / "topics" / "local.atom").exists()
    assert (out / "sections").is_symlink()


def test_a_dangling_link_where_a_document_goes_is_refused(site: Path) -> None:
    """feeds/all.atom linked to a missing file outside: refused and reported, the target is
    never created, the other documents are written."""
    out, outside = site / "feeds", site / "outside"
    out.mkdir()
    (out / "all.atom").symlink_to(outside / "made.atom")
    result = build_site(site / "articles", out)
    assert result.exit_code == 1
    assert f"{out / 'all.atom'}: error: this file was not written by feedpub" in result.output
    assert not (outside / "made.atom").exists()
    assert os.readlink(out / "all.atom") == str(outside / "made.atom")
    assert read_feed(out / "all.rss").entries


def test_an_unreadable_state_is_an_error_naming_it(site: Path) -> None:
    """A build state in the way that cannot be read (here a folder where the file goes,
    which no user, not even root, can read as a file) stops the build with exit 2, naming
    it, instead of building as if there were none (its last good versions would vanish)."""
    out = site / "feeds"
    build_site(site / "articles", out)
    before = tree(out)
    state = out / ".feedpub-state"
    state.unlink()
    state.mkdir()
    result = build_site(site / "articles", out)
    assert result.exit_code == 2, result.output
    assert f"feedpub: error: {state}: cannot read the build state" in result.output
    assert "Traceback" not in result.output
    assert {name: data for name, data in tree(out).items() if name != ".feedpub-state"} == {
        name: data for name, data in before.items() if name != ".feedpub-state"
    }  # nothing written


def test_a_state_without_read_permission_is_an_error_naming_it(site: Path) -> None:
    """chmod 000 on the build state: exit 2 naming it (where permissions bind this user)."""
    out = site / "feeds"
    build_site(site / "articles", out)
    state = out / ".feedpub-state"
    state.chmod(0)
    try:
        if os.access(state, os.R_OK):
            pytest.skip("this user (root) reads files whatever their permissions")
        result = build_site(site / "articles", out)
    finally:
        state.chmod(0o600)
    assert result.exit_code == 2, result.output
    assert f"feedpub: error: {state}: cannot read the build state (Permission denied)" in (
        result.output
    )


@pytest.mark.parametrize("name", ["all.atom", "sections/news.rss", "index.html", ".feedpub-cache"])
def test_a_fifo_in_the_output_folder_never_blocks_the_build(tmp_path: Path, name: str) -> None:
    """A FIFO where a document (or the cache) goes is never opened for reading: the build goes
    on, refuses the FIFO as a stranger's file (a document) or ignores it (the cache)."""
    import os

    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01")
    out = tmp_path / "feeds"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(out / name)
    result = build_site(articles, out)  # would hang for ever on open()
    assert result.exit_code == (0 if name.startswith(".") else 1), result.output
    if not name.startswith("."):
        assert f"{out / name}: error: this file was not written by feedpub" in result.output


def test_a_fifo_as_the_state_is_exit_2_naming_it(tmp_path: Path) -> None:
    """A FIFO in place of the build state stops the build (exit 2) and names it; nothing hangs."""
    import os

    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01")
    out = tmp_path / "feeds"
    out.mkdir()
    os.mkfifo(out / ".feedpub-state")
    result = build_site(articles, out)
    assert result.exit_code == 2
    assert f"{out / '.feedpub-state'}: the build state is not a plain file" in result.output
