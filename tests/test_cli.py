"""The command line: each command, each exit code, and what it prints."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from conftest import build_site, feed_files, read_feed, run, write_article

from feedpub.errors import OutputError, Problem, Severity

GOOD = """
title: Good article
section: World
topics: [Trade]
published: 2021-03-30T09:15:00-04:00
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site with one good article and no configuration, as the working folder."""
    monkeypatch.chdir(tmp_path)
    write_article(tmp_path / "articles", "good.md", GOOD)
    return tmp_path


def test_build_writes_feeds_and_prints_a_one_line_summary(site: Path) -> None:
    """`feedpub build` writes every document and prints one summary line; exit 0."""
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 0
    assert result.output.count("\n") == 1
    assert result.output.startswith(
        "feedpub: 1 article published in 11 documents (3 feeds): 11 written"
    )
    names = [str(path.relative_to(site / "feeds")) for path in feed_files(site / "feeds")]
    assert names == [
        "all.atom", "all.rss", "sections/world.atom", "sections/world.rss",
        "topics/trade.atom", "topics/trade.rss",
    ]  # fmt: skip


def test_build_without_configuration_uses_the_defaults(site: Path) -> None:
    """A folder of articles alone builds, with example.org addresses and UTC."""
    build_site(site / "articles", site / "feeds")
    entry = read_feed(site / "feeds" / "all.atom").entries[0]
    assert entry.link == "https://example.org/2021/03/good/"
    assert entry.id == "tag:example.org,2021-03-30:good"


def test_quiet_build_prints_nothing_on_success(site: Path) -> None:
    """-q is silent when all is well, as cron wants."""
    result = build_site(site / "articles", site / "feeds", None, "-q")
    assert result.exit_code == 0
    assert result.output == ""


def test_verbose_build_lists_documents_written(site: Path) -> None:
    """-v names every document written."""
    result = build_site(site / "articles", site / "feeds", None, "-v")
    assert f"wrote {site / 'feeds' / 'all.atom'}" in result.output


def test_rebuild_leaves_unchanged_files_alone(site: Path) -> None:
    """A second build with nothing changed writes nothing and keeps every mtime."""
    build_site(site / "articles", site / "feeds")
    before = {path: path.stat().st_mtime_ns for path in feed_files(site / "feeds")}
    result = build_site(site / "articles", site / "feeds")
    assert "0 written, 11 unchanged, 0 removed" in result.output
    assert {path: path.stat().st_mtime_ns for path in feed_files(site / "feeds")} == before


def test_feeds_of_vanished_groups_are_removed_and_nothing_else(site: Path) -> None:
    """When a topic disappears its feeds go; a stranger's file in the folder stays."""
    build_site(site / "articles", site / "feeds")
    stranger = site / "feeds" / "topics" / "README.txt"
    stranger.write_text("not feedpub's")
    write_article(site / "articles", "good.md", GOOD.replace("[Trade]", "[Tariffs]"))
    result = build_site(site / "articles", site / "feeds")
    assert "3 removed" in result.output  # the topic's Atom, RSS and JSON documents
    assert not (site / "feeds" / "topics" / "trade.atom").exists()
    assert (site / "feeds" / "topics" / "tariffs.atom").exists()
    assert stranger.exists()


def test_bad_article_is_reported_and_the_rest_published(site: Path) -> None:
    """A bad article is named with file, line and field; the good ones are written; exit 1."""
    write_article(site / "articles", "bad.md", "title: Bad\nsection: World\npublished: someday")
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 1
    bad = site / "articles" / "bad.md"
    assert f"{bad}:4: error: published: 'someday' is not a date" in result.output
    assert "Traceback" not in result.output
    assert [entry.title for entry in read_feed(site / "feeds" / "all.atom").entries] == [
        "Good article"
    ]


def test_strict_build_writes_nothing_when_an_article_is_bad(site: Path) -> None:
    """--strict: any error means nothing is written; exit 1."""
    write_article(site / "articles", "bad.md", "title: Bad\nsection: World")
    result = build_site(site / "articles", site / "feeds", None, "--strict")
    assert result.exit_code == 1
    assert "nothing written (--strict)" in result.output
    # nothing but the lock that every writing build takes
    assert [path.name for path in (site / "feeds").iterdir()] == [".feedpub.lock"]


