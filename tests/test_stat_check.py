"""The last build's files checked by their stats before the walk (half in a forked helper),
and no walk at all when nothing changed: the files found are always those a walk that
takes every stat itself finds, whatever changed and whatever becomes of the helper."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub import forked, stat_check
from feedpub.load import File, Scan, _Scanner, scan
from feedpub.state import stat_of

FILES = 40  # in two folders, so that the helper's half spans a folder boundary
Answers = list[set[str] | None]


@pytest.fixture(autouse=True)
def few_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stat_check, "FROM", 10)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """What the helper answered, each time one ran."""
    seen: Answers = []
    changed = stat_check.Helper.changed

    def spy(self: stat_check.Helper) -> object:
        answer = changed(self)
        paths = stat_check.columns(self.known)[0]
        seen.append(None if answer is None else {paths[number] for number in answer[::5]})
        return answer

    monkeypatch.setattr(stat_check.Helper, "changed", spy)
    return seen


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder a walk listed."""
    seen: list[str] = []
    read_folder = _Scanner.read_folder

    def spy(self: _Scanner, folder: str, *rest: object) -> object:
        seen.append(folder)
        return read_folder(self, folder, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(_Scanner, "read_folder", spy)
    return seen


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The process id of each helper started."""
    pids: list[int] = []
    start = stat_check.Helper.__init__

    def spy(self: stat_check.Helper, *args: object) -> None:
        start(self, *args)  # type: ignore[arg-type]
        pids.append(self.pid)

    monkeypatch.setattr(stat_check.Helper, "__init__", spy)
    return pids


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


def helped(folder: Path, last: Scan) -> Scan:
    return scan(folder, last.files, last.folders, helper=True)


def halves(known: list[File]) -> tuple[list[Path], list[Path]]:
    """The files checked here, and those the helper checks."""
    start = len(known) - int(len(known) * stat_check.SHARE)
    return [Path(f.path) for f in known[:start]], [Path(f.path) for f in known[start:]]


def test_nothing_changed_lists_no_folder(
    tmp_path: Path, answers: Answers, listed: list[str]
) -> None:
    folder = articles(tmp_path)
    last = alone(folder)
    assert len(last.folders) == 3  # the articles folder and its two
    del listed[:]
    assert helped(folder, last) == alone(folder)
    assert answers == [set()]  # the helper ran and found nothing changed
    assert listed == [str(folder), f"{folder}/2020", f"{folder}/2021"]  # by `alone` only


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "More.\n")


def _touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - 1_000_000_000))  # not ahead


def _chmod(path: Path) -> None:
    path.chmod(0o600)  # its change time only


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


def _renamed(path: Path) -> None:
    path.rename(path.with_name("renamed.md"))


def _beside(path: Path) -> None:
    """A new article beside it, the file itself untouched."""
    (path.parent / "new.md").write_text("---\ntitle: New\npublished: 2021-03-01\n---\nBody.\n")


def _beside_in_new_folder(path: Path) -> None:
    deeper = path.parent / f"deeper-{path.stem}"
    deeper.mkdir()
    (deeper / "new.md").write_text("---\ntitle: New\n---\nBody.\n")


def _folder_unreadable(path: Path) -> None:
    """Its folder can no longer be read by anyone but root (its change time moves)."""
    path.parent.chmod(0o700)


CHANGES: dict[str, Callable[[Path], None]] = {
    "edited": _edit,
    "touched": _touch,
    "chmod": _chmod,
    "new inode": _same_size_new_inode,
    "deleted": _delete,
    "now a link": _to_link,
    "now a folder": _to_folder,
    "now a fifo": _to_fifo,
    "renamed": _renamed,
    "an article beside it": _beside,
    "a new folder beside it": _beside_in_new_folder,
    "its folder's mode": _folder_unreadable,
}


IN_PLACE = {"edited", "touched", "chmod"}  # changes that leave every folder as it was


@pytest.mark.parametrize("half", ["here", "helper's"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_is_found_as_the_walk_finds_it(
    tmp_path: Path, change: str, half: str, answers: Answers, listed: list[str]
) -> None:
    """What changed is found as a walk finds it; a file changed in place is found without
    listing any folder."""
    folder = articles(tmp_path)
    last = alone(folder)
    ours, theirs = halves(last.files)
    changed = ours if half == "here" else theirs
    for path in [changed[0], changed[len(changed) // 2], changed[-1]]:
        CHANGES[change](path)
    del listed[:]
    found = helped(folder, last)
    assert bool(listed) is (change not in IN_PLACE)
    assert found == alone(folder)
    assert len(answers) == 1


def test_changes_in_both_halves_at_once(tmp_path: Path, answers: Answers) -> None:
    folder = articles(tmp_path)
    last = alone(folder)
    ours, theirs = halves(last.files)
    names = sorted(CHANGES)
    for number, path in enumerate([*ours[::3], *theirs[::3]]):
        CHANGES[names[number % len(names)]](path)
    assert helped(folder, last) == alone(folder)
    assert len(answers) == 1
    assert answers[0]


def test_a_walk_that_met_a_link_is_made_again(tmp_path: Path, listed: list[str]) -> None:
    """A link leads somewhere no folder of the walk records: a link into a folder the walk
    skips (`_drafts`) that dangled at the last walk leads to an article now."""
    folder = articles(tmp_path)
    (folder / "2020" / "link.md").symlink_to("../_drafts/soon.md")
    last = alone(folder)
    assert last.folders == ()
    (folder / "_drafts").mkdir()
    (folder / "_drafts" / "soon.md").write_text("---\ntitle: Soon\n---\nBody.\n")
    del listed[:]
    found = helped(folder, last)
    assert listed  # walked
    assert found == alone(folder)
    assert "2020/link.md" in {file.source for file in found.files}


def test_a_walk_with_problems_is_made_again(tmp_path: Path, listed: list[str]) -> None:
    folder = articles(tmp_path)
    (folder / "2021" / "b\udcff.md").write_text("---\ntitle: B\n---\nBody.\n")
    last = alone(folder)
    assert last.problems
    assert last.folders == ()
    del listed[:]
    assert helped(folder, last) == alone(folder)
    assert listed


def test_another_spelling_of_the_folder_is_walked(tmp_path: Path, listed: list[str]) -> None:
    folder = articles(tmp_path)
    last = alone(folder)
    other = folder / ".." / "articles"
    del listed[:]
    assert scan(other, last.files, last.folders, helper=True) == alone(other)
    assert listed


def test_no_fork_means_every_stat_taken_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: list[str]
) -> None:
    folder = articles(tmp_path)
    last = alone(folder)
    _edit(halves(last.files)[1][-1])

    def no_fork() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", no_fork)
    assert helped(folder, last) == alone(folder)
    _edit(halves(last.files)[1][-1])
    now = alone(folder)
    del listed[:]
    assert helped(folder, now) == alone(folder)
    assert len(listed) == 3  # by `alone` alone: with no helper, nothing changed is still seen


@pytest.mark.parametrize("answer", ["crash", "cut short", "wrong count"])
def test_a_helper_that_gives_no_whole_answer_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str, listed: list[str]
) -> None:
    """Here the helper means to say that nothing changed, but dies or garbles it: every
    stat it was to check is taken again, and the edited file is found with its new stat."""
    folder = articles(tmp_path)
    last = alone(folder)
    _edit(halves(last.files)[1][-1])

    def broken(*_: object) -> bytes:
        if answer == "crash":
            os._exit(3)
        # "nothing changed" cut short, or a count of two indices followed by none
        return (2).to_bytes(8, "little") if answer == "wrong count" else b"\0\0"

    monkeypatch.setattr(stat_check, "_answer", broken)
    del listed[:]
    assert helped(folder, last) == alone(folder)
    assert len(listed) == 6  # walked, then `alone`


def test_a_walk_that_fails_ends_the_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[int]
) -> None:
    folder = articles(tmp_path)
    last = alone(folder)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_Scanner, "read_folder", interrupted)
    _beside(halves(last.files)[0][0])  # so that the walk is made
    with pytest.raises(KeyboardInterrupt):
        helped(folder, last)
    assert len(started) == 1
    assert started[0] > 0
    with pytest.raises(ChildProcessError):  # reaped: no process left behind
        os.waitpid(started[0], os.WNOHANG)


def test_the_helper_is_used_only_from_enough_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: Answers
) -> None:
    folder = articles(tmp_path)
    last = alone(folder)
    monkeypatch.setattr(stat_check, "FROM", FILES + 1)
    assert helped(folder, last) == alone(folder)
    assert not answers


def test_builds_that_check_stats_write_what_a_build_trusting_nothing_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: Answers, listed: list[str]
) -> None:
    from conftest import build_site, documents

    from feedpub import incremental

    monkeypatch.setattr(incremental, "RACY_NS", 0)  # every stat trusted at once
    monkeypatch.setattr("feedpub.build.default_jobs", lambda: 2)
    folder = articles(tmp_path)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert build_site(folder, out, None, "--jobs", "2").exit_code == 0
    assert answers == []  # a first build has no stats to check
    ours, theirs = halves(alone(folder).files)
    steps: list[tuple[Callable[[], object], bool]] = [  # a change, and whether it lists folders
        (lambda: None, False),
        (lambda: _edit(theirs[-1]), False),  # in place: no folder changed
        (lambda: None, False),
        (lambda: _touch(theirs[0]), False),
        (lambda: _same_size_new_inode(ours[1]), True),
        (lambda: (_edit(ours[0]), _delete(theirs[3])), True),
        (lambda: _to_folder(theirs[5]), True),
        (lambda: _beside(ours[2]), True),
        (lambda: None, False),
    ]
    for number, (step, walks) in enumerate(steps):
        step()
        del listed[:]
        result = build_site(folder, out, None, "--jobs", "2")
        assert result.exit_code == 0, result.output
        assert bool(listed) is walks, number
        assert build_site(folder, fresh, None, "--no-cache").exit_code == 0
        assert documents(out) == documents(fresh), number
    assert len(answers) == len(steps)
    assert answers[0] == set()
    assert answers[1] == {str(theirs[-1])}


def test_folders_changed_just_before_a_build_are_walked_again(
    tmp_path: Path, listed: list[str]
) -> None:
    """A folder changed within the racy window of a build (see incremental.RACY_NS) is not
    trusted by the next one: an article added in the same tick would not change its time."""
    from conftest import build_site

    folder = articles(tmp_path)
    for path in folder.rglob("*.md"):
        os.utime(path, (1_600_000_000, 1_600_000_000))
    out = tmp_path / "out"
    assert build_site(folder, out).exit_code == 0  # the folders were made just now
    del listed[:]
    assert build_site(folder, out).exit_code == 0
    assert listed


@pytest.mark.parametrize(
    "stats",
    [
        [(10, 1_700_000_000_000_000_000, 1_700_000_000_000_000_001, 5)],
        [(10, -1, 3, 2**64 - 1), (0, -(2**40), 0, 0)],  # an inode past 2**63: no 64-bit array
        [],
    ],
)
def test_the_state_keeps_every_file_as_it_was(stats: list[tuple[int, int, int, int]]) -> None:
    """The files are stored as joined names and packed stats: every name (one that is not
    UTF-8 too) and stat comes back as it was, as a File with a Stat."""
    from feedpub.state import File, Stat, State, decode_state, encode_state

    files = [
        File(f"{number}/\udcffa b.md", f"/articles/{number}/\udcffa b.md", Stat(*stat))
        for number, stat in enumerate(stats)
    ]
    again = decode_state(encode_state(State(fingerprint="x", files=files))).files
    assert again == files
    assert all(type(file) is File and type(file.stat) is Stat for file in again)


def test_a_state_whose_files_were_cut_is_damaged() -> None:
    import marshal

    from feedpub.state import File, Stat, State, decode_state, encode_state

    files = [File(f"{n}.md", f"/a/{n}.md", Stat(n, n, n, n)) for n in range(3)]
    record = list(marshal.loads(encode_state(State(fingerprint="x", files=files))))
    count, sources, paths, packed = record[4]
    record[4] = (count, sources.rpartition("\0")[0], paths.rpartition("\0")[0], packed[:-32])
    with pytest.raises(ValueError, match="damaged"):
        decode_state(marshal.dumps(tuple(record), 2))


def test_a_folder_that_changed_with_no_article_is_trusted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: list[str]
) -> None:
    """A note beside the articles changes their folder and no article: the build that
    walks it saves the folder's new stat, so that the builds after it list no folder."""
    from conftest import build_site

    from feedpub import incremental
    from feedpub.state import STATE_FILE, decode_state

    monkeypatch.setattr(incremental, "RACY_NS", 0)
    folder = articles(tmp_path)
    out = tmp_path / "out"
    assert build_site(folder, out).exit_code == 0
    (folder / "2020" / "notes.txt").write_text("not an article")
    del listed[:]
    assert build_site(folder, out).exit_code == 0
    assert listed  # walked: the folder changed
    recorded = dict(decode_state((out / STATE_FILE).read_bytes()).folders)
    now = os.stat(folder / "2020")
    assert recorded[str(folder / "2020")] == (
        now.st_size, now.st_mtime_ns, now.st_ctime_ns, now.st_ino
    )  # fmt: skip
    del listed[:]
    assert build_site(folder, out).exit_code == 0
    assert not listed


def test_a_folder_reached_twice_means_the_walk_is_made_again(tmp_path: Path) -> None:
    """One folder bind-mounted on another is read once; unmounted, the other's own files
    show and no folder read changed: such a walk does not vouch for the next."""
    import subprocess

    folder = articles(tmp_path)
    cover = ["mount", "--bind", str(folder / "2020"), str(folder / "2021")]
    if subprocess.run(cover, capture_output=True, check=False).returncode != 0:
        pytest.skip("no bind mounts here")
    try:
        last = alone(folder)
    finally:
        subprocess.run(["umount", str(folder / "2021")], check=True)
    assert last.folders == ()
    assert helped(folder, last) == alone(folder)


def test_an_interrupt_while_the_helper_answers_ends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[int]
) -> None:
    folder = articles(tmp_path)
    last = alone(folder)

    def interrupted(_: int) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(forked, "_read_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        helped(folder, last)
    assert len(started) == 1
    with pytest.raises(ChildProcessError):  # killed and reaped
        os.waitpid(started[0], os.WNOHANG)


def test_a_damaged_folders_record_is_a_damaged_state() -> None:
    import marshal

    from feedpub.state import State, decode_state, encode_state

    record = list(marshal.loads(encode_state(State(fingerprint="x"))))
    record[-1] = [("articles", (1, 2, "three", 4))]
    with pytest.raises(ValueError, match="damaged"):
        decode_state(marshal.dumps(tuple(record), 2))


@pytest.fixture
def scandirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder a walk listed with os.scandir (one it found as it was is not listed)."""
    seen: list[str] = []
    original = os.scandir

    def spy(path: str) -> object:
        seen.append(str(path))
        return original(path)

    monkeypatch.setattr(os, "scandir", spy)
    return seen


def _changed_folders(folder: Path, last: Scan) -> set[str]:
    """The folders under `folder` the walk reads now whose stat is not the one `last`
    recorded (or that it did not record)."""
    recorded = dict(last.folders)
    found = set()
    for top, names, _ in os.walk(folder):
        names[:] = [name for name in names if name[:1] not in "._"]
        if recorded.get(top) != stat_of(os.stat(top)):
            found.add(top)
    return found


@pytest.mark.parametrize("half", ["here", "helper's"])
@pytest.mark.parametrize("change", sorted(set(CHANGES) - IN_PLACE))
def test_only_the_folders_that_changed_are_listed(
    tmp_path: Path, change: str, half: str, scandirs: list[str]
) -> None:
    """A folder found as it was holds the files and folders it held: the walk lists only
    those whose stat changed (and those it had not met), and finds what a full walk finds."""
    folder = articles(tmp_path)
    (folder / "2021" / "deeper").mkdir()  # a folder inside a folder that stays as it was
    (folder / "2021" / "deeper" / "d.md").write_text("---\ntitle: D\n---\nBody.\n")
    last = alone(folder)
    ours, theirs = halves(last.files)
    path = (ours if half == "here" else theirs)[0]
    CHANGES[change](path)
    expected = _changed_folders(folder, last)
    del scandirs[:]
    found = helped(folder, last)
    assert set(scandirs) == expected
    assert len(expected) < len(last.folders)
    assert found == alone(folder)


def test_a_tree_changed_at_random_is_found_as_the_walk_finds_it(
    tmp_path: Path, scandirs: list[str]
) -> None:
    """Files and folders added, removed, renamed and edited at every depth, round after
    round, each scan starting from the last: always what a full walk finds, and most
    rounds list only a few of the folders."""
    import random
    import shutil
    import time

    rng = random.Random(5005)
    root = tmp_path / "articles"
    root.mkdir()
    for number in range(60):
        folder = root / f"f{number % 4}" / f"g{number % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{number}.md").write_text(f"---\ntitle: A {number}\n---\nBody.\n")
    last = alone(root)
    fewer = 0
    for round_ in range(40):
        time.sleep(0.01)  # past a coarse clock's tick since the last scan's stats
        folders = sorted(p for p in root.rglob("*") if p.is_dir())
        files = sorted(root.rglob("*.md"))
        for _ in range(rng.randint(1, 3)):
            action = rng.choice(["add", "edit", "delete", "mkdir", "rmtree", "rename", "move"])
            target = rng.choice(folders or [root])
            if action == "add" or not files:
                (target / f"n{round_}-{rng.randint(0, 999)}.md").write_text("---\n---\nNew.\n")
            elif action == "edit":
                _edit(rng.choice(files))
            elif action == "delete":
                rng.choice(files).unlink(missing_ok=True)
            elif action == "mkdir":
                (target / f"d{round_}").mkdir(exist_ok=True)
                (target / f"d{round_}" / "x.md").write_text("---\n---\nDeep.\n")
            elif action == "rmtree" and target != root:
                shutil.rmtree(target, ignore_errors=True)
            elif action == "rename" and target != root and target.exists():
                target.rename(target.with_name(target.name + "r"))
            elif action == "move":
                source = rng.choice(files)
                if source.exists() and target.exists():
                    source.rename(target / f"m{round_}.md")
            folders = sorted(p for p in root.rglob("*") if p.is_dir())
            files = sorted(root.rglob("*.md"))
        expected = _changed_folders(root, last)
        del scandirs[:]
        found = helped(root, last)
        assert set(scandirs) == expected, round_
        fewer += len(scandirs) < len(found.folders)
        assert found == alone(root), round_
        last = found
    assert fewer > 20


def test_a_date_past_2262_is_found_as_the_walk_finds_it(
    tmp_path: Path, scandirs: list[str]
) -> None:
    """A modification time whose nanoseconds do not fit in 64 bits, with a change in
    another folder: the file is taken again as the walk takes it, and no other is lost."""
    folder = articles(tmp_path)
    last = alone(folder)
    for path in [*halves(last.files)[0][:1], *halves(last.files)[1][:1]]:
        os.utime(path, ns=(0, 2**63 + 10**18))
    _beside(halves(last.files)[1][-1])
    assert helped(folder, last) == alone(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="switches its effective user, as root")
@pytest.mark.parametrize("mode", [0o750, 0o751])
def test_a_folder_this_process_may_not_list_is_listed_not_taken_as_it_was(mode: int) -> None:
    """The last walk could list a folder (through a group this process lacks now): its stat
    is as it was, but a walk cannot list it, and reports it."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(dir="/tmp"))  # another user reaches it: not under pytest's
    base.chmod(0o755)
    folder = articles(base)
    folder.chmod(0o755)
    (folder / "2020").chmod(mode)
    os.chown(folder / "2020", 0, 4321)
    os.setgroups([4321])
    os.seteuid(65534)
    try:
        last = alone(folder)
        assert not last.problems
        os.seteuid(0)
        os.setgroups([])
        _beside(halves(last.files)[1][-1])  # in 2021: something else changed
        os.seteuid(65534)
        now = alone(folder)
        assert now.problems
        assert helped(folder, last) == now
        os.seteuid(0)
        _edit(halves(last.files)[1][-1])
        os.seteuid(65534)
        assert helped(folder, now) == alone(folder)
    finally:
        os.seteuid(0)
        os.setgroups([])
        shutil.rmtree(base)
