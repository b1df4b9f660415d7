"""The lists of every feed: index.opml, read by a strict OPML parser (pyopml) and a lenient one
(listparser), and index.html, parsed with lxml.html with every link resolved."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urljoin

import listparser
import lxml.html
import opml
import pytest
from conftest import FIXTURE_SITE, build_site, read_feed, write_article

FEEDS = "https://news.example/feeds/"
CONFIG = (FIXTURE_SITE / "feedpub.toml").read_text() + (
    '\ngroups = ["all", "sections", "topics", "authors", "section_topics"]\n'
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("indexes")
    (folder / "feedpub.toml").write_text(CONFIG)
    result = build_site(FIXTURE_SITE / "articles", folder / "feeds", folder / "feedpub.toml")
    assert result.exit_code == 0, result.output
    return folder / "feeds"


def local(out: Path, address: str) -> Path:
    assert address.startswith(FEEDS), address
    return out / unquote(address.removeprefix(FEEDS))


def feeds_on_disk(out: Path) -> set[str]:
    return {p.relative_to(out).with_suffix("").as_posix() for p in out.rglob("*.rss")
            if not p.relative_to(out).as_posix().startswith("archive/")}  # fmt: skip


def test_opml_lists_every_feed_once_for_a_strict_parser(out: Path) -> None:
    """pyopml reads the OPML 2.0 document: the all-articles feed first, then one outline per
    kind; every feed once, with text, title, type="rss", xmlUrl and htmlUrl, each xmlUrl a
    document feedpub wrote whose title is the outline's."""
    document = opml.OpmlDocument.load(str(out / "index.opml"))
    first, *kinds = document.outlines
    assert first.type == "rss"
    assert first.xml_url == FEEDS + "all.rss"
    assert [kind.text for kind in kinds] == ["Sections", "Topics", "Authors",
                                             "Sections and topics"]  # fmt: skip
    feeds = [first, *(outline for kind in kinds for outline in kind.outlines)]
    urls = [outline.xml_url for outline in feeds]
    assert len(urls) == len(set(urls))
    listed = {local(out, url).relative_to(out).with_suffix("").as_posix() for url in urls}
    assert listed == feeds_on_disk(out)
    for outline in feeds:
        assert outline.type == "rss"
        assert outline.text == outline.title
        assert outline.html_url.startswith("https://news.example/")
        feed = read_feed(local(out, outline.xml_url))
        assert feed.feed.title == outline.title
        assert feed.feed.link == outline.html_url


def test_opml_imports_into_a_lenient_parser(out: Path) -> None:
    """listparser (what many readers use to import) finds every feed, filed by kind."""
    parsed = listparser.parse((out / "index.opml").read_text(encoding="utf-8"))
    assert not parsed.bozo
    assert {unquote(feed.url) for feed in parsed.feeds} == {
        FEEDS + f"{stem}.rss" for stem in feeds_on_disk(out)
    }
    categories = {feed.url: feed.categories for feed in parsed.feeds}
    assert categories[FEEDS + "all.rss"] == []
    assert categories[FEEDS + "sections/opinion.rss"] == [["Sections"]]


def test_html_index_lists_every_feed_with_working_links(out: Path) -> None:
    """index.html: every feed with its count, last update and a link per format, each link a
    document on disk; <link rel="alternate"> in the head for the main feeds; no script."""
    page = lxml.html.parse(str(out / "index.html")).getroot()
    assert page.find(".//script") is None
    assert not [a for a in page.iter() for name in a.attrib if name.startswith("on")]
    base = FEEDS + "index.html"
    items = page.findall(".//li")
    assert len(items) == len(feeds_on_disk(out))
    linked = set()
    for item in items:
        assert "article" in item.text_content()
        assert item.find(".//time") is not None
        formats = [a for a in item.findall(".//a") if a.get("class") == "format"]
        assert [a.text for a in formats] == ["ATOM", "RSS", "JSON"]
        for anchor in formats:
            target = local(out, urljoin(base, anchor.get("href")))
            assert target.is_file(), target
            linked.add(target.relative_to(out).with_suffix("").as_posix())
    assert linked == feeds_on_disk(out)
    alternates = page.findall(".//head/link[@rel='alternate']")
    assert {local(out, link.get("href")).name for link in alternates} >= {"all.atom", "all.rss",
                                                                            "all.json"}  # fmt: skip
    for link in alternates:
        assert local(out, link.get("href")).is_file()
    assert page.find(".//meta[@name='viewport']") is not None


def test_names_are_escaped_everywhere(tmp_path: Path) -> None:
    """A section named <script> shows as text in the HTML index and the OPML."""
    articles = tmp_path / "articles"
    write_article(articles, "a.md", 'title: A\nsection: "<script>alert(1)</script> & co"\n'
                  "published: 2021-03-01")  # fmt: skip
    assert build_site(articles, tmp_path / "feeds").exit_code == 0
    page = lxml.html.parse(str(tmp_path / "feeds" / "index.html")).getroot()
    assert page.find(".//script") is None
    assert "<script>alert(1)</script> & co" in page.text_content()
    document = opml.OpmlDocument.load(str(tmp_path / "feeds" / "index.opml"))
    assert document.outlines[1].outlines[0].text.endswith("<script>alert(1)</script> & co")


def test_indexes_are_rewritten_only_when_a_feed_changes(tmp_path: Path) -> None:
    """A rerun with nothing changed leaves both indexes untouched; a new article rewrites them."""
    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01")
    out = tmp_path / "feeds"
    assert build_site(articles, out).exit_code == 0
    before = {name: (out / name).stat().st_mtime_ns for name in ("index.opml", "index.html")}
    assert "0 written" in build_site(articles, out).output
    assert {name: (out / name).stat().st_mtime_ns for name in before} == before
    write_article(articles, "b.md", "title: B\nsection: Sports\npublished: 2021-03-02")
    result = build_site(articles, out, None, "-v")
    assert f"wrote {out / 'index.opml'}" in result.output
    assert "Sports" in (out / "index.html").read_text()