def test_check_option_reports_out_of_date_feeds(site: Path) -> None:
    """build --check writes nothing and exits 1 when the feeds differ, 0 when current."""
    result = build_site(site / "articles", site / "feeds", None, "--check")
    assert result.exit_code == 1
    assert f"{site / 'feeds' / 'all.atom'}: out of date" in result.output
    assert not (site / "feeds").exists()
    build_site(site / "articles", site / "feeds")
    assert build_site(site / "articles", site / "feeds", None, "--check").exit_code == 0


def test_now_option_decides_what_is_published(site: Path) -> None:
    """--now judges future-dated articles: before their time they stay out."""
    result = build_site(site / "articles", site / "feeds", now="2021-03-30T13:14:59Z")
    assert result.exit_code == 0
    assert read_feed(site / "feeds" / "all.atom").entries == []
    build_site(site / "articles", site / "feeds", now="2021-03-30T13:15:00Z")
    assert len(read_feed(site / "feeds" / "all.atom").entries) == 1


def test_bad_now_is_a_usage_error(site: Path) -> None:
    """An unreadable --now exits 2 and writes nothing."""
    result = build_site(site / "articles", site / "feeds", now="soon")
    assert result.exit_code == 2
    assert "--now: 'soon' is not a date" in result.output
    assert not (site / "feeds").exists()


def test_missing_articles_folder_is_a_usage_error(tmp_path: Path) -> None:
    """A missing articles folder exits 2 with its name."""
    result = build_site(tmp_path / "nowhere", tmp_path / "feeds")
    assert result.exit_code == 2
    assert f"{tmp_path / 'nowhere'}: the articles folder does not exist" in result.output


def test_bad_configuration_exits_2_and_writes_nothing(site: Path) -> None:
    """An unknown configuration key is named with its line; exit 2; nothing written."""
    config = site / "feedpub.toml"
    config.write_text('[site]\ntitle = "X"\ntittle = "Y"\n')
    result = build_site(site / "articles", site / "feeds", config)
    assert result.exit_code == 2
    assert f"{config}:3: site.tittle: unknown key" in result.output
    assert not (site / "feeds").exists()


def test_check_command_validates_and_writes_nothing(site: Path) -> None:
    """`feedpub check` reports every problem and exits 1 on errors, 0 when clean."""
    result = run("check", "--articles", site / "articles")
    assert result.exit_code == 0
    assert "1 file, 1 valid article, 1 published; 0 errors, 0 warnings" in result.output
    write_article(site / "articles", "typo.md", GOOD + "tittle: x\n")
    write_article(site / "articles", "bad.md", "title: Bad\nsection: World")
    result = run("check", "--articles", site / "articles")
    assert result.exit_code == 1
    assert "published: is required and missing" in result.output
    assert "unknown key 'tittle' is ignored; did you mean 'title'?" in result.output
    assert not (site / "feeds").exists()


def test_list_command_shows_groups_counts_and_paths(site: Path) -> None:
    """`feedpub list` prints each feed's kind, name, article count and paths."""
    write_article(site / "articles", "second.md", GOOD.replace("Good article", "Second"))
    result = run("list", "--articles", site / "articles", "--out", "feeds")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["kind", "name", "articles", "atom", "rss", "json"]
    assert lines[2].split() == [
        "sections",
        "World",
        "2",
        "feeds/sections/world.atom",
        "feeds/sections/world.rss",
        "feeds/sections/world.json",
    ]
    assert result.stderr == ""


@pytest.mark.parametrize("command", [[], ["build"], ["check"], ["list"]])
def test_every_command_has_help(command: list[str]) -> None:
    """Every command answers --help with a description of itself and its options."""
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 5


# --- Options out of range, folders that cannot be used --------------------------------------


@pytest.mark.parametrize("value", ["99999999999999999999", "65", "-1"])
def test_jobs_is_bounded(site: Path, value: str) -> None:
    """--jobs beyond 64 (or negative) is a usage error, before anything is written."""
    result = build_site(site / "articles", site / "feeds", None, "--jobs", value)
    assert result.exit_code == 2
    assert f"Invalid value for '--jobs': {value} is not in the range 0<=x<=64." in result.stderr
    assert not (site / "feeds").exists()


