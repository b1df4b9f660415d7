"""The templated Atom and RSS renderer writes the bytes feedgen's tree wrote, the JSON
Feed renderer (each item serialised once a build) the bytes it wrote before, and the
templated OPML renderer the bytes lxml's tree wrote.

``feedgen_reference`` is the feedgen 1.0.0 renderer feedpub used before its
documents were written from templates; ``jsonfeed_reference`` the JSON Feed
renderer that serialised each document whole; ``indexes_reference`` the OPML
renderer that built an lxml tree. Both render the same pages here: whole
builds of the fixture site and of a generated archive (every document of the
build, archive pages included, in both content modes), and pages of generated
articles whose every text is drawn from the characters XML must escape, with
every optional field present or absent.
"""

from __future__ import annotations

import importlib.util
import string
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedgen_reference
import indexes_reference
import jsonfeed_reference
import pytest
from conftest import FIXTURE_SITE, PROJECT, build_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.config import load_config
from feedpub.formats import Shared, indexes, jsonfeed, xml
from feedpub.model import Article, Content, ContentMode, Group, GroupKind, Image, Page, Person

SUFFIXES = {".atom", ".rss", ".json", ".opml"}
RENDERERS = {
    "atom": (xml.AtomRenderer, feedgen_reference.AtomRenderer),
    "rss": (xml.RssRenderer, feedgen_reference.RssRenderer),
    "json": (jsonfeed.JsonRenderer, jsonfeed_reference.JsonRenderer),
}


def _build_twice(tmp_path: Path, articles: Path, config: Path,
                 monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:  # fmt: skip
    templated = tmp_path / "templated"
    assert build_site(articles, templated, config, "-q").exit_code == 0
    with monkeypatch.context() as patch:
        patch.setattr(xml, "AtomRenderer", feedgen_reference.AtomRenderer)
        patch.setattr(xml, "RssRenderer", feedgen_reference.RssRenderer)
        patch.setattr(jsonfeed, "JsonRenderer", jsonfeed_reference.JsonRenderer)
        patch.setattr(indexes, "OpmlRenderer", indexes_reference.OpmlRenderer)
        reference = tmp_path / "reference"
        assert build_site(articles, reference, config, "-q").exit_code == 0
    return templated, reference


def _same_documents(templated: Path, reference: Path) -> int:
    names = sorted(
        path.relative_to(reference) for path in reference.rglob("*")
        if path.suffix in SUFFIXES
    )  # fmt: skip
    assert names == sorted(
        path.relative_to(templated) for path in templated.rglob("*")
        if path.suffix in SUFFIXES
    )  # fmt: skip
    for name in names:
        assert (templated / name).read_bytes() == (reference / name).read_bytes(), name
    return len(names)


@pytest.mark.parametrize("content", ["full", "summary"])
def test_fixture_site_documents_are_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    config = tmp_path / "feedpub.toml"
    text = (FIXTURE_SITE / "feedpub.toml").read_text()
    text = text.replace('content = "full"', f'content = "{content}"')
    text += (
        '\n[archives]\npage_size = 2\ngroups = ["all", "sections", "topics", "authors"]\n'
        f'content = "{content}"\n'
    )
    config.write_text(text)
    templated, reference = _build_twice(tmp_path, FIXTURE_SITE / "articles", config, monkeypatch)
    archive_pages = list((templated / "archive").rglob("*.atom"))
    assert archive_pages, "the configuration writes archive pages"
    assert _same_documents(templated, reference) > 20


def test_generated_archive_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("corpus", PROJECT / "benchmarks" / "corpus.py")
    assert spec is not None
    assert spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    sys.modules["corpus"] = corpus
    spec.loader.exec_module(corpus)
    articles = tmp_path / "corpus"
    corpus.generate(articles, 200)
    config = tmp_path / "feedpub.toml"
    config.write_text('[site]\nurl = "https://news.example/"\n[archives]\npage_size = 10\n')
    templated, reference = _build_twice(tmp_path, articles, config, monkeypatch)
    assert len(list((templated / "archive").rglob("*.rss"))) > 10
    _same_documents(templated, reference)


# Text whose every character XML or HTML treats specially, plus ordinary letters.
PIECE = st.sampled_from([*list("&<>\"'\t\n\r ;#éあ😀]xY"), "&amp;", "&#1;", "]]>"])
TRICKY = st.lists(PIECE, max_size=10).map("".join)
WORD = st.text(alphabet=string.ascii_letters + "é &<", min_size=1, max_size=10).filter(
    lambda text: text.strip() != ""
)
URL = st.builds(lambda path: "https://news.example/" + path,
                st.text(alphabet=string.ascii_lowercase + "&\"'<>-/", max_size=8))  # fmt: skip
PERSON = st.builds(Person, WORD, st.none() | st.just("a&b@news.example"), st.none() | URL)
IMAGE = st.builds(
    Image,
    URL,
    st.none() | TRICKY,
    st.none() | TRICKY,
    st.none() | st.sampled_from(["image/jpeg", ""]),
    st.none() | st.integers(0, 10**6),
)
WHEN = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))


