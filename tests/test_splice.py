"""Archive pages made from their last documents: only the entries whose files changed are
written anew, and the documents are byte for byte those a build that trusts nothing makes.

Each test builds a site whose archive pages hold a few entries each, changes some of its
articles, builds again with the cache, and compares every document with a `--no-cache`
build of the same articles into a fresh folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import build_site, documents, write_article

from feedpub import build, incremental, source, store
from feedpub.formats import xml
from feedpub.model import Article, Content, ContentMode

ARTICLES = 24
SECTIONS = ("World", "Business", "Science")
AUTHORS = ("Ana Ruiz", "Ben Cho")


@pytest.fixture(autouse=True)
def settled_at_once() -> Iterator[None]:
    """Trust a file's stat as soon as it is recorded (see tests/test_cache.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(incremental, "RACY_NS", 0)
        yield


@pytest.fixture
def written() -> Iterator[list[tuple[str, str, ContentMode]]]:
    """Every entry element written from an article this test: (format, source, mode)."""
    calls: list[tuple[str, str, ContentMode]] = []
    with pytest.MonkeyPatch.context() as patch:
        for renderer, name in ((xml.AtomRenderer, "atom"), (xml.RssRenderer, "rss")):

            def spy(
                self: xml._Renderer, article: Article, content: Content, *, full: bool,
                real: Callable[..., str] = renderer._entry, name: str = name,
            ) -> str:  # fmt: skip
                mode = ContentMode.FULL if full else ContentMode.SUMMARY
                calls.append((name, article.source, mode))
                return real(self, article, content, full=full)

            patch.setattr(renderer, "_entry", spy)
        yield calls


class Site:
    """Articles a day apart, in three sections, by two authors, archived five to a page."""

    def __init__(self, root: Path, groups: str = '"all", "sections"') -> None:
        self.root = root
        self.articles = root / "articles"
        self.config = root / "feedpub.toml"
        self.config.write_text(
            "[feeds]\nmax_entries = 5\n"
            f"[archives]\npage_size = 5\ngroups = [{groups}]\n"
        )  # fmt: skip
        self.updated: dict[int, str] = {}
        self.titles: dict[int, str] = {}
        self.topics: dict[int, str] = {}
        for number in range(ARTICLES):
            self.write(number)

    def name(self, number: int) -> str:
        return f"a{number:02d}.md"

    def write(self, number: int) -> None:
        lines = [
            f"title: {self.titles.get(number, f'Article {number}')}",
            f"date: 2024-01-{1 + number:02d}T08:00:00Z",
            f"section: {SECTIONS[number % len(SECTIONS)]}",
            f"author: {AUTHORS[number % len(AUTHORS)]}",
        ]
        if number in self.updated:
            lines.append(f"updated: {self.updated[number]}")
        if number in self.topics:
            lines.append(f"topics: [{self.topics[number]}]")
        write_article(self.articles, self.name(number), "\n".join(lines),
                      f"The body of article {number}. " * 8 + "\n")  # fmt: skip

    def build(self, out: Path, *extra: str) -> None:
        result = build_site(self.articles, out, self.config, *extra)
        assert result.exit_code == 0, result.output

    def matches_a_build_from_scratch(self, out: Path) -> dict[str, bytes]:
        """The documents of `out`, asserted equal to a --no-cache build's."""
        fresh = self.root / f"fresh-{len(list(self.root.glob('fresh-*')))}"
        self.build(fresh, "--no-cache")
        made, expected = documents(out), documents(fresh)
        assert made.keys() == expected.keys()
        for name, data in expected.items():
            assert made[name] == data, name
        return made


def _archived_entries(calls: list[tuple[str, str, ContentMode]]) -> set[str]:
    """The sources of the archive-page (summary mode) entries written anew."""
    return {source for _name, source, mode in calls if mode is ContentMode.SUMMARY}


