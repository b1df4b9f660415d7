"""The walk's stats taken half in a forked helper: the files found are those a walk that
takes every stat itself finds, whatever changed and whatever becomes of the helper."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub import forked_stat
from feedpub.load import File, Scan, scan

FILES = 40  # in two folders, so that the helper's half spans a folder boundary


@pytest.fixture(autouse=True)
def few_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked_stat, "FROM", 10)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[set[str] | None]:
    """What the helper answered, each time one ran."""
    seen: list[set[str] | None] = []
    changed = forked_stat.Helper.changed

    def spy(self: forked_stat.Helper) -> set[str] | None:
        answer = changed(self)
        seen.append(answer)
        return answer

    monkeypatch.setattr(forked_stat.Helper, "changed", spy)
    return seen


def articles(root: Path) -> Path:
    folder = root / "articles"
    for number in range(FILES):
        path = folder / f"{2020 + number // 20}" / f"a{number:02}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\ntitle: A {number}\npublished: 2021-01-{number % 28 + 1:02}T12:00:00Z\n"
            f"topics: [T{number % 3}]\n---\nBody {number}.\n"
        )
    return folder


def alone(folder: Path) -> Scan:
    """The walk taking every stat itself."""
    return scan(folder)


def helped(folder: Path, known: list[File]) -> Scan:
    return scan(folder, known, helper=True)


def delegated(known: list[File]) -> list[Path]:
    return [Path(path) for path, _ in forked_stat.delegated_half(known)]


def test_unchanged_files_are_found_with_the_stats_the_helper_confirmed(
    tmp_path: Path, answers: list[set[str] | None]
) -> None:
    folder = articles(tmp_path)
    known = alone(folder).files
    assert helped(folder, known) == alone(folder)
    assert answers == [set()]  # it ran, and found nothing changed


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "More.\n")


def _touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _same_size_new_inode(path: Path) -> None:
    info = path.stat()
    data = path.read_bytes()
    path.unlink()
    (path.parent / "placeholder").write_text("x")  # the inode is not reused at once
    path.write_bytes(data)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    (path.parent / "placeholder").unlink()


def _delete(path: Path) -> None:
    path.unlink()


def _to_link(path: Path) -> None:
    target = path.with_name("target.markdown")
    path.rename(target)
    path.symlink_to(target.name)


def _to_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.md").write_text("---\ntitle: Inside\npublished: 2021-02-01\n---\nBody.\n")


def _to_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


CHANGES: dict[str, Callable[[Path], None]] = {
    "edited": _edit,
    "touched": _touch,
    "new inode": _same_size_new_inode,
    "deleted": _delete,
    "now a link": _to_link,
    "now a folder": _to_folder,
    "now a fifo": _to_fifo,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_in_the_helpers_half_is_found_as_the_walk_finds_it(
    tmp_path: Path, change: str, answers: list[set[str] | None]
) -> None:
    folder = articles(tmp_path)
    known = alone(folder).files
    theirs = delegated(known)
    changed = [theirs[0], theirs[len(theirs) // 2], theirs[-1]]
    for path in changed:
        CHANGES[change](path)
    (folder / "2021" / "new.md").write_text("---\ntitle: New\npublished: 2021-03-01\n---\nBody.\n")
    found = helped(folder, known)
    assert found == alone(folder)
    assert answers == [{str(path) for path in changed}]


def test_changes_in_both_halves_at_once(tmp_path: Path, answers: list[set[str] | None]) -> None:
    folder = articles(tmp_path)
    known = alone(folder).files
    theirs = set(delegated(known))
    ours = [Path(file.path) for file in known if Path(file.path) not in theirs]
    for number, path in enumerate([*ours[::3], *sorted(theirs)[::3]]):
        CHANGES[sorted(CHANGES)[number % len(CHANGES)]](path)
    assert helped(folder, known) == alone(folder)
    assert len(answers) == 1
    assert answers[0]


def test_no_fork_means_every_stat_taken_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = articles(tmp_path)
    known = alone(folder).files
    _edit(delegated(known)[-1])

    def no_fork() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", no_fork)
    assert helped(folder, known) == alone(folder)


@pytest.mark.parametrize("answer", ["crash", "cut short", "wrong count"])
def test_a_helper_that_gives_no_whole_answer_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """Here the helper lies that nothing changed, but dies or garbles it: every stat it
    was to take is taken again, and the edited file is found with its new stat."""
    folder = articles(tmp_path)
    known = alone(folder).files
    _edit(delegated(known)[-1])

    def broken(write: int, _: object) -> None:
        if answer == "crash":
            os._exit(3)
        # "nothing changed" cut short, or a count of two indices followed by none
        data = (2).to_bytes(8, "little") if answer == "wrong count" else b"\0\0"
        os.write(write, data)
        os._exit(0)

    monkeypatch.setattr(forked_stat, "_answer", broken)
    assert helped(folder, known) == alone(folder)


def test_a_walk_that_fails_ends_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = articles(tmp_path)
    known = alone(folder).files
    started: list[int] = []
    start = forked_stat.Helper.__init__

    def spy(self: forked_stat.Helper, delegated: list[tuple[str, object]]) -> None:
        start(self, delegated)  # type: ignore[arg-type]
        started.append(self.pid)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(forked_stat.Helper, "__init__", spy)
    monkeypatch.setattr("feedpub.load._Scanner.read_folder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        helped(folder, known)
    assert len(started) == 1
    assert started[0] > 0
    with pytest.raises(ChildProcessError):  # reaped: no process left behind
        os.waitpid(started[0], os.WNOHANG)


def test_the_helper_is_used_only_from_enough_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: list[set[str] | None]
) -> None:
    folder = articles(tmp_path)
    known = alone(folder).files
    monkeypatch.setattr(forked_stat, "FROM", FILES + 1)
    assert helped(folder, known) == alone(folder)
    assert not answers


def test_builds_with_the_helper_write_what_a_build_trusting_nothing_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: list[set[str] | None]
) -> None:
    from conftest import build_site, documents

    from feedpub import incremental

    monkeypatch.setattr(incremental, "RACY_NS", 0)  # every stat trusted at once
    monkeypatch.setattr("feedpub.build.default_jobs", lambda: 2)
    folder = articles(tmp_path)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert build_site(folder, out, None, "--jobs", "2").exit_code == 0
    assert answers == []  # a first build has no stats to check
    known = alone(folder).files
    theirs, ours = delegated(known), [Path(file.path) for file in known[:10]]
    steps: list[Callable[[], None]] = [
        lambda: None,
        lambda: _edit(theirs[-1]),
        lambda: _touch(theirs[0]),
        lambda: (_edit(ours[0]), _delete(theirs[3]))[-1],
        lambda: _to_folder(theirs[5]),
    ]
    for step in steps:
        step()
        result = build_site(folder, out, None, "--jobs", "2")
        assert result.exit_code == 0, result.output
        assert build_site(folder, fresh, None, "--no-cache").exit_code == 0, result.output
        assert documents(out) == documents(fresh)
    assert len(answers) == len(steps)
    assert answers[0] == set()
    assert answers[1] == {str(theirs[-1])}