def test_jobs_never_exceeds_the_cores(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--jobs 64 on a machine of fewer cores runs one process per core."""
    import feedpub.build

    seen: list[int] = []
    real = feedpub.build.build

    def spy(*args: Any) -> Any:
        seen.append(args[4].jobs)
        return real(*args)

    monkeypatch.setattr(feedpub.build, "build", spy)
    monkeypatch.setattr(feedpub.build, "default_jobs", lambda: 3)
    assert build_site(site / "articles", site / "feeds", None, "--jobs", "64").exit_code == 0
    assert build_site(site / "articles", site / "feeds", None, "--jobs", "2").exit_code == 0
    assert build_site(site / "articles", site / "feeds").exit_code == 0
    assert seen == [3, 2, 3]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "86401", "1e400"])
def test_wait_must_be_a_finite_number_of_seconds(site: Path, value: str) -> None:
    """--wait nan (which would wait forever), inf or a negative number: exit 2, clear message."""
    result = build_site(site / "articles", site / "feeds", None, "--wait", value)
    assert result.exit_code == 2
    assert "Invalid value for '--wait': expected a number of seconds from 0 to 86400, got " in (
        result.stderr
    )
    assert not (site / "feeds").exists()


@pytest.mark.parametrize("command", ["build", "check", "list"])
def test_articles_that_is_a_file_is_named_as_such(site: Path, command: str) -> None:
    """--articles naming a file: exit 2 saying it is a file; no lock or folder created."""
    afile = site / "afile"
    afile.write_text("not a folder")
    result = run(command, "--articles", afile, "--out", site / "out")
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: {afile}: the articles folder is a file; expected a folder of *.md files\n"
    )
    assert not (site / "out").exists()


def test_articles_that_is_a_dangling_link_is_named_as_such(site: Path) -> None:
    """--articles naming a link to nothing says so; nothing is created."""
    (site / "link").symlink_to(site / "gone")
    result = run("build", "--articles", site / "link", "--out", site / "out")
    assert result.exit_code == 2
    assert "the articles folder is a symbolic link to something that does not exist" in (
        result.stderr
    )
    assert not (site / "out").exists()


def test_articles_that_cannot_be_listed_is_named(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An articles folder that cannot be listed: exit 2 with the reason, nothing created."""
    import os

    def refuse(path: object) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", refuse)
    result = run("build", "--articles", site / "articles", "--out", site / "out")
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: {site / 'articles'}: the articles folder cannot be read: "
        "permission denied\n"
    )
    assert not (site / "out").exists()


# --- Errors of the system, interruptions ----------------------------------------------------


def raising(error: BaseException) -> Any:
    """A stand-in for feedpub.build.build that raises `error`."""

    def build(*args: Any) -> Any:
        raise error

    return build


def test_output_failure_exits_5_naming_the_file(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk full after writing began: exit 5, the file named, and that a rerun completes it."""
    import feedpub.build

    failing = site / "feeds" / "all.rss"
    error = OutputError(str(failing), OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.setattr(feedpub.build, "build", raising(error))
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 5
    assert result.stderr == (
        f"feedpub: error: {failing}: No space left on device; the output folder could not be "
        "fully written (each document in it is whole, old or new); the next run completes it\n"
    )


def test_an_oserror_without_a_file_names_what_was_being_done(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError naming no file says which operation failed, never an empty path."""
    import feedpub.build

    monkeypatch.setattr(
        feedpub.build, "build", raising(OSError(errno.ENOSPC, "No space left on device"))
    )
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: building {site / 'articles'} into {site / 'feeds'}: "
        "No space left on device\n"
    )


