"""RFC 5005 archived feeds: every article reachable from its group's feed, page by page.

The chain is walked as an archiver would, with feedparser reading each document
and nothing of feedpub's: from the feed's `prev-archive` link down to the
first page, checking `fh:archive`, `current`, `next-archive` and `prev-archive`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_site, read_feed, write_article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

FH = "{http://purl.org/syndication/history/1.0}"
FEEDS = "https://news.example/feeds/"
SECTIONS = ["World", "Business"]


def config(folder: Path, extra: str = "") -> Path:
    path = folder / "feedpub.toml"
    path.write_text(
        '[site]\nurl = "https://news.example/"\n[feeds]\nmax_entries = 5\n'
        f"[archives]\npage_size = 3\n{extra}"
    )
    return path


def article(folder: Path, number: int, title: str | None = None) -> None:
    write_article(
        folder, f"a{number:03d}.md",
        f"title: {title or f'Article {number}'}\nsection: {SECTIONS[number % 2]}\n"
        f"published: 2021-01-01T{number // 60:02d}:{number % 60:02d}:00Z\nsubtitle: Deck {number}",
    )  # fmt: skip


def site(tmp_path: Path, count: int) -> tuple[Path, Path]:
    articles = tmp_path / "articles"
    for number in range(count):
        article(articles, number)
    return articles, config(tmp_path)


def walk(out: Path, feed: str) -> list[list[str]]:
    """The archive pages reached from `feed`, newest first, as lists of entry titles; checks
    every page's markers and links on the way."""
    current = FEEDS + feed
    parsed = read_feed(out / feed)
    links = {link.rel: link.href for link in parsed.feed.links}
    assert "current" not in links
    assert "next-archive" not in links
    pages: list[list[str]] = []
    seen = set()
    newer = None
    address = links.get("prev-archive")
    while address:
        assert address not in seen, "the chain has a cycle"
        seen.add(address)
        path = out / address.removeprefix(FEEDS)
        page = read_feed(path)
        found = {link.rel: link.href for link in page.feed.links}
        assert found["current"] == current
        assert found["self"] == address
        assert found.get("next-archive") == newer
        root = etree.parse(str(path)).getroot()
        assert root.find(f".//{FH}archive") is not None
        pages.append([entry.title for entry in page.entries])
        newer = address
        address = found.get("prev-archive")
    return pages


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_every_article_is_reachable_through_the_archive_chain(tmp_path: Path, suffix: str) -> None:
    """From each archived group's feed, prev-archive links lead down to the first article:
    the feed's entries and the pages' entries together are every article of the group, and
    every page holds at most page_size entries, newest first."""
    articles, settings_file = site(tmp_path, 11)
    result = build_site(articles, tmp_path / "feeds", settings_file)
    assert result.exit_code == 0, result.output
    out = tmp_path / "feeds"
    for feed, members in (
        (f"all{suffix}", list(range(11))),
        (f"sections/world{suffix}", [n for n in range(11) if n % 2 == 0]),
        (f"sections/business{suffix}", [n for n in range(11) if n % 2 == 1]),
    ):
        pages = walk(out, feed)
        assert len(pages) == len(members) // 3
        in_feed = [entry.title for entry in read_feed(out / feed).entries]
        reached = set(in_feed) | {title for page in pages for title in page}
        assert reached == {f"Article {n}" for n in members}
        for page in pages:
            assert len(page) == 3
            numbers = [int(title.split()[1]) for title in page]
            assert numbers == sorted(numbers, reverse=True)
        oldest = [int(t.split()[1]) for t in pages[-1]] if pages else []
        assert min(members) in oldest or not pages


def test_topics_and_json_have_no_archive_and_disabling_removes_every_page(tmp_path: Path) -> None:
    """Only the kinds archives.groups names get pages; JSON links none; enabled = false writes
    none and links none, and the pages written before are removed."""
    articles, settings_file = site(tmp_path, 7)
    out = tmp_path / "feeds"
    assert build_site(articles, out, settings_file).exit_code == 0
    assert sorted(p.relative_to(out).as_posix() for p in (out / "archive").rglob("*")
                  if p.is_file()) == [
        "archive/all/1.atom", "archive/all/1.rss", "archive/all/2.atom", "archive/all/2.rss",
        "archive/sections/business/1.atom", "archive/sections/business/1.rss",
        "archive/sections/world/1.atom", "archive/sections/world/1.rss",
    ]  # fmt: skip
    assert "prev-archive" not in (out / "all.json").read_text()
    config(tmp_path, "enabled = false\n")
    result = build_site(articles, out, settings_file)
    assert result.exit_code == 0, result.output
    assert not (out / "archive").exists()
    assert "prev-archive" not in (out / "all.atom").read_text()


