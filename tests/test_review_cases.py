"""Cases found in review: each once produced a wrong feed, a lost article or a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import build_site, feed_files, read_feed, run, write_article

GOOD = "title: {title}\nsection: News\ntopics: [Local]\npublished: {date}"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_article(
        tmp_path / "articles", "a.md", GOOD.format(title="A", date="2021-03-01"), "Body of a.\n"
    )
    write_article(
        tmp_path / "articles", "b.md", GOOD.format(title="B", date="2021-03-10"), "Body of b.\n"
    )
    return tmp_path


def contents(out: Path) -> list[str]:
    return [entry.content[0].value for entry in read_feed(out / "all.atom").entries]


@pytest.mark.parametrize("trust", ["cached", "--no-cache"])
def test_a_broken_article_never_publishes_its_broken_text(site: Path, trust: str) -> None:
    """Kept for its broken file, an article shows its last good body, even when nothing
    cached is trusted: the broken file's new text is never published."""
    build_site(site / "articles", site / "feeds")
    write_article(
        site / "articles", "a.md", "title: A\nsection: News\npublished: not a date", "DRAFT BODY\n"
    )
    extra = ("--no-cache",) if trust == "--no-cache" else ()
    for _ in range(2):
        result = build_site(site / "articles", site / "feeds", None, *extra)
        assert result.exit_code == 1
        assert any("Body of a." in html for html in contents(site / "feeds"))
        assert not any("DRAFT" in html for html in contents(site / "feeds"))


def test_a_broken_article_stays_kept_while_out_of_the_feeds(site: Path) -> None:
    """An article kept for its broken file is still kept after a build that leaves it out."""
    build_site(site / "articles", site / "feeds", now="2021-04-01")
    (site / "articles" / "a.md").write_text("---\ntitle: [broken\n---\n")
    build_site(site / "articles", site / "feeds", now="2021-02-01")  # before either is due
    assert read_feed(site / "feeds" / "all.atom").entries == []
    result = build_site(site / "articles", site / "feeds", now="2021-04-01")
    assert [e.title for e in read_feed(site / "feeds" / "all.atom").entries] == ["B", "A"]
    assert "its last good version stays in the feeds" in result.output
    assert any("Body of a." in html for html in contents(site / "feeds"))


def test_moving_now_back_and_forth_hides_nothing(site: Path) -> None:
    """A build with an earlier --now, then one with the clock, shows every article again."""
    build_site(site / "articles", site / "feeds", now="2021-03-20")
    build_site(site / "articles", site / "feeds", now="2021-03-05")
    assert [e.title for e in read_feed(site / "feeds" / "all.atom").entries] == ["A"]
    build_site(site / "articles", site / "feeds", now="2021-03-20")
    assert [e.title for e in read_feed(site / "feeds" / "all.atom").entries] == ["B", "A"]


def test_stale_feeds_are_removed_even_without_the_state(site: Path) -> None:
    """feedpub's own feeds are recognised by their generator when the state is lost."""
    build_site(site / "articles", site / "feeds")
    (site / "feeds" / ".feedpub-state").unlink()
    write_article(site / "articles", "b.md", GOOD.format(title="B", date="2021-03-10").replace(
        "section: News", "section: Sports"
    ))  # fmt: skip
    (site / "articles" / "a.md").unlink()
    result = build_site(site / "articles", site / "feeds")
    assert "3 removed" in result.output  # Atom, RSS and JSON Feed
    for suffix in (".atom", ".rss", ".json"):
        assert not (site / "feeds" / "sections" / f"news{suffix}").exists()


def test_a_strangers_file_is_never_overwritten(site: Path) -> None:
    """A file feedpub did not write, where a feed would go, is reported and left alone."""
    (site / "feeds" / "topics").mkdir(parents=True)
    mine = site / "feeds" / "topics" / "local.rss"
    mine.write_text("<rss>mine</rss>")
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 1
    assert f"{mine}: error: this file was not written by feedpub" in result.output
    assert mine.read_text() == "<rss>mine</rss>"
    (site / "articles" / "a.md").unlink()
    (site / "articles" / "b.md").unlink()
    build_site(site / "articles", site / "feeds")
    assert mine.read_text() == "<rss>mine</rss>"