def test_an_oserror_with_a_file_names_it(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An OSError naming a file (escaped) says what failed where, and during what."""
    import feedpub.build

    error = OSError(errno.EIO, "Input/output error", "/srv/odd\nname")
    monkeypatch.setattr(feedpub.build, "build", raising(error))
    result = run("check", "--articles", site / "articles")
    assert result.exit_code == 2
    assert result.stderr == (
        "feedpub: error: /srv/odd\\nname: Input/output error (while checking "
        f"{site / 'articles'})\n"
    )


@pytest.mark.parametrize("command", ["build", "check", "list"])
def test_ctrl_c_exits_130_with_one_line(
    site: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """KeyboardInterrupt during a command: exit 130, one line on stderr, no traceback."""
    import feedpub.build

    monkeypatch.setattr(feedpub.build, "build", raising(KeyboardInterrupt()))
    result = run(command, "--articles", site / "articles", "--now", "2026-01-01T00:00:00Z")
    assert result.exit_code == 130
    assert result.stderr == "feedpub: interrupted; the next run completes what was begun\n"
    assert result.stdout == ""


# --- Problems: escaped, summarised, on stderr -----------------------------------------------


def test_control_characters_in_file_names_are_escaped(site: Path) -> None:
    """A file name holding a newline or ESC is printed escaped: it cannot forge a line."""
    write_article(site / "articles", "evil\n\x1b[2Jname.md", "title: Bad\nsection: World")
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr
    assert f"{site / 'articles'}/evil\\n\\x1b[2Jname.md:" in result.stderr
    problem_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(problem_lines) == 1


def test_problem_formatting_escapes_every_part() -> None:
    """Problem's text escapes control, separator and bidirectional characters in all parts."""
    problem = Problem("a\u202eb\u2028.md", "bad \x07 value", line=3, field="ti\ttle")
    assert str(problem) == "a\\u202eb\\u2028.md:3: error: ti\\ttle: bad \\x07 value"
    assert str(Problem("caf\udce9.md", "x")) == "caf\\udce9.md: error: x"


TYPO = GOOD + "tittle: x\n"


def test_each_kind_of_warning_is_printed_once_with_a_count(site: Path) -> None:
    """Five files with one unknown key: one line, at the first file, saying four more; -v all."""
    for number in range(5):
        write_article(site / "articles", f"typo{number}.md", TYPO)
    write_article(site / "articles", "bad1.md", "title: Bad\nsection: World")
    write_article(site / "articles", "bad2.md", "title: Bad\nsection: World")
    result = run("check", "--articles", site / "articles")
    lines = result.stderr.splitlines()
    typos = [line for line in lines if "tittle" in line]
    assert typos == [
        f"{site / 'articles' / 'typo0.md'}:6: warning: tittle: unknown key 'tittle' is ignored; "
        "did you mean 'title'? (and 4 more files like it; -v lists all)"
    ]
    assert len([line for line in lines if "error: published" in line]) == 2  # errors: each one
    verbose = run("check", "--articles", site / "articles", "-v").stderr.splitlines()
    assert len([line for line in verbose if "tittle" in line]) == 5
    assert not any("more files like it" in line for line in verbose)
    quiet = run("check", "--articles", site / "articles", "-q").stderr.splitlines()
    assert not any("tittle" in line for line in quiet)
    assert len(quiet) == 2


def test_warnings_are_grouped_by_kind_not_by_message(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warnings of one kind but different messages are one line; errors of one kind are all."""
    import feedpub.build
    from feedpub.build import Report

    warning = Severity.WARNING
    problems = (
        Problem("a.md", "unknown key 'foo'", 1, severity=warning, kind="unknown-key"),
        Problem("a.md", "unknown key 'bar'", 2, severity=warning, kind="unknown-key"),
        Problem("b.md", "unknown key 'baz'", 1, severity=warning, kind="unknown-key"),
        Problem("b.md", "something else", 3, severity=warning),
        Problem("c.md", "bad date", 1, kind="date"),
        Problem("d.md", "bad date", 1, kind="date"),
    )
    report = Report(problems=problems, files=4, articles=2, published=2, groups=())
    monkeypatch.setattr(feedpub.build, "build", lambda *args: report)
    result = run("check", "--articles", site / "articles")
    assert result.stderr.splitlines()[:4] == [
        "a.md:1: warning: unknown key 'foo' (and 2 more like it, in 2 files in all; -v lists all)",
        "b.md:3: warning: something else",
        "c.md:1: error: bad date",
        "d.md:1: error: bad date",
    ]


def test_problems_go_to_stderr_and_the_listing_to_stdout(site: Path) -> None:
    """`list` prints its table on stdout and the problems on stderr, never mixed."""
    write_article(site / "articles", "bad.md", "title: Bad\nsection: World")
    result = run("list", "--articles", site / "articles")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].split()[:3] == ["kind", "name", "articles"]
    assert "error" not in result.stdout
    assert result.stderr.startswith(f"{site / 'articles' / 'bad.md'}:")


# --- list --links, list --json --------------------------------------------------------------

SITE_TOML = """\
[site]
title = "News & Views"
url = "https://news.example/"
feeds_url = "https://cdn.example/f/"

[feeds]
formats = ["atom", "json"]
"""


def test_list_links_prints_one_alternate_link_per_document(site: Path) -> None:
    """--links: a <link rel="alternate"> per feed and format, with public URLs and titles."""
    (site / "feedpub.toml").write_text(SITE_TOML, encoding="utf-8")
    write_article(site / "articles", "other.md", GOOD.replace("[Trade]", "[東アジア]"))
    result = run("list", "--articles", site / "articles", "--links")
    assert result.exit_code == 0
    assert result.stderr == ""
    links = [lxml.html.fragment_fromstring(line) for line in result.stdout.splitlines()]
    assert [(link.tag, link.get("rel")) for link in links] == [("link", "alternate")] * 8
    assert [(link.get("type"), link.get("title"), link.get("href")) for link in links] == [
        ("application/atom+xml", "News & Views", "https://cdn.example/f/all.atom"),
        ("application/feed+json", "News & Views", "https://cdn.example/f/all.json"),
        ("application/atom+xml", "News & Views: World", "https://cdn.example/f/sections/world.atom"),
        ("application/feed+json", "News & Views: World", "https://cdn.example/f/sections/world.json"),
        ("application/atom+xml", "News & Views: Trade", "https://cdn.example/f/topics/trade.atom"),
        ("application/feed+json", "News & Views: Trade", "https://cdn.example/f/topics/trade.json"),
        ("application/atom+xml", "News & Views: 東アジア",
         "https://cdn.example/f/topics/%E6%9D%B1%E3%82%A2%E3%82%B8%E3%82%A2.atom"),
        ("application/feed+json", "News & Views: 東アジア",
         "https://cdn.example/f/topics/%E6%9D%B1%E3%82%A2%E3%82%B8%E3%82%A2.json"),
    ]  # fmt: skip
    assert "News &amp; Views" in result.stdout


def test_list_json_prints_every_group_for_scripts(site: Path) -> None:
    """--json: each group's kind, name, slug, count and each format's path and address."""
    (site / "feedpub.toml").write_text(SITE_TOML, encoding="utf-8")
    result = run("list", "--articles", site / "articles", "--out", "out", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    groups = json.loads(result.stdout)["groups"]
    assert [(group["kind"], group["name"], group["slug"], group["count"]) for group in groups] == [
        ("all", "News & Views", "all", 1), ("sections", "World", "world", 1),
        ("topics", "Trade", "trade", 1),
    ]  # fmt: skip
    assert groups[1]["title"] == "News & Views: World"
    assert groups[1]["page"] == "https://news.example/sections/world/"
    assert groups[1]["feeds"] == {
        "atom": {"type": "application/atom+xml", "path": "out/sections/world.atom",
                 "url": "https://cdn.example/f/sections/world.atom"},
        "json": {"type": "application/feed+json", "path": "out/sections/world.json",
                 "url": "https://cdn.example/f/sections/world.json"},
    }  # fmt: skip


def test_list_links_and_json_together_is_a_usage_error(site: Path) -> None:
    """--links with --json: exit 2, one message, nothing on stdout."""
    result = run("list", "--articles", site / "articles", "--links", "--json")
    assert result.exit_code == 2
    assert (
        result.stderr == "feedpub: error: --links and --json cannot be used together; choose one\n"
    )
    assert result.stdout == ""


def test_out_that_is_a_file_is_a_usage_error(site: Path) -> None:
    """--out naming a file: exit 2 saying so, and the file is left alone."""
    afile = site / "afile"
    afile.write_text("mine")
    result = build_site(site / "articles", afile)
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: {afile}: the output folder is not a folder; expected a folder (or "
        "nothing) there\n"
    )
    assert afile.read_text() == "mine"
