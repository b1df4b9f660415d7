"""The fixture site's feeds, parsed as a validator and as a reader would parse them.

Each test reads what feedpub wrote: lxml for structure, RFC 4287's RELAX NG
schema for Atom validity, and feedparser for what a feed reader sees, and
compares it with the source articles.
"""

from __future__ import annotations

import calendar
import html
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import FIXTURE_SITE, build_site, feed_files, read_feed
from lxml import etree

from feedpub.config import load_config
from feedpub.load import load_articles, read_articles

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
FEEDS_URL = "https://news.example/feeds/"

CONFIG = load_config((FIXTURE_SITE / "feedpub.toml").read_text(), "feedpub.toml")
SOURCES = {
    article.id: article
    for article in read_articles(
        FIXTURE_SITE / "articles", CONFIG, load_articles(FIXTURE_SITE / "articles", CONFIG).articles
    ).values()
}
PUBLISHED = {
    key: article
    for key, article in SOURCES.items()
    if article.title not in {"Draft", "Future dated"}
}


def entries_by_id(path: Path) -> dict[str, feedparser.FeedParserDict]:
    return {entry.id: entry for entry in read_feed(path).entries}


def entry_element(path: Path, title: str) -> etree._Element:
    tree = etree.parse(str(path))
    for entry in tree.iter(f"{ATOM}entry", "item"):
        found = entry.findtext(f"{ATOM}title") or entry.findtext("title")
        if found == title:
            return entry
    raise AssertionError(f"{path}: no entry titled {title!r}")


def utc(struct: object) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct), UTC)  # type: ignore[arg-type]


def test_every_atom_document_is_valid_against_rfc_4287(
    fixture_feeds: Path, atom_schema: etree.RelaxNG
) -> None:
    """Every Atom file feedpub writes validates against RFC 4287's RELAX NG schema."""
    atoms = [path for path in feed_files(fixture_feeds) if path.suffix == ".atom"]
    assert len(atoms) == 14
    for path in atoms:
        document = etree.parse(str(path))
        assert atom_schema.validate(document), f"{path}: {atom_schema.error_log}"


def test_every_document_reads_without_error(fixture_feeds: Path) -> None:
    """feedparser reads every document without flagging it as malformed."""
    files = feed_files(fixture_feeds)
    assert len(files) == 28
    for path in files:
        parsed = read_feed(path)
        expected = "atom10" if path.suffix == ".atom" else "rss20"
        assert parsed.version == expected


def test_the_feed_layout_follows_the_spec(fixture_feeds: Path) -> None:
    """One pair for all, one per section, topic and byline, named by slugs in any script."""
    names = {
        str(path.relative_to(fixture_feeds).with_suffix("")) for path in feed_files(fixture_feeds)
    }
    assert names == {
        "all", "sections/opinion", "sections/trans-pacific-view", "sections/мир",
        "topics/1-0", "topics/diplomacy", "topics/east-asia", "topics/security", "topics/yes",
        "topics/économie", "topics/ближний-восток", "topics/東アジア",
        "authors/jane-doe", "authors/john-roe",
    }  # fmt: skip


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_all_feed_has_every_published_article_newest_first(
    fixture_feeds: Path, suffix: str
) -> None:
    """Drafts and future-dated articles stay out; the rest are newest first by published."""
    entries = read_feed(fixture_feeds / f"all{suffix}").entries
    assert {entry.id for entry in entries} == set(PUBLISHED)
    dates = [utc(entry.published_parsed) for entry in entries]
    assert dates == sorted(dates, reverse=True)
    titles = {entry.title for entry in entries}
    assert "Draft" not in titles
    assert "Future dated" not in titles


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_entries_match_their_source_articles(fixture_feeds: Path, suffix: str) -> None:
    """Id, title, link, dates to the second, authors and categories equal the article's."""
    for entry_id, entry in entries_by_id(fixture_feeds / f"all{suffix}").items():
        article = SOURCES[entry_id]
        assert entry.title == article.title
        assert entry.link == article.url
        assert utc(entry.published_parsed) == article.published.astimezone(UTC)
        if suffix == ".atom":
            assert utc(entry.updated_parsed) == article.updated.astimezone(UTC)
        assert [author.name for author in entry.authors] == [p.name for p in article.authors]
        assert [tag.term for tag in entry.get("tags", [])] == [article.section, *article.topics]
        if article.subtitle:
            assert entry.summary == article.subtitle
        else:  # the start of the body, as plain text: found in the content a reader shows
            shown = " ".join(lxml.html.fromstring(entry.content[0].value).text_content().split())
            # RSS carries the plain-text summary escaped as HTML, as readers expect
            summary = html.unescape(entry.summary) if suffix == ".rss" else entry.summary
            assert summary
            assert " ".join(summary.rstrip("…").split()) in shown


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_section_and_topic_feeds_hold_their_articles(fixture_feeds: Path, suffix: str) -> None:
    """A section's feed holds its articles, whatever the spelling; a topic's likewise."""
    section = entries_by_id(fixture_feeds / f"sections/trans-pacific-view{suffix}")
    expected = {key for key, a in PUBLISHED.items() if a.section.lower() == "trans-pacific view"}
    assert set(section) == expected
    topic = entries_by_id(fixture_feeds / f"topics/東アジア{suffix}")
    assert [entry.title for entry in topic.values()] == ["Новости из Токио"]


