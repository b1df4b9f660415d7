"""Bad article input: one fixture per mistake, with its exact message and exit code.

`tests/fixtures/bad/` holds one file per bad input, named for it, and one good
article (`good.md`). Each bad file is built next to the good one: the problem
is reported as `path:line: severity: field: message` (SPEC §4), an error keeps
only that article out (exit 1), a warning keeps it in (exit 0), and the good
article is always published.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from conftest import TESTS, build_site, read_feed, run

BAD = TESTS / "fixtures" / "bad"
GOOD = "good.md"
GOOD_TITLE = "A good article"
ARTICLES = Path("articles")
OUT = Path("feeds")


@dataclass(frozen=True)
class Bad:
    """What feedpub prints and does for one bad fixture."""

    lines: tuple[str, ...]
    """The exact problem lines, as `str(Problem)`."""
    exit_code: int = 1
    published: tuple[str, ...] = ()
    """Titles of the case's files that are still published (warnings only, or the first of two)."""
    companions: tuple[str, ...] = ()
    """Other fixtures the mistake needs (a duplicate id needs two files)."""


EXPECTED_A = "expected e.g. 2021-03-30 or 2021-03-30T09:15:00-04:00"

CASES: dict[str, Bad] = {
    "unterminated-front-matter.md": Bad(
        (
            "articles/unterminated-front-matter.md:1: error: "
            "the front matter opened on line 1 is never closed by a '---' line",
        )
    ),
    "yaml-syntax-error.md": Bad(
        (
            "articles/yaml-syntax-error.md:3: error: section: front matter is not valid YAML: "
            "mapping values are not allowed in this context; expected one 'key: value' per "
            "line; quote a value that holds ': ' or starts with one of * & ! [ { | > @ %",
        )
    ),
    "front-matter-is-a-list.md": Bad(
        (
            "articles/front-matter-is-a-list.md:2: error: "
            "expected the front matter to be a mapping of keys to values, got a list",
        )
    ),
    "missing-title.md": Bad(("articles/missing-title.md: error: title: is required and missing",)),
    "title-is-a-list.md": Bad(
        ("articles/title-is-a-list.md:2: error: title: expected text, got a list",)
    ),
    "unparseable-date.md": Bad(
        (
            f"articles/unparseable-date.md:4: error: published: 'next Tuesday-ish' is not a date; "
            f"{EXPECTED_A}",
        )
    ),
    "incomplete-date.md": Bad(
        (
            "articles/incomplete-date.md:4: error: published: 'March 2021' is not a complete date "
            f"(a year, a month and a day are needed); {EXPECTED_A}",
        )
    ),
    "updated-before-published.md": Bad(
        (
            "articles/updated-before-published.md:5: error: updated: 2021-03-29T00:00:00+00:00 "
            "is before published (2021-03-30T00:00:00+00:00); expected the same time or later",
        )
    ),
    "invalid-utf8.md": Bad(
        (
            "articles/invalid-utf8.md:2: error: "
            "text that is not UTF-8: byte 0xe9 is not UTF-8; expected a UTF-8 text file",
        )
    ),
    "binary.md": Bad(
        ("articles/binary.md: error: binary data (NUL bytes); expected a UTF-8 text file",)
    ),
    "empty.md": Bad(
        ("articles/empty.md: error: the file is empty; expected front matter and a body",)
    ),
    "yaml-python-tag.md": Bad(
        (
            "articles/yaml-python-tag.md:2: error: title: YAML tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' is not allowed; expected plain text",
        )
    ),
    "duplicate-key.md": Bad(
        ("articles/duplicate-key.md:5: error: title: the key is given twice (first on line 2)",)
    ),
    "unknown-key.md": Bad(
        (
            "articles/unknown-key.md:5: warning: tittle: "
            "unknown key 'tittle' is ignored; did you mean 'title'?",
        ),
        exit_code=0,
        published=("Unknown key",),
    ),
    "draft-not-boolean.md": Bad(
        ("articles/draft-not-boolean.md:5: error: draft: expected true or false, got 'maybe'",)
    ),
    "bad-image-length.md": Bad(
        (
            "articles/bad-image-length.md:8: error: image.length: "
            "expected a size in bytes such as 48213, got 'about 2 MB'",
        )
    ),
    "section-without-letters.md": Bad(
        (
            "articles/section-without-letters.md:3: error: "
            "section: '* * *' has no letter or digit to name its feed by",
        )
    ),
    "id-not-an-iri.md": Bad(
        (
            "articles/id-not-an-iri.md:5: error: id: "
            "expected an absolute IRI such as 'tag:…' or 'urn:uuid:…', got 'article 42'",
        )
    ),
    "control-characters.md": Bad(
        (
            "articles/control-characters.md:2: warning: "
            "removed characters that XML 1.0 forbids (U+0007)",
            "articles/control-characters.md:6: warning: "
            "removed characters that XML 1.0 forbids (U+000C)",
        ),
        exit_code=0,
        published=("Control characters",),
    ),
    "duplicate-id-b.md": Bad(
        (
            "articles/duplicate-id-b.md: error: id: 'tag:example.org,2021-03-30:shared' is "
            "already the id of articles/duplicate-id-a.md; expected every article to have its "
            "own id (set `id` or `slug`)",
        ),
        published=("Duplicate id A",),
        companions=("duplicate-id-a.md",),
    ),
}


