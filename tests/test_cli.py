"""The command line: each command, each exit code, and what it prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_site, feed_files, read_feed, run, write_article

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
        "feedpub: 1 article published in 6 documents (3 feeds): 6 written"
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
    assert "0 written, 6 unchanged, 0 removed" in result.output
    assert {path: path.stat().st_mtime_ns for path in feed_files(site / "feeds")} == before


def test_feeds_of_vanished_groups_are_removed_and_nothing_else(site: Path) -> None:
    """When a topic disappears its feeds go; a stranger's file in the folder stays."""
    build_site(site / "articles", site / "feeds")
    stranger = site / "feeds" / "topics" / "README.txt"
    stranger.write_text("not feedpub's")
    write_article(site / "articles", "good.md", GOOD.replace("[Trade]", "[Tariffs]"))
    result = build_site(site / "articles", site / "feeds")
    assert "2 removed" in result.output
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