def test_feed_metadata(fixture_feeds: Path) -> None:
    """Title, subtitle, language, self and alternate links, generator without a version."""
    atom = read_feed(fixture_feeds / "sections/opinion.atom").feed
    assert atom.title == "Example News: Opinion"
    assert atom.language == "en"
    links = {link.rel: link.href for link in atom.links}
    assert links == {
        "self": f"{FEEDS_URL}sections/opinion.atom",
        "alternate": "https://news.example/sections/opinion/",
    }
    assert atom.generator == "feedpub"
    assert "version" not in atom.generator_detail
    assert atom.id.startswith("urn:uuid:")

    rss = etree.parse(str(fixture_feeds / "sections/opinion.rss")).getroot()
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("link") == "https://news.example/sections/opinion/"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("href") == f"{FEEDS_URL}sections/opinion.rss"
    assert self_link.get("rel") == "self"
    assert channel.findtext("generator") == "feedpub"


def test_feed_updated_is_the_newest_entry_updated(fixture_feeds: Path) -> None:
    """Feed updated and lastBuildDate are the newest entry's updated, never the clock."""
    newest = max(article.updated for article in PUBLISHED.values()).astimezone(UTC)
    atom = read_feed(fixture_feeds / "all.atom").feed
    assert utc(atom.updated_parsed) == newest
    rss = etree.parse(str(fixture_feeds / "all.rss")).getroot()
    assert rss.findtext("channel/lastBuildDate") == newest.strftime("%a, %d %b %Y %H:%M:%S +0000")


def test_zones_are_honoured(fixture_feeds: Path) -> None:
    """09:15 in New York is 13:15Z; naive 09:45 takes the site's zone; a date is midnight there."""
    atom = fixture_feeds / "all.atom"
    assert entry_element(atom, "Zoned date").findtext(f"{ATOM}published") == "2021-03-30T13:15:00Z"
    assert entry_element(atom, "Naive date").findtext(f"{ATOM}published") == "2021-03-30T13:45:00Z"
    assert entry_element(atom, "Date only").findtext(f"{ATOM}published") == "2021-03-29T04:00:00Z"
    rss = fixture_feeds / "all.rss"
    assert entry_element(rss, "Zoned date").findtext("pubDate") == "Tue, 30 Mar 2021 13:15:00 +0000"


def test_updated_differs_from_published_when_given(fixture_feeds: Path) -> None:
    """An article's `updated` is the entry's updated, after its published."""
    entry = entry_element(fixture_feeds / "all.atom", "Updated later")
    assert entry.findtext(f"{ATOM}published") == "2021-03-24T12:00:00Z"
    assert entry.findtext(f"{ATOM}updated") == "2021-03-31T12:30:00Z"


def test_guid_is_the_entry_id_and_not_a_permalink(fixture_feeds: Path) -> None:
    """RSS guid carries the same id as Atom, with isPermaLink="false"."""
    item = entry_element(fixture_feeds / "all.rss", "Custom id")
    guid = item.find("guid")
    assert guid is not None
    assert guid.text == "urn:uuid:0b8f8a4e-2c1f-4c9e-9a57-0d1f0f6f6a11"
    assert guid.get("isPermaLink") == "false"
    atom = entry_element(fixture_feeds / "all.atom", "Custom id")
    assert atom.findtext(f"{ATOM}id") == guid.text


def test_derived_ids_are_tag_uris(fixture_feeds: Path) -> None:
    """Without `id`, the id is tag:<authority>,<day published>:<slug>."""
    entry = entry_element(fixture_feeds / "all.atom", "Zoned date")
    assert entry.findtext(f"{ATOM}id") == "tag:news.example,2021-03-30:zoned-date"


