"""Atom, RSS and JSON Feed carry the same entries with the same fields, for every group.

Each format is read by a parser that knows nothing of feedpub: feedparser for
Atom and RSS (as a reader sees them), jsonfeed-util for JSON Feed, and the
JSON Feed 1.1 schema (tests/jsonfeed-1.1.schema.json, ISC licence beside it).
"""

from __future__ import annotations

import calendar
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import jsonfeed
import jsonschema
import lxml.html
import pytest
from conftest import FIXTURE_SITE, TESTS, build_site, read_feed, write_article
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.config import load_config
from feedpub.load import load_articles, read_articles
from feedpub.names import slugify

CONFIG_TEXT = (FIXTURE_SITE / "feedpub.toml").read_text() + (
    '\ngroups = ["all", "sections", "topics", "authors", "section_topics"]\n'
    '\n[websub]\nhubs = ["https://hub.example/", "https://hub2.example/"]\n'
)
CONFIG = load_config(CONFIG_TEXT)
ARTICLES = {
    a.id: a
    for a in read_articles(
        FIXTURE_SITE / "articles", CONFIG, load_articles(FIXTURE_SITE / "articles", CONFIG).articles
    ).values()
}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    config = folder / "feedpub.toml"
    config.write_text(CONFIG_TEXT)
    result = build_site(FIXTURE_SITE / "articles", folder / "feeds", config, "--no-ping")
    assert result.exit_code == 0, result.output
    return folder / "feeds"


def stems(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out).with_suffix("")) for p in out.rglob("*.json"))


def text_of(html: str) -> str:
    return " ".join(lxml.html.fromstring(f"<div>{html}</div>").text_content().split())


def utc(struct: object) -> str:
    moment = datetime.fromtimestamp(calendar.timegm(struct), UTC)  # type: ignore[arg-type]
    return moment.isoformat().replace("+00:00", "Z")


def shown(summary: str, media_type: str) -> str:
    """The text a reader shows for a summary: RSS carries the plain text escaped as HTML."""
    return html.unescape(summary) if media_type == "text/html" else summary