@st.composite
def articles(draw: st.DrawFn, number: int) -> tuple[Article, Content]:
    published = draw(WHEN)
    article = Article(
        path=f"a{number}.md", id=f"tag:news.example,2021:{number}&x", slug=f"a{number}",
        title=draw(WORD), section=draw(WORD), topics=tuple(draw(st.lists(WORD, max_size=3))),
        published=published, updated=published + timedelta(seconds=draw(st.integers(0, 10**6))),
        url=draw(URL), authors=tuple(draw(st.lists(PERSON, max_size=3))), body="",
        subtitle=draw(st.none() | TRICKY), image=draw(st.none() | IMAGE), source=f"a{number}.md",
    )  # fmt: skip
    content = Content(draw(TRICKY), draw(st.none() | TRICKY))
    return article, content


@st.composite
def pages(draw: st.DrawFn) -> tuple[Shared, Page, str]:
    branded = (
        'rights = "© <News> & co"\nlogo = "https://news.example/l.png"\n'
        'icon = "https://news.example/i.png"\n'
    )
    extra = draw(st.sampled_from(["", branded, 'language = "ja"\n']))
    hubs = draw(st.sampled_from(["", '[websub]\nhubs = ["https://hub.example/a?b=1&c=2"]\n']))
    config = load_config(f'[site]\nurl = "https://news.example/"\ntitle = "News"\n{extra}{hubs}')
    drawn = [draw(articles(number)) for number in range(draw(st.integers(0, 4)))]
    kind = draw(st.sampled_from([GroupKind.ALL, GroupKind.AUTHOR, GroupKind.TOPIC]))
    entries = tuple(article for article, _ in drawn)
    group = Group(kind, draw(WORD), "a", "authors/a", "https://news.example/a&b/", entries,
                  len(entries))  # fmt: skip
    links = tuple(draw(st.lists(st.sampled_from([("current", "all.atom"),
                                                 ("prev-archive", "archive/all/1.atom")]),
                                max_size=2, unique=True)))  # fmt: skip
    format_name = draw(st.sampled_from(sorted(RENDERERS)))
    page = Page(group, format_name, f"authors/a.{format_name}", entries,
                draw(st.sampled_from(ContentMode)), links, draw(st.booleans()))  # fmt: skip
    shared = Shared(config, {article.source: content for article, content in drawn},
                    {article.source: article for article in entries})  # fmt: skip
    return shared, page, format_name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_generated_pages_are_byte_identical(drawn: tuple[Shared, Page, str]) -> None:
    shared, page, format_name = drawn
    ours, theirs = RENDERERS[format_name]
    assert ours(shared).render(page) == theirs(shared).render(page)