def test_entries_have_authors_in_both_formats(fixture_feeds: Path) -> None:
    """Every Atom entry has an author (the site's by default); RSS names them in dc:creator."""
    tree = etree.parse(str(fixture_feeds / "all.atom"))
    for entry in tree.iter(f"{ATOM}entry"):
        assert entry.findall(f"{ATOM}author/{ATOM}name"), entry.findtext(f"{ATOM}title")
    default = entry_element(fixture_feeds / "all.atom", "Zoned date")
    assert default.findtext(f"{ATOM}author/{ATOM}email") == "desk@news.example"
    named = entry_element(fixture_feeds / "all.rss", "Name-only authors")
    assert [node.text for node in named.findall(f"{DC}creator")] == ["Jane Doe", "John Roe"]
    assert named.find("author") is None


def test_categories_carry_the_topic_and_its_page(fixture_feeds: Path) -> None:
    """The section, then the topics, are categories with the same term in both formats and
    the section's or topic's page as scheme."""
    atom = entry_element(fixture_feeds / "all.atom", "Новости из Токио")
    terms = [(c.get("term"), c.get("scheme")) for c in atom.findall(f"{ATOM}category")]
    rss = entry_element(fixture_feeds / "all.rss", "Новости из Токио")
    assert [(c.text, c.get("domain")) for c in rss.findall("category")] == terms
    assert terms[0] == ("Мир", "https://news.example/sections/%D0%BC%D0%B8%D1%80/")
    assert terms[1] == (
        "東アジア",
        "https://news.example/topics/%E6%9D%B1%E3%82%A2%E3%82%B8%E3%82%A2/",
    )


def test_summary_is_the_deck_else_the_start_of_the_body(fixture_feeds: Path) -> None:
    """The subtitle is the summary; without one, the body's start as plain text."""
    entries = {entry.title: entry for entry in read_feed(fixture_feeds / "all.atom").entries}
    assert entries["Zoned date"].summary == "Written at 09:15 in New York."
    assert entries["No subtitle"].summary == (
        "The summary comes from the start of the body, as plain text & nothing else. "
        "A second paragraph."
    )


def test_yaml_scalars_stay_text(fixture_feeds: Path) -> None:
    """`title: no` stays "no" and a date-like subtitle stays its text."""
    entries = {entry.id: entry for entry in read_feed(fixture_feeds / "all.atom").entries}
    entry = entries["tag:news.example,2021-03-25:yaml-text-scalars"]
    assert entry.title == "no"
    assert entry.summary == "2021-03-30"
    assert [tag.term for tag in entry.tags] == ["Opinion", "yes", "1.0"]


def test_control_characters_are_removed_and_the_article_kept(fixture_feeds: Path) -> None:
    """Characters XML forbids are removed from title and body; the article is published."""
    entries = {entry.title: entry for entry in read_feed(fixture_feeds / "all.atom").entries}
    assert "Control characters" in entries
    assert (
        "A body with a NUL and a U+FFFE and escape characters."
        in entries["Control characters"].content[0].value
    )


def content_html(path: Path, title: str) -> str:
    entry = entry_element(path, title)
    text = (
        entry.findtext(f"{ATOM}content")
        if path.suffix == ".atom"
        else entry.findtext(f"{CONTENT}encoded")
    )
    assert text is not None
    return text


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_relative_addresses_in_content_are_made_absolute(fixture_feeds: Path, suffix: str) -> None:
    """Document-relative, root-relative, parent and srcset addresses resolve against the article."""
    html = content_html(fixture_feeds / f"all{suffix}", "Relative links")
    base = "https://news.example/2021/03/relative-links/"
    assert f'href="{base}img.png"' in html
    assert 'href="https://news.example/x"' in html
    assert 'href="https://news.example/2021/03/y"' in html
    assert f'src="{base}chart.png"' in html
    assert f'srcset="{base}small.png 1x, https://news.example/large.png 2x"' in html
    assert 'href="https://elsewhere.example/page"' in html
    assert 'href="mailto:desk@news.example"' in html
    assert "javascript" not in html


def test_atom_entries_carry_xml_base(fixture_feeds: Path) -> None:
    """Each Atom entry's xml:base is its article's address."""
    entry = entry_element(fixture_feeds / "all.atom", "Relative links")
    assert entry.get(XML_BASE) == "https://news.example/2021/03/relative-links/"


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_hostile_html_does_not_survive(fixture_feeds: Path, suffix: str) -> None:
    """No script, style, iframe, object, event handler, javascript: or data: link reaches a feed."""
    html = content_html(fixture_feeds / f"all{suffix}", "Hostile <b>HTML</b> & friends").lower()
    for banned in ("<script", "<style", "<iframe", "<object", "onclick", "onmouseover", "onerror",
                   "javascript:", "data:"):  # fmt: skip
        assert banned not in html
    # GFM's tag filter shows a raw <script> as text: `alert` may be read, never run
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        assert element.tag not in {"script", "style", "iframe", "object"}
        assert not any("alert" in value for value in element.attrib.values())
    assert "event handlers go." in html
    raw = (fixture_feeds / f"all{suffix}").read_text(encoding="utf-8").lower()
    assert "<script" not in raw