def from_feedparser(path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    feed = read_feed(path)
    links = {link.rel: link.href for link in feed.feed.links}
    head = {
        "title": feed.feed.title,
        "self": links["self"],
        "page": feed.feed.link,
        "hubs": [link.href for link in feed.feed.links if link.rel == "hub"],
    }
    entries = []
    for entry in feed.entries:
        media = entry.get("media_content", [])
        entries.append({
            "id": entry.id,
            "title": entry.title,
            "url": entry.link,
            "published": utc(entry.published_parsed),
            "authors": [author.name for author in entry.authors],
            "tags": [tag.term for tag in entry.tags],
            "summary": shown(entry.summary, entry.summary_detail.type),
            "content": text_of(entry.content[0].value) if "content" in entry else None,
            "image": media[0]["url"] if media else None,
        })  # fmt: skip
    return head, entries


def from_jsonfeed(path: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    feed = jsonfeed.Feed.parse(json.loads(path.read_text(encoding="utf-8")))
    head = {
        "title": feed.title,
        "self": feed.feed_url,
        "page": feed.home_page_url,
        "hubs": [hub.url for hub in feed.hubs],
    }
    entries = [
        {
            "id": item.id,
            "title": item.title,
            "url": item.url,
            "published": item.date_published,
            "authors": [author.name for author in item.authors],
            "tags": item.tags,
            "summary": item.summary,
            "content": text_of(item.content_html) if item.content_html else None,
            "image": item.image,
        }
        for item in feed.items
    ]
    return head, entries


def test_every_group_carries_the_same_entries_in_every_format(out: Path) -> None:
    """For each group, the three documents hold the same entries in the same order, with the
    same id, title, link, date, authors, categories, summary, content text and image."""
    assert len(stems(out)) > 20
    for stem in stems(out):
        atom_head, atom = from_feedparser(out / f"{stem}.atom")
        rss_head, rss = from_feedparser(out / f"{stem}.rss")
        json_head, items = from_jsonfeed(out / f"{stem}.json")
        assert atom, stem
        assert atom == rss == items, stem
        for head in (atom_head, rss_head, json_head):
            assert head["page"] == atom_head["page"], stem
            assert head["title"] == atom_head["title"], stem
            assert head["hubs"] == ["https://hub.example/", "https://hub2.example/"], stem
        base = f"https://news.example/feeds/{quote(stem)}"
        assert atom_head["self"] == f"{base}.atom"
        assert rss_head["self"] == f"{base}.rss"
        assert json_head["self"] == f"{base}.json"


def test_entries_are_the_source_articles(out: Path) -> None:
    """The JSON Feed items are the articles as written: dates to the second, the section then
    the topics as tags, the deck as summary."""
    _, items = from_jsonfeed(out / "all.json")
    assert {item["id"] for item in items} == {
        a.id for a in ARTICLES.values() if not a.draft and a.published.year < 2026
    }
    for item in items:
        article = ARTICLES[str(item["id"])]
        assert item["title"] == article.title
        assert item["url"] == article.url
        published = article.published.astimezone(UTC).replace(microsecond=0)
        assert item["published"] == published.isoformat().replace("+00:00", "Z")
        assert item["tags"] == [article.section, *article.topics]
        assert item["authors"] == [person.name for person in article.authors]
        if article.subtitle:
            assert item["summary"] == article.subtitle
        assert item["image"] == (article.image.url if article.image else None)


def test_every_json_document_is_valid_against_the_json_feed_schema(out: Path) -> None:
    """Every .json document validates against the JSON Feed 1.1 schema."""
    schema = json.loads((TESTS / "jsonfeed-1.1.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    for stem in stems(out):
        document = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
        errors = [error.message for error in validator.iter_errors(document)]
        assert not errors, f"{stem}: {errors}"


def test_author_feeds_are_the_bylines_and_their_author(out: Path) -> None:
    """One feed per byline name (never the site's default author), whose author is that
    person, holding exactly that person's articles."""
    default = CONFIG.site.author.name
    names = {name for a in ARTICLES.values() for name in a.bylines if name != default}
    assert names, "the fixture site has bylines"
    found = sorted(str(p.relative_to(out / "authors").with_suffix("")) for p in
                   (out / "authors").glob("*.atom"))  # fmt: skip
    assert found == sorted(slugify(name) for name in names)
    for name in names:
        for suffix in (".atom", ".rss"):
            feed = read_feed(out / "authors" / f"{slugify(name)}{suffix}")
            expected = {a.id for a in ARTICLES.values() if name in a.bylines and not a.draft}
            assert {entry.id for entry in feed.entries} == expected
        assert read_feed(out / "authors" / f"{slugify(name)}.atom").feed.author == name
        document = json.loads((out / "authors" / f"{slugify(name)}.json").read_text())
        assert document["authors"] == [{"name": name}]
    assert not (out / "authors" / f"{slugify(default)}.atom").exists()


def test_section_topic_feeds_hold_the_articles_that_share_both(out: Path) -> None:
    """`section_topics` adds a feed per section and topic that share an article, under the
    section's folder, holding exactly the articles in both."""
    published = [a for a in ARTICLES.values() if not a.draft and a.published.year < 2026]
    pairs = {(slugify(a.section), slugify(t)) for a in published for t in a.topics}
    found = {tuple(str(p.relative_to(out / "sections").with_suffix("")).split("/"))
             for p in (out / "sections").glob("*/*.atom")}  # fmt: skip
    assert found == pairs
    for section, topic in pairs:
        feed = read_feed(out / "sections" / section / f"{topic}.atom")
        expected = {
            a.id for a in published
            if slugify(a.section) == section and topic in {slugify(t) for t in a.topics}
        }  # fmt: skip
        assert {entry.id for entry in feed.entries} == expected


def test_formats_choose_the_documents_and_the_others_are_removed(tmp_path: Path) -> None:
    """`feeds.formats` chooses the documents; those of a format no longer chosen are removed
    like any stale document, and a stranger's JSON file is never touched."""
    articles = tmp_path / "articles"
    write_article(articles, "a.md", "title: A\nsection: News\npublished: 2021-03-01")
    config = tmp_path / "feedpub.toml"
    config.write_text('[site]\nurl = "https://news.example/"\n')
    out = tmp_path / "feeds"
    assert build_site(articles, out, config).exit_code == 0
    assert (out / "all.json").exists()
    (out / "sections" / "mine.json").write_text('{"version": "mine"}')
    config.write_text('[site]\nurl = "https://news.example/"\n[feeds]\nformats = ["atom"]\n')
    result = build_site(articles, out, config)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.rglob("*") if p.is_file() and p.name[0] != ".") == [
        "all.atom", "index.html", "index.opml", "mine.json", "news.atom"
    ]  # fmt: skip
    (out / ".feedpub-state").unlink()  # without the state, the marker tells feedpub's own
    config.write_text('[site]\nurl = "https://news.example/"\n[feeds]\nformats = ["rss"]\n')
    assert build_site(articles, out, config).exit_code == 0
    assert sorted(p.name for p in out.rglob("*") if p.is_file() and p.name[0] != ".") == [
        "all.rss", "index.html", "index.opml", "mine.json", "news.rss"
    ]  # fmt: skip


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 80), max_value=1 << 80),
    st.text(),
    st.text(st.characters(categories=("Cs", "Cc", "Zl", "Zp", "Co", "Lo"))),  # surrogates too
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON_VALUES)
@settings(max_examples=400, deadline=None)
def test_json_feed_bytes_are_those_json_dumps_writes(value: object) -> None:
    """The JSON Feed writer's serialiser gives json.dumps(ensure_ascii=False, indent=2)'s
    UTF-8 bytes for any value of the shapes an item has (integers past 64 bits and every
    character included), and fails where encoding json's text fails (a lone surrogate)."""
    from feedpub.formats.jsonfeed import _dumps

    try:
        expected = json.dumps(value, ensure_ascii=False, indent=2).encode()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            _dumps(value)
        return
    assert _dumps(value) == expected