def test_leftover_temporary_files_of_the_state_are_removed(site: Path) -> None:
    """A killed build's temporary state or cache file is removed by the next build."""
    build_site(site / "articles", site / "feeds")
    leftovers = [
        site / "feeds" / "..feedpub-cache.abcd1234.tmp",
        site / "feeds" / ".all.atom.x1y2z3w4.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"x" * 100)
    write_article(site / "articles", "c.md", GOOD.format(title="C", date="2021-03-11"))
    build_site(site / "articles", site / "feeds")
    assert not any(path.exists() for path in leftovers)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("published", "0001-01-01T00:00:00+01:00", "is too far in the past or the future"),
        ("published", "9999-12-31T23:00:00-05:00", "is too far in the past or the future"),
        ("url", "'http://[2001:db8::1/story'", "expected an http(s) address"),
    ],
)
def test_values_at_the_edges_are_problems_not_tracebacks(
    site: Path, field: str, value: str, message: str
) -> None:
    """Dates the calendar cannot hold and addresses that cannot be parsed are reported."""
    front = GOOD.format(title="Odd", date="2021-03-02") + f"\n{field}: {value}"
    front = front.replace("published: 2021-03-02\npublished:", "published:")
    write_article(site / "articles", "odd.md", front)
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_deeply_nested_values_are_refused(site: Path) -> None:
    """A front matter list nested hundreds deep is an error, not a crash."""
    write_article(
        site / "articles",
        "deep.md",
        "title: " + "[" * 600 + "x" + "]" * 600 + "\nsection: S\npublished: 2021-01-01",
    )
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 1
    assert "nested more than" in result.output


def test_deeply_nested_html_is_published_as_text_quickly(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body of thousands of nested elements is published as plain text, with a warning:
    the sanitiser, which would take minutes over it, never sees the nesting."""
    from feedpub import content

    write_article(
        site / "articles",
        "nest.md",
        GOOD.format(title="Nest", date="2021-03-12"),
        "<div>" * 5000 + "deep" + "</div>" * 5000 + "\n",
    )
    sanitised: list[str] = []
    real = content.sanitise

    def spy(fragment: str, *args: str) -> str:
        sanitised.append(fragment)
        return real(fragment, *args)

    monkeypatch.setattr(content, "sanitise", spy)
    result = build_site(site / "articles", site / "feeds")
    assert sanitised  # the spy sees every body
    assert not any("<div>" * (content.MAX_DEPTH + 1) in fragment for fragment in sanitised)
    assert "nests more than 100 levels of HTML; published as plain text" in result.output
    entry = read_feed(site / "feeds" / "all.atom").entries[0]
    assert entry.title == "Nest"
    assert "deep" in entry.content[0].value


def test_a_non_utf8_file_name_is_reported(site: Path) -> None:
    """A file whose name is not UTF-8 is reported; the others are published."""
    odd = os.fsencode(str(site / "articles")) + b"/caf\xe9.md"
    with open(odd, "wb") as handle:
        handle.write(b"---\ntitle: Cafe\nsection: S\npublished: 2021-01-01\n---\nx\n")
    result = build_site(site / "articles", site / "feeds")
    assert result.exit_code == 1
    assert "the file name is not UTF-8" in result.output
    assert len(read_feed(site / "feeds" / "all.atom").entries) == 2


def test_a_changed_spelling_of_the_articles_folder_changes_nothing(site: Path) -> None:
    """Building with `articles` or with its absolute path gives the same feeds."""
    build_site(site / "articles", site / "feeds")
    before = {path.name: path.read_bytes() for path in feed_files(site / "feeds")}
    build_site(Path("articles"), site / "feeds")
    assert {path.name: path.read_bytes() for path in feed_files(site / "feeds")} == before


def test_list_shows_kept_articles(site: Path) -> None:
    """`feedpub list` counts an article kept for its broken file, as the feeds show it."""
    build_site(site / "articles", site / "feeds")
    (site / "articles" / "a.md").write_text("---\ntitle: [broken\n---\n")
    build_site(site / "articles", site / "feeds")
    result = run("list", "--articles", site / "articles", "--out", site / "feeds")
    rows = [line.split() for line in result.output.splitlines() if line.startswith("all ")]
    assert rows[0][:3] == ["all", "Articles", "2"]


def test_state_and_cache_are_private(site: Path) -> None:
    """The state and cache, which name unpublished files, are readable by their owner only."""
    build_site(site / "articles", site / "feeds")
    for name in (".feedpub-state", ".feedpub-cache"):
        assert (site / "feeds" / name).stat().st_mode & 0o777 == 0o600
    assert (site / "feeds" / "all.atom").stat().st_mode & 0o777 == 0o644