# Hostile inputs made at test time (symbolic links, names that are not UTF-8, deep folders and
# files too large to keep in the repository), each with what feedpub must print: a problem
# record with the file (and line), never a traceback, while the rest of the build publishes.
REQUIRED = "section: Hostile\npublished: 2021-03-30\n"
SPACES = " " * 80_000  # once took the fast reader's line patterns 29 s to match
LOOP = (
    "error: the symbolic link loops (following it never ends); expected a link to a file or folder"
)
DEEP = 600


def article(name: str, front: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).write_text(f"---\n{front}---\nA body.\n", encoding="utf-8")

    return make


def symlinks(*pairs: tuple[str, str]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        for name, target in pairs:
            (folder / name).symlink_to(target)

    return make


def non_utf8_folder(folder: Path) -> None:
    inner = os.path.join(os.fsencode(folder), b"caf\xe9")
    os.mkdir(inner)
    with open(os.path.join(inner, b"inside.md"), "wb") as handle:
        handle.write(b"---\ntitle: Inside\n" + REQUIRED.encode() + b"---\nBody.\n")


def deep_folders(folder: Path) -> None:
    path = folder.joinpath(*["d"] * DEEP)
    path.mkdir(parents=True)
    article("deep.md", "title: Deep\n" + REQUIRED)(path)


MADE: dict[str, tuple[Callable[[Path], None], Bad]] = {
    "long-spaces.md": (
        article("long-spaces.md", f"title: a{SPACES}b\n{REQUIRED}"), Bad((), 0, ("a b",))
    ),
    "long-spaces-nested.md": (
        article(
            "long-spaces-nested.md",
            f"title: Nested spaces\n{REQUIRED}image:\n  url: /a.jpg\n  caption: a{SPACES}b\n",
        ),
        Bad((), 0, ("Nested spaces",)),
    ),
    "long-spaces-date.md": (
        article("long-spaces-date.md", f"title: Long date\nsection: S\npublished: 2021{SPACES}x\n"),
        Bad(("articles/long-spaces-date.md:4: error: published: '2021 x' is not a date; "
             f"{EXPECTED_A}",)),
    ),
    "long-key.md": (
        article("long-key.md", f"title: Long key\n{REQUIRED}{'a' * 80_000}\n"),
        Bad(("articles/long-key.md:5: error: front matter is not valid YAML: while scanning a "
             "simple key, could not find expected ':'; expected one 'key: value' per line; "
             "quote a value that holds ': ' or starts with one of * & ! [ { | > @ %",)),
    ),
    "topics-comma-text.md": (
        article("topics-comma-text.md", "title: Many topics\n" + REQUIRED + "topics: "
                + ", ".join(f"t{number}" for number in range(2000)) + "\n"),
        Bad(("articles/topics-comma-text.md:5: error: topics: more than 100 topics are given; "
             "expected at most 100 (each topic is a feed of its own)",)),
    ),
    "topics-list.md": (
        article("topics-list.md", "title: Many topics\n" + REQUIRED + "topics: ["
                + ", ".join(f"t{number}" for number in range(150)) + "]\n"),
        Bad(("articles/topics-list.md:5: error: topics: more than 100 topics are given; "
             "expected at most 100 (each topic is a feed of its own)",)),
    ),
    "escaped-controls.md": (
        article(
            "escaped-controls.md", 'title: "Escaped \\x01 title"\nid: "urn:x:\\x01"\n' + REQUIRED
        ),
        Bad(("articles/escaped-controls.md:2: warning: title: removed characters that XML 1.0 "
             "forbids (U+0001), written as escapes",
             "articles/escaped-controls.md:3: warning: id: removed characters that XML 1.0 "
             "forbids (U+0001), written as escapes"), 0, ("Escaped title",)),
    ),
    "image-length-digits.md": (
        article("image-length-digits.md", "title: Long length\n" + REQUIRED
                + "image:\n  url: /a.jpg\n  length: " + "1" * 4301 + "\n"),
        Bad((f"articles/image-length-digits.md:7: error: image.length: expected a size in bytes "
             f"such as 48213, got '{'1' * 60}'… (4301 characters)",)),
    ),
    "self-link.md": (symlinks(("self-link.md", "self-link.md")),
                     Bad((f"articles/self-link.md: {LOOP}",))),
    "ping.md": (symlinks(("ping.md", "pong.md"), ("pong.md", "ping.md")),
                Bad((f"articles/ping.md: {LOOP}", f"articles/pong.md: {LOOP}"))),
    "loop": (symlinks(("loop", "loop")), Bad((f"articles/loop: {LOOP}",))),
    "caf\\xe9": (non_utf8_folder, Bad((
        "articles/caf\\xe9: error: the folder name is not UTF-8; expected a UTF-8 name "
        "(its files are not read)",
    ))),
    "deep": (deep_folders, Bad((
        f"articles/{'d/' * 100}d: error: the folder is nested more than 100 deep under the "
        "articles folder; its files are not read",
    ))),
}  # fmt: skip


def copy_articles(root: Path, names: list[str]) -> Path:
    """Copy the named fixtures into `root`/articles, byte for byte."""
    folder = root / ARTICLES
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(BAD / name, folder / name)
    return folder


def problem_lines(result: Result) -> list[str]:
    """The problem lines feedpub printed (each starts with the article's path)."""
    return [line for line in result.output.splitlines() if line.startswith(f"{ARTICLES}/")]


def published_titles(out: Path) -> set[str]:
    """Titles of the entries in `all.atom`."""
    return {entry.title for entry in read_feed(out / "all.atom").entries}


def files_under(root: Path) -> set[Path]:
    """Every file and folder under `root`, relative to it."""
    return {path.relative_to(root) for path in root.rglob("*")}


def all_fixtures() -> list[str]:
    return sorted(path.name for path in BAD.iterdir())


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, so that no stray feedpub.toml is read."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_fixture_is_in_the_table() -> None:
    """The folder holds the good article and exactly the bad inputs of the table."""
    companions = {name for case in CASES.values() for name in case.companions}
    assert set(all_fixtures()) == {GOOD, *CASES, *companions}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_reported_and_only_it_is_kept_out(site: Path, name: str) -> None:
    """A bad file next to a good one: its exact problem lines, exit 1 for an error and 0 for a
    warning; the good article is published, the bad one only when it was merely warned about."""
    case = CASES[name]
    copy_articles(site, [GOOD, *case.companions, name])
    result = build_site(ARTICLES, OUT)
    assert result.exit_code == case.exit_code, result.output
    assert problem_lines(result) == list(case.lines), result.output
    assert "Traceback" not in result.output
    assert published_titles(site / OUT) == {GOOD_TITLE, *case.published}


def assert_every_problem_reported(result: Result) -> None:
    """Every exact line of the table is printed, and nothing else."""
    lines = problem_lines(result)
    expected = [line for case in CASES.values() for line in case.lines]
    for line in expected:
        assert line in lines, result.output
    assert len(lines) == len(expected), result.output
    assert "Traceback" not in result.output


def test_one_build_reports_every_problem(site: Path) -> None:
    """All the fixtures in one folder: one build reports every problem, exits 1, and publishes
    the good article and those that were only warned about."""
    copy_articles(site, all_fixtures())
    result = build_site(ARTICLES, OUT)
    assert result.exit_code == 1, result.output
    assert_every_problem_reported(result)
    published = {title for case in CASES.values() for title in case.published}
    assert published_titles(site / OUT) == {GOOD_TITLE, *published}


def test_check_reports_every_problem_and_writes_nothing(site: Path) -> None:
    """`feedpub check` on all the fixtures: the same problems, exit 1, and no file written."""
    copy_articles(site, all_fixtures())
    before = files_under(site)
    result = run("check", "--articles", ARTICLES, "--now", "2026-01-01T00:00:00Z")
    assert result.exit_code == 1, result.output
    assert_every_problem_reported(result)
    assert files_under(site) == before


def test_strict_build_writes_nothing_when_an_article_is_bad(site: Path) -> None:
    """`--strict` with bad articles: every problem reported, exit 1, the out folder not made."""
    copy_articles(site, all_fixtures())
    result = build_site(ARTICLES, OUT, None, "--strict")
    assert result.exit_code == 1, result.output
    assert_every_problem_reported(result)
    assert "nothing written (--strict)" in result.output
    # nothing but the lock that every writing build takes
    assert [path.name for path in (site / OUT).iterdir()] == [".feedpub.lock"]


def test_strict_build_publishes_when_there_are_only_warnings(site: Path) -> None:
    """`--strict` is held back by errors only: warnings are printed and the feeds written."""
    warned = sorted(name for name, case in CASES.items() if case.exit_code == 0)
    copy_articles(site, [GOOD, *warned])
    result = build_site(ARTICLES, OUT, None, "--strict")
    assert result.exit_code == 0, result.output
    assert problem_lines(result) == [line for name in warned for line in CASES[name].lines]
    published = {title for name in warned for title in CASES[name].published}
    assert published_titles(site / OUT) == {GOOD_TITLE, *published}


@pytest.mark.parametrize("command", ["build", "check"])
def test_configuration_error_exits_2_and_writes_nothing(site: Path, command: str) -> None:
    """A wrong type in feedpub.toml is a configuration error: exit 2, a message naming the file,
    the line, the key and the expected type, no article read and nothing written."""
    copy_articles(site, all_fixtures())
    (site / "feedpub.toml").write_text('[feeds]\nmax_entries = "many"\n', encoding="utf-8")
    before = files_under(site)
    result = run(command, "--articles", ARTICLES, "--now", "2026-01-01T00:00:00Z")
    assert result.exit_code == 2, result.output
    assert result.output == (
        "feedpub: error: feedpub.toml:2: feeds.max_entries: "
        "expected an integer, got a string 'many'\n"
    )
    assert files_under(site) == before


def make_hostile(root: Path, names: list[str]) -> Path:
    """The good fixture and the named hostile inputs of MADE, in `root`/articles."""
    folder = copy_articles(root, [GOOD])
    for name in names:
        MADE[name][0](folder)
    return folder


@pytest.mark.parametrize("name", sorted(MADE))
def test_hostile_input_is_a_problem_record_not_a_traceback(site: Path, name: str) -> None:
    """Each hostile input next to a good article: its exact problem lines (file, and line where
    it has one), the exit code, and the good article published; never a traceback."""
    case = MADE[name][1]
    make_hostile(site, [name])
    result = build_site(ARTICLES, OUT)
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    assert problem_lines(result) == list(case.lines), result.output
    assert published_titles(site / OUT) == {GOOD_TITLE, *case.published}


def test_check_reports_exactly_what_build_reports_for_hostile_input(site: Path) -> None:
    """Every hostile input at once: `feedpub check` prints exactly the problem lines `feedpub
    build` prints, with the same exit code."""
    make_hostile(site, sorted(MADE))
    checked = run("check", "--articles", ARTICLES, "--now", "2026-01-01T00:00:00Z")
    built = build_site(ARTICLES, OUT)
    expected = sorted(line for _, case in MADE.values() for line in case.lines)
    assert sorted(problem_lines(built)) == expected, built.output
    assert problem_lines(checked) == problem_lines(built)
    assert checked.exit_code == built.exit_code == 1


def test_check_reports_the_warnings_rendering_finds(tmp_path: Path) -> None:
    """Template code, a removed embed and HTML nested too deep are found while rendering the
    body; `feedpub check` reports them exactly as `feedpub build` does."""
    from conftest import run, write_article

    articles = tmp_path / "articles"
    write_article(
        articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01",
        "{{< tweet 1 >}}\n\n<iframe src=\"https://video.example/x\"></iframe>\n\n"
        + "<div>" * 200 + "deep" + "</div>" * 200 + "\n",
    )  # fmt: skip
    built = run("build", "--articles", articles, "--out", tmp_path / "feeds")
    checked = run("check", "--articles", articles, "--out", tmp_path / "feeds")

    def problems(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith(str(articles))]

    assert len(problems(built.stderr)) == 3
    assert problems(checked.stderr) == problems(built.stderr)