def test_archive_pages_carry_summaries_by_default_and_full_content_when_asked(
    tmp_path: Path,
) -> None:
    """archives.content: "summary" (the default) leaves the body out of archive pages."""
    articles = tmp_path / "articles"
    for number in range(4):
        write_article(articles, f"a{number}.md", f"title: A{number}\nsection: S\n"
                      f"published: 2021-01-0{number + 1}\nsubtitle: Deck",
                      "The body itself.\n")  # fmt: skip
    out = tmp_path / "feeds"
    assert build_site(articles, out, config(tmp_path)).exit_code == 0
    assert "The body itself." not in (out / "archive" / "all" / "1.atom").read_text()
    assert "The body itself." in (out / "all.atom").read_text()
    assert build_site(articles, out, config(tmp_path, 'content = "full"\n')).exit_code == 0
    page = read_feed(out / "archive" / "all" / "1.atom")
    assert all("The body itself." in entry.content[0].value for entry in page.entries)


def pages_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "archive").rglob("*")
            if p.is_file()}  # fmt: skip


def entries_of(data: bytes) -> list[str]:
    import feedparser

    return [entry.id for entry in feedparser.parse(data).entries]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=st.integers(min_value=3, max_value=14), added=st.integers(min_value=1, max_value=4))
def test_new_articles_never_change_an_existing_pages_entries(
    tmp_path_factory: pytest.TempPathFactory, start: int, added: int
) -> None:
    """Articles newer than all never change the entries of a page that existed; only the
    newest existing page may change, and only to gain its next-archive link."""
    tmp_path = tmp_path_factory.mktemp("new")
    articles, settings_file = site(tmp_path, start)
    out = tmp_path / "feeds"
    assert build_site(articles, out, settings_file).exit_code == 0
    before = pages_of(out)
    for number in range(start, start + added):
        article(articles, number)
    assert build_site(articles, out, settings_file).exit_code == 0
    after = pages_of(out)
    assert set(before) <= set(after)
    changed = [name for name, data in before.items() if after[name] != data]
    for name, data in before.items():
        assert entries_of(after[name]) == entries_of(data), name
    for name in changed:  # at most the newest page of each group and format, gaining a link
        folder, file = name.rsplit("/", 1)
        number, suffix = file.split(".")
        assert f"{folder}/{int(number) + 1}.{suffix}" not in before, name
        assert f"{folder}/{int(number) + 1}.{suffix}" in after, name
        assert b'rel="next-archive"' in after[name]
        assert b'rel="next-archive"' not in before[name]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=st.integers(min_value=3, max_value=14), data=st.data())
def test_an_edit_changes_only_the_pages_that_hold_the_article(
    tmp_path_factory: pytest.TempPathFactory, count: int, data: st.DataObject
) -> None:
    """Editing one article's title rewrites exactly the archive pages that hold it."""
    tmp_path = tmp_path_factory.mktemp("edit")
    articles, settings_file = site(tmp_path, count)
    out = tmp_path / "feeds"
    assert build_site(articles, out, settings_file).exit_code == 0
    before = pages_of(out)
    edited = data.draw(st.integers(min_value=0, max_value=count - 1))
    article(articles, edited, title=f"Edited {edited}")
    assert build_site(articles, out, settings_file).exit_code == 0
    after = pages_of(out)
    assert sorted(after) == sorted(before)
    changed = {name for name in before if after[name] != before[name]}
    holding = {name for name, data_ in before.items()
               if f"Article {edited}<".encode() in data_}  # fmt: skip
    assert changed == holding