def test_only_the_edited_articles_entries_are_written_anew(
    tmp_path: Path, written: list[tuple[str, str, ContentMode]]
) -> None:
    site, out = Site(tmp_path), tmp_path / "out"
    site.build(out)
    edited = {2, 7, 13}  # each on an archive page of "all" and of its section, in no feed
    for number in edited:
        site.titles[number] = f"Retitled {number}"
        site.write(number)
    written.clear()
    site.build(out)
    renewed = _archived_entries(written)
    assert renewed == {site.name(number) for number in edited}
    made = site.matches_a_build_from_scratch(out)
    for number in edited:
        assert any(f"Retitled {number}".encode() in data for data in made.values())


@pytest.mark.parametrize(
    ("when", "newest"),
    [
        ("2025-03-01T00:00:00Z", "2025-03-01T00:00:00Z"),  # later still
        ("2024-01-08T00:00:00Z", "2024-01-10T08:00:00Z"),  # back before article 9's
    ],
)
def test_a_page_dated_by_an_edited_entry_is_dated_anew(
    tmp_path: Path, when: str, newest: str
) -> None:
    """An entry's update that makes it its page's newest, or stops it being it (a date set
    later, then taken back): the page's own date is its entries' newest either way."""
    site, out = Site(tmp_path), tmp_path / "out"
    site.updated[6] = "2025-01-01T00:00:00Z"
    site.write(6)
    site.build(out)
    site.updated[6] = when
    site.write(6)
    site.build(out)
    made = site.matches_a_build_from_scratch(out)
    for name in ("archive/all/2.atom", "archive/all/2.rss"):  # articles 5 to 9
        head = made[name].decode().partition("<entry")[0].partition("<item>")[0]
        assert newest in head or _rfc822(newest) in head


@pytest.mark.parametrize(
    "change",
    ["retopic", "add", "delete", "rename", "many"],
)
def test_every_path_of_a_rerun_writes_the_bytes_of_a_build_from_scratch(
    tmp_path: Path, change: str
) -> None:
    """Edits together with a change that regroups (a topic, an article added, deleted or
    renamed), or with more edits than the quick path takes: the pages made from their last
    documents are still those a build from scratch writes."""
    site, out = Site(tmp_path), tmp_path / "out"
    site.build(out)
    for number in (1, 10, 16):
        site.titles[number] = f"Edited {number}"
        site.write(number)
    if change == "retopic":
        site.topics[4] = "Trade"
        site.write(4)
    elif change == "add":
        write_article(site.articles, "z-new.md",
                      "title: New\ndate: 2024-01-09T12:00:00Z\nsection: World")  # fmt: skip
    elif change == "delete":
        (site.articles / site.name(8)).unlink()
    elif change == "rename":
        (site.articles / site.name(8)).rename(site.articles / "renamed.md")
    else:
        for number in range(0, ARTICLES, 2):
            site.titles[number] = f"Edited {number}"
            site.write(number)
    site.build(out)
    site.matches_a_build_from_scratch(out)


def test_the_pages_of_authors_are_written_whole(
    tmp_path: Path, written: list[tuple[str, str, ContentMode]]
) -> None:
    """An author's archive page names its author from its entries (an Atom feed's author):
    it is rendered whole, and its bytes are still those of a build from scratch."""
    site, out = Site(tmp_path, '"all", "sections", "authors"'), tmp_path / "out"
    site.build(out)
    site.titles[3] = "Retitled 3"
    site.write(3)
    written.clear()
    site.build(out)
    renewed = _archived_entries(written)
    assert site.name(3) in renewed
    # The author's page that holds article 3 holds four other articles by the same author.
    assert len(renewed) == 5
    site.matches_a_build_from_scratch(out)


def _rfc822(moment: str) -> str:
    return format_datetime(datetime.fromisoformat(moment))


def _tamper(path: Path, old: bytes, new: bytes) -> None:
    """Change `path`'s bytes, keeping its size and its modification time."""
    data = path.read_bytes()
    assert old in data
    assert len(old) == len(new)
    info = path.stat()
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