@st.composite
def indexed(draw: st.DrawFn) -> Shared:
    """A build's groups of every kind, named with text XML must escape, for the OPML index."""
    formats = draw(st.sampled_from(['["atom"]', '["json", "atom"]', '["rss", "json"]']))
    config = load_config(f'[site]\nurl = "https://news.example/"\n[feeds]\nformats = {formats}\n')
    owner = Person(draw(st.sampled_from(["", "Ed"]) | TRICKY))
    config = replace(config, site=replace(config.site, title=draw(TRICKY), author=owner))
    drawn = [draw(articles(number)) for number in range(draw(st.integers(0, 3)))]
    entries = tuple(article for article, _ in drawn)
    groups = []
    for number in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(GroupKind))
        held = tuple(draw(st.lists(st.sampled_from(entries), max_size=3))) if entries else ()
        groups.append(Group(kind, draw(TRICKY) or "x", f"g{number}", f"g/{number}",
                            draw(URL), held, len(held)))  # fmt: skip
    return Shared(config, {article.source: content for article, content in drawn},
                  {article.source: article for article in entries}, tuple(groups))  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(indexed())
def test_generated_opml_is_byte_identical(shared: Shared) -> None:
    page = Page(Group(GroupKind.ALL, "All", "all", "all", "https://news.example/", (), 0),
                "opml", "index.opml", (), ContentMode.FULL)  # fmt: skip
    ours = indexes.OpmlRenderer(shared).render(page)
    assert ours == indexes_reference.OpmlRenderer(shared).render(page)


def test_an_entry_is_written_once_for_every_page_that_holds_it() -> None:
    """Two pages holding the same article carry the same bytes for its entry, written once."""
    config = load_config('[site]\nurl = "https://news.example/"\n')
    when = datetime(2021, 4, 1, tzinfo=UTC)
    article = Article("a.md", "tag:news.example,2021:a", "a", "A", "World", (), when, when,
                      "https://news.example/a/", (Person("Jane"),), "", source="a.md")  # fmt: skip
    group = Group(GroupKind.ALL, "All", "all", "all", "https://news.example/", (article,), 1)
    shared = Shared(config, {"a.md": Content("Sum", "<p>Body</p>")}, {"a.md": article})
    first = Page(group, "atom", "all.atom", (article,), ContentMode.FULL)
    second = replace(first, path="archive/all/1.atom", archive=True)
    renderer = xml.AtomRenderer(replace(shared, uses={"atom": {ContentMode.FULL: {"a.md": 2}}}))
    one, two = renderer.render(first), renderer.render(second)
    entry = one[one.index(b"  <entry") : one.index(b"</feed>")]
    assert entry in two
    assert b"&lt;p&gt;Body&lt;/p&gt;" in entry
    assert not renderer._entries, "forgotten after its last page"


def test_each_format_counts_the_pages_holding_each_entry_by_content_mode() -> None:
    """The counts renderers count down: per format, per content mode, per article."""
    from feedpub.formats import uses_of

    when = datetime(2021, 4, 1, tzinfo=UTC)
    a, b = (
        Article(f"{name}.md", f"tag:x,2021:{name}", name, name.upper(), "World", (), when, when,
                f"https://news.example/{name}/", (Person("Jane"),), "", source=f"{name}.md")
        for name in "ab"
    )  # fmt: skip
    group = Group(GroupKind.ALL, "All", "all", "all", "https://news.example/", (a, b), 2)
    feed = Page(group, "atom", "all.atom", (a, b), ContentMode.FULL)
    pages = [
        feed, replace(feed, format="rss", path="all.rss", entries=(a,)),
        replace(feed, path="archive/all/1.atom", entries=(a,), archive=True,
                content=ContentMode.SUMMARY),
        replace(feed, path="archive/all/2.atom", entries=(a, b), archive=True,
                content=ContentMode.SUMMARY),
    ]  # fmt: skip
    assert uses_of(pages) == {
        "atom": {ContentMode.FULL: {"a.md": 1, "b.md": 1},
                 ContentMode.SUMMARY: {"a.md": 2, "b.md": 1}},
        "rss": {ContentMode.FULL: {"a.md": 1}},
    }  # fmt: skip