def test_archive_pages_are_valid_atom_and_rss(tmp_path: Path, atom_schema: etree.RelaxNG) -> None:
    """Every archive page validates against RFC 4287's schema (Atom) and reads cleanly (RSS)."""
    articles, settings_file = site(tmp_path, 9)
    out = tmp_path / "feeds"
    assert build_site(articles, out, settings_file).exit_code == 0
    atoms = sorted((out / "archive").rglob("*.atom"))
    assert atoms
    for path in atoms:
        assert atom_schema.validate(etree.parse(str(path))), f"{path}: {atom_schema.error_log}"
    for path in sorted((out / "archive").rglob("*.rss")):
        assert read_feed(path).version == "rss20"


def test_a_renderer_holds_the_entries_of_a_few_pages_not_of_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article is on one archive page of the all-articles feed and one of its section's:
    each entry a renderer builds is kept until its last page is rendered, so the pages are
    rendered by date across groups, and only each group's page in progress is held."""
    from feedpub.formats import xml

    sections = 6
    articles = tmp_path / "articles"
    for number in range(600):
        write_article(
            articles, f"a{number:03d}.md",
            f"title: Article {number}\nsection: S{number % sections}\n"
            f"published: 2021-01-01T{number // 60:02d}:{number % 60:02d}:00Z\nsubtitle: Deck",
        )  # fmt: skip
    page_size = 5
    path = tmp_path / "feedpub.toml"
    path.write_text(f'[site]\nurl = "https://news.example/"\n[feeds]\nmax_entries = 5\n'
                    f"[archives]\npage_size = {page_size}\n")  # fmt: skip
    held: list[int] = []
    render = xml._Renderer.render

    def counting(self: xml._Renderer, page: object) -> bytes:
        data = render(self, page)  # type: ignore[arg-type]
        held.append(len(self._entries))
        return data

    monkeypatch.setattr(xml._Renderer, "render", counting)
    assert build_site(articles, tmp_path / "feeds", path, "-q", "--jobs", "1").exit_code == 0
    assert len(held) > 2 * (600 // page_size), "every archive page was rendered"
    groups = 1 + sections
    assert max(held) <= 2 * groups * page_size, max(held)


def test_archived_articles_are_made_from_their_cards_once_and_not_all_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The articles only archive pages hold are made from their cards as the pages ask for
    them: each once in a build (here one process renders every page), and each forgotten
    once the last page that holds it is rendered."""
    import feedpub.source

    sections, count, page_size = 6, 600, 5
    articles = tmp_path / "articles"
    for number in range(count):
        write_article(
            articles, f"a{number:03d}.md",
            f"title: Article {number}\nsection: S{number % sections}\n"
            f"published: 2021-01-01T{number // 60:02d}:{number % 60:02d}:00Z\nsubtitle: Deck",
        )  # fmt: skip
    path = tmp_path / "feedpub.toml"
    path.write_text(f'[site]\nurl = "https://news.example/"\n[feeds]\nmax_entries = 5\n'
                    f"[archives]\npage_size = {page_size}\n")  # fmt: skip
    made: list[str] = []
    held: list[int] = []
    carded, release = feedpub.source.Archived.carded, feedpub.source.Archived.release

    def making(self: feedpub.source.Archived, source: str) -> object:
        if source not in self._made:
            made.append(source)
        return carded(self, source)

    def releasing(self: feedpub.source.Archived, page: object) -> None:
        release(self, page)  # type: ignore[arg-type]
        held.append(len(self._made))

    monkeypatch.setattr(feedpub.source.Archived, "carded", making)
    monkeypatch.setattr(feedpub.source.Archived, "release", releasing)
    out = tmp_path / "feeds"
    assert build_site(articles, out, path, "-q", "--jobs", "1").exit_code == 0
    in_feeds = {entry for feed in out.glob("*/*.atom") for entry in entries_of(feed.read_bytes())}
    in_feeds |= set(entries_of((out / "all.atom").read_bytes()))
    assert len(made) == len(set(made)) == count - len(in_feeds)
    assert max(held) <= 2 * (1 + sections) * page_size, max(held)
    assert held[-1] == 0
    none = tmp_path / "feeds-none"
    assert build_site(articles, none, path, "-q", "--no-cache").exit_code == 0
    assert pages_of(out) == pages_of(none)