def test_hostile_title_is_text(fixture_feeds: Path) -> None:
    """A title is plain text: markup in it is shown, never interpreted."""
    entries = [e.title for e in read_feed(fixture_feeds / "all.atom").entries]
    assert "Hostile <b>HTML</b> & friends" in entries


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_lead_image_travels_as_media_rss_and_figure(fixture_feeds: Path, suffix: str) -> None:
    """media:content with caption and credit, a thumbnail, and a figure atop the content."""
    path = fixture_feeds / f"all{suffix}"
    entry = entry_element(path, "Image without length")
    media = entry.find(f"{MEDIA}content")
    assert media is not None
    url = "https://news.example/images/harbour.jpg"
    assert media.get("url") == url
    assert media.get("medium") == "image"
    assert media.get("type") == "image/jpeg"
    assert media.get("fileSize") is None
    description = media.find(f"{MEDIA}description")
    assert description is not None
    assert description.text == "The harbour at dawn."
    assert description.get("type") == "plain"
    assert media.findtext(f"{MEDIA}credit") == "Jane Doe/Example News"
    thumbnail = entry.find(f"{MEDIA}thumbnail")
    assert thumbnail is not None
    assert thumbnail.get("url") == url
    html = content_html(path, "Image without length")
    assert html.startswith(f'<figure><img src="{url}" alt="The harbour at dawn.">')
    assert "Credit: Jane Doe/Example News" in html
    parsed = {e.title: e for e in read_feed(path).entries}["Image without length"]
    assert parsed.media_content[0]["url"] == url
    assert parsed.media_thumbnail[0]["url"] == url
    assert parsed.media_credit[0]["content"] == "Jane Doe/Example News"


def test_enclosure_only_when_type_and_length_are_known(fixture_feeds: Path) -> None:
    """An enclosure needs type and length: never length="None", never a second alternate link."""
    atom = fixture_feeds / "all.atom"
    rss = fixture_feeds / "all.rss"
    without = entry_element(atom, "Image without length")
    assert [link.get("rel") for link in without.findall(f"{ATOM}link")] == ["alternate"]
    assert entry_element(rss, "Image without length").find("enclosure") is None

    url = "https://cdn.news.example/images/summit.png"
    links = [
        dict(link.attrib)
        for link in entry_element(atom, "Image with length").findall(f"{ATOM}link")
    ]
    assert links == [
        {
            "href": "https://news.example/2021/03/image-with-length/",
            "rel": "alternate",
            "type": "text/html",
        },
        {
            "href": url,
            "rel": "enclosure",
            "type": "image/png",
            "length": "48213",
            "title": "Leaders at the summit.",
        },
    ]
    enclosure = entry_element(rss, "Image with length").find("enclosure")
    assert enclosure is not None
    assert dict(enclosure.attrib) == {"url": url, "length": "48213", "type": "image/png"}
    assert "None" not in atom.read_text(encoding="utf-8")
    assert "None" not in rss.read_text(encoding="utf-8")
    parsed = {e.title: e for e in read_feed(atom).entries}["Image with length"]
    assert parsed.link == "https://news.example/2021/03/image-with-length/"
    assert parsed.enclosures[0]["href"] == url


def test_one_alternate_link_per_atom_entry(fixture_feeds: Path) -> None:
    """RFC 4287: at most one alternate link per type in each entry."""
    tree = etree.parse(str(fixture_feeds / "all.atom"))
    for entry in tree.iter(f"{ATOM}entry"):
        alternates = [
            link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"
        ]
        assert len(alternates) == 1


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    """Building twice from the same input gives byte-identical files."""
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        build_site(FIXTURE_SITE / "articles", out, FIXTURE_SITE / "feedpub.toml")
    names = [path.relative_to(first) for path in feed_files(first)]
    assert names == [path.relative_to(second) for path in feed_files(second)]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_entry_limit_keeps_the_newest(tmp_path: Path) -> None:
    """`max_entries` caps every document, keeping the newest."""
    config = tmp_path / "feedpub.toml"
    config.write_text(
        (FIXTURE_SITE / "feedpub.toml").read_text().replace("max_entries = 50", "max_entries = 3")
    )
    build_site(FIXTURE_SITE / "articles", tmp_path / "out", config)
    entries = read_feed(tmp_path / "out" / "all.atom").entries
    newest = sorted(PUBLISHED.values(), key=lambda a: a.published, reverse=True)[:3]
    assert [entry.id for entry in entries] == [article.id for article in newest]