# The page of articles 0-4 (newest first): the head's date is article 4's, 2024-01-05; the
# first "2024-01-04" is article 3's entry's.
TAMPERED = [
    (b"  </entry>\n", b"  </entrx>\n"),  # an entry's end lost
    (b"</feed>\n", b"</fee>\n\n"),  # the document's end
    (b'  <entry xml:base="', b'  <entri xml:base="'),  # an entry's start
    (b"<updated>2024-01-04", b"<updated>x024-01-04"),  # a date that is none, the latest
    (b"<updated>2024-01-04T08:00:00Z", b"<updated>9999-12-31T2300-0500"),  # beyond UTC's years
    (b"<updated>2024-01-04T08:00:00Z", b"<updated>2024-13-45T08:00:00Z"),  # no such day
]


@pytest.mark.parametrize(("old", "new"), TAMPERED)
def test_a_last_document_not_laid_out_as_written_is_rendered_whole(
    tmp_path: Path, old: bytes, new: bytes
) -> None:
    """A document changed behind the build's back, its size and time kept (so its stat
    says it is the last build's): where it is not laid out as feedpub writes documents,
    the page is rendered whole, from articles read for it then."""
    site, out = Site(tmp_path), tmp_path / "out"
    site.build(out)
    _tamper(out / "archive" / "all" / "1.atom", old, new)
    site.titles[2] = "Retitled 2"
    site.write(2)
    site.build(out)
    site.matches_a_build_from_scratch(out)


def test_a_page_rendered_whole_after_all_in_the_second_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RSS documents of a large build are rendered by a forked second process, a worker
    that may not start workers: the articles a page rendered whole after all needs are read
    and rendered in that process (here with every threshold at its lowest)."""
    monkeypatch.setattr(build, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(source, "PARALLEL_RENDER", 2)
    site, out = Site(tmp_path), tmp_path / "out"
    site.build(out, "--jobs", "2")
    _tamper(out / "archive" / "all" / "1.rss", b"    </item>\n", b"    </itex>\n")
    site.titles[2] = "Retitled 2"
    site.write(2)
    site.build(out, "--jobs", "2")
    site.matches_a_build_from_scratch(out)


def test_a_page_whose_entries_moved_is_rendered_whole(
    tmp_path: Path, written: list[tuple[str, str, ContentMode]]
) -> None:
    """The state says which entries each document was made from: a page whose entries are
    not those its last document was made from (an article deleted before them moved them
    by one) is rendered whole, and the others are made from their last documents."""
    site, out = Site(tmp_path), tmp_path / "out"
    site.build(out)
    (site.articles / site.name(8)).unlink()
    site.titles[2] = "Retitled 2"
    site.write(2)
    written.clear()
    site.build(out)
    renewed = _archived_entries(written)
    # The pages of "all" after the first moved, and of article 8's section ("Science":
    # 2, 5, 8, 11, ...); the first page of "all", and of the other sections, did not.
    made = documents(out)
    moved = {
        site.name(int(number))
        for name, data in made.items() if name.startswith("archive/all/")
        and not name.startswith("archive/all/1.")
        for number in re.findall(rb"<title>Article (\d+)</title>", data)
    }  # fmt: skip
    assert len(moved) > 10
    assert moved <= renewed
    assert renewed.isdisjoint(site.name(number) for number in (0, 1, 3, 4))
    assert site.name(2) in renewed
    site.matches_a_build_from_scratch(out)


def test_a_last_document_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes a page is made from are those its new bytes are compared with: the file is
    read once, not again to tell whether it changed."""
    site, out = Site(tmp_path), tmp_path / "out"
    site.build(out)
    site.titles[2] = "Retitled 2"
    site.write(2)
    reads: list[str] = []
    real = store._read_file

    def counted(path: Path, limit: int = -1) -> bytes | None:
        reads.append(Path(path).as_posix())
        return real(path, limit)

    monkeypatch.setattr(store, "_read_file", counted)
    site.build(out)
    monkeypatch.undo()
    pages = [name for name in reads if name.startswith(f"{out.as_posix()}/archive/")]
    assert f"{out.as_posix()}/archive/all/1.atom" in pages  # made from its last document
    assert len(pages) == len(set(pages))
    site.matches_a_build_from_scratch(out)
