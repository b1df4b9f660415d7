"""Cases found in review: each once produced a wrong feed, a lost article or a traceback."""

from __future__ import annotations

import os
import re
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


# -- found by a second hostile review -------------------------------------------------------


def test_section_in_the_link_pattern_is_the_sections_slug(tmp_path: Path) -> None:
    """`link_pattern = "{section}/{slug}/"` builds: each article's address has its section."""
    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: Trans-Pacific View\npublished: 2021-03-01")
    config = tmp_path / "feedpub.toml"
    config.write_text('[site]\nurl = "https://news.example/"\nlink_pattern = "{section}/{slug}/"\n')
    result = build_site(articles, tmp_path / "feeds", config)
    assert result.exit_code == 0, result.output
    entry = read_feed(tmp_path / "feeds" / "all.atom").entries[0]
    assert entry.link == "https://news.example/trans-pacific-view/a/"


def test_an_author_with_no_letter_or_digit_is_an_error(tmp_path: Path) -> None:
    """A byline such as "!!!" would make a feed named ".atom": it is an error naming the field."""
    articles = tmp_path / "articles"
    write_article(articles, "a.md", 'title: A\nsection: News\npublished: 2021-03-01\nauthor: "!!!"')
    write_article(articles, "b.md", "title: B\nsection: News\npublished: 2021-03-02")
    result = build_site(articles, tmp_path / "feeds")
    assert result.exit_code == 1
    assert "a.md:5: error: author: expected a name with a letter or digit, got '!!!'" in (
        result.output
    )
    assert not list((tmp_path / "feeds").glob("authors/.*"))
    assert [e.title for e in read_feed(tmp_path / "feeds" / "all.atom").entries] == ["B"]


def test_a_long_address_cannot_multiply_the_output(tmp_path: Path) -> None:
    """An article address longer than 2,048 characters is an error for that article (its
    links would each grow by it, in every document); the other articles are published."""
    articles = tmp_path / "articles"
    long_url = "https://news.example/" + "x" * 3000
    write_article(articles, "a.md", f"title: A\nsection: News\npublished: 2021-03-01\n"
                  f"url: {long_url}", "[a](b) " * 1000)  # fmt: skip
    write_article(articles, "b.md", "title: B\nsection: News\npublished: 2021-03-02")
    result = build_site(articles, tmp_path / "feeds")
    assert result.exit_code == 1
    assert "a.md:5: error: url: expected an http(s) address" in result.output
    assert [e.title for e in read_feed(tmp_path / "feeds" / "all.atom").entries] == ["B"]


def test_an_entry_whose_html_is_too_large_is_published_with_its_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body rendering to more HTML than MAX_CONTENT is published with its summary only, with a
    warning: what one article can add to the output is bounded."""
    from feedpub import content

    monkeypatch.setattr(content, "MAX_CONTENT", 5000)
    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01\n"
                  "subtitle: The deck", "[a](b) " * 2000)  # fmt: skip
    result = build_site(articles, tmp_path / "feeds")
    assert result.exit_code == 0, result.output
    assert "more than 5,000; published with its summary only" in result.output
    entry = read_feed(tmp_path / "feeds" / "all.atom").entries[0]
    assert entry.summary == "The deck"
    assert "content" not in entry


def test_a_damaged_state_is_built_again_and_says_so(tmp_path: Path) -> None:
    """A build state cut short (someone else wrote it) costs a full build with a warning that
    names it: never a silent "no state", and never a build that stops until someone looks."""
    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01")
    out = tmp_path / "feeds"
    assert build_site(articles, out).exit_code == 0
    state = out / ".feedpub-state"
    state.write_bytes(state.read_bytes()[:100])
    result = build_site(articles, out)
    assert result.exit_code == 0
    assert f"{state}: warning: the build state is damaged" in result.output
    assert "damaged" not in build_site(articles, out).output  # the next run is clean


def test_a_body_with_too_many_tags_is_published_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_TAGS tags (reading each costs a hostile body far more than a second a megabyte)
    or MAX_DEPTH levels, the body is published as escaped text, with a warning."""
    from feedpub import content

    monkeypatch.setattr(content, "MAX_TAGS", 50)
    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01\n"
                  "subtitle: Deck", "*a* " * 100 + "<b>x</b>\n")  # fmt: skip
    result = build_site(articles, tmp_path / "feeds")
    assert re.search(r"a\.md: warning: the body has more than 50 HTML tags \(2\d\d\); "
                     "published as plain text", result.output)  # fmt: skip
    entry = read_feed(tmp_path / "feeds" / "all.atom").entries[0]
    html = entry.content[0].value
    assert "<em>" not in html
    assert "<b>" not in html
    assert "a a a" in html