def test_summary_mode_carries_no_body(tmp_path: Path) -> None:
    """With content = "summary", entries carry the summary only; an entry with a lead image
    carries its figure and summary as content, so no reader shows the caption instead."""
    config = tmp_path / "feedpub.toml"
    config.write_text((FIXTURE_SITE / "feedpub.toml").read_text().replace('"full"', '"summary"'))
    build_site(FIXTURE_SITE / "articles", tmp_path / "out", config)
    for name in ("all.atom", "all.rss"):
        entries = {e.title: e for e in read_feed(tmp_path / "out" / name).entries}
        assert entries["Zoned date"].summary == "Written at 09:15 in New York."
        assert "content" not in entries["Zoned date"]  # no image: the summary alone
        for title, entry in entries.items():
            article = next(a for a in SOURCES.values() if a.title == title)
            if article.image is None:
                assert "content" not in entry, title
                continue
            assert len(entry.content) == 1, title
            shown = lxml.html.fromstring(entry.content[0].value)
            assert shown.find(".//img").get("src") == article.image.url
            assert entry.summary in " ".join(shown.text_content().split())
            assert entry.summary != article.image.caption


def test_rights_icon_and_logo_where_configured(tmp_path: Path) -> None:
    """site.rights, icon and logo appear in Atom (rights and logo also in RSS)."""
    config = tmp_path / "feedpub.toml"
    config.write_text(
        (FIXTURE_SITE / "feedpub.toml")
        .read_text()
        .replace(
            "[site.author]",
            'rights = "© Example News"\nicon = "/favicon.png"\nlogo = "/logo.png"\n\n[site.author]',
        )
    )
    build_site(FIXTURE_SITE / "articles", tmp_path / "out", config)
    atom = read_feed(tmp_path / "out" / "all.atom").feed
    assert atom.rights == "© Example News"
    assert atom.icon == "https://news.example/favicon.png"
    assert atom.logo == "https://news.example/logo.png"
    channel = etree.parse(str(tmp_path / "out" / "all.rss")).getroot().find("channel")
    assert channel is not None
    assert channel.findtext("copyright") == "© Example News"
    assert channel.findtext("image/url") == "https://news.example/logo.png"
    assert channel.findtext("image/link") == "https://news.example/"


def test_rss_items_carry_the_updated_date(fixture_feeds: Path) -> None:
    """RSS has no updated date: items carry atom:updated, which readers take as updated."""
    entries = {e.title: e for e in read_feed(fixture_feeds / "all.rss").entries}
    assert utc(entries["Updated later"].updated_parsed) == datetime(2021, 3, 31, 12, 30, tzinfo=UTC)


def test_rss_description_is_escaped_as_html(tmp_path: Path) -> None:
    """A plain-text deck that mentions markup shows as written, not as markup, in RSS."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "deck.md").write_text(
        "---\ntitle: Deck\nsection: World\npublished: 2021-01-01\n"
        "subtitle: Use <script> tags & AT&amp;T with care\n---\nBody.\n"
    )
    build_site(articles, tmp_path / "out")
    item = etree.parse(str(tmp_path / "out" / "all.rss")).find("channel/item")
    assert item is not None
    assert item.findtext("description") == "Use &lt;script&gt; tags & AT&amp;amp;T with care"
    entry = read_feed(tmp_path / "out" / "all.rss").entries[0]
    assert "<script>" not in entry.summary
    atom = read_feed(tmp_path / "out" / "all.atom").entries[0]
    assert atom.summary == "Use <script> tags & AT&amp;T with care"


def test_character_references_cannot_bring_back_forbidden_characters(tmp_path: Path) -> None:
    """`&#x1b;` in Markdown renders to a character XML forbids: it is removed from the content."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "refs.md").write_text(
        "---\ntitle: Refs\nsection: World\npublished: 2021-01-01\n---\n"
        "escape &#x1b; and &#xFFFF; and &#11; gone, &amp; kept\n"
    )
    result = build_site(articles, tmp_path / "out")
    assert result.exit_code == 0
    for suffix in (".atom", ".rss"):
        entry = read_feed(tmp_path / "out" / f"all{suffix}").entries[0]
        assert "escape  and  and  gone, &amp; kept" in entry.content[0].value
