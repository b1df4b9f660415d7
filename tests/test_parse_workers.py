"""Articles parsed by worker processes give what one process gives, whoever parses a chunk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import write_article

from feedpub import load
from feedpub.config import default_config
from feedpub.state import Listing, article_record, unpack_card

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make_site(articles: Path) -> None:
    """Good, warned, broken, expiring and unreadable articles, in several chunks."""
    for number in range(23):
        write_article(
            articles, f"a{number:02d}.md",
            f"title: Article {number}\nsection: S{number % 2}\ntopics: [T{number % 3}]\n"
            f"published: 2021-01-{number + 1:02d}T12:00:00Z\nauthor: [Ann, Bo]",
            f"Body {number} with a [link](/x/).\n",
        )  # fmt: skip
    write_article(articles, "warned.md", "title: W\nsection: S0\npublished: 2021-03-01\ntittle: x")
    write_article(articles, "broken.md", "title: Broken\nsection: S0\npublished: someday")
    write_article(articles, "expiring.md", "title: E\nsection: S1\npublished: 2021-03-02\n"
                  "expires: 2030-01-01\nsubtitle: A deck")  # fmt: skip
    (articles / "binary.md").write_bytes(b"\x00\x01\x02" * 50)


def seen(loaded: load.Loaded) -> dict[str, Any]:
    """Everything a build takes from a load, as plain values."""

    def plain(item: Any) -> Any:
        if isinstance(item, Listing):
            card = None if item.card is None else unpack_card(item.card)  # packings may differ
            return ("listing", item.record(), card, item.published)
        return ("article", article_record(item), item.published, item.expires)

    return {
        "articles": [plain(item) for item in loaded.articles],
        "problems": [problem.record() for problem in loaded.problems],
        "broken": loaded.broken,
        "fresh": {
            key: (cached.stat, cached.listing.record()) for key, cached in loaded.fresh.items()
        },
        "counts": (loaded.files, loaded.parsed),
    }


@pytest.mark.parametrize("cards", [True, False])
@pytest.mark.parametrize("parent_parses", [True, False])
@pytest.mark.parametrize("whole_up_to", [load.WHOLE_UP_TO, 0])
def test_workers_give_what_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cards: bool, parent_parses: bool,
    whole_up_to: int,
) -> None:  # fmt: skip
    """Parsed by two processes (this one and a worker, or workers only), in chunks of two
    files, the articles, their listings and cards, the problems (lines, messages), the
    broken files and the cache entries are those of one process, in the same order."""
    articles = tmp_path / "articles"
    make_site(articles)
    config = default_config()
    monkeypatch.setattr(load, "WHOLE_UP_TO", whole_up_to)
    single = load.load_articles(articles, config, jobs=1, now=NOW, cards=cards)
    monkeypatch.setattr(load, "PARALLEL_FROM", 2)
    monkeypatch.setattr(load, "MAX_CHUNK", 2)
    monkeypatch.setattr(load, "PARENT_PARSES", parent_parses)
    several = load.load_articles(articles, config, jobs=2, now=NOW, cards=cards)
    assert seen(several) == seen(single)
    assert len(single.problems) >= 3  # the warning, the bad date, the binary file
    assert any(type(item) is Listing and item.card for item in single.articles) == cards


def test_an_unchanged_file_keeps_its_cached_parse_in_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose stat changed but whose bytes did not is not parsed again by a worker."""
    articles = tmp_path / "articles"
    make_site(articles)
    config = default_config()
    first = load.load_articles(articles, config, jobs=1, now=NOW, cards=True)
    touched = {
        key: load.Cached(cached.stat._replace(mtime_ns=1), cached.listing)
        for key, cached in first.fresh.items()
    }
    monkeypatch.setattr(load, "PARALLEL_FROM", 2)
    monkeypatch.setattr(load, "MAX_CHUNK", 3)
    monkeypatch.setattr(load, "PARENT_PARSES", False)
    again = load.load_articles(articles, config, cache=touched, jobs=2, now=NOW, cards=True)
    assert again.parsed == first.parsed - len(touched)
    assert seen(again)["fresh"] == seen(first)["fresh"]


@pytest.mark.parametrize("length", [0, 1, 4095, 65_536, 65_537, 300_000])
@pytest.mark.parametrize("told", ["exact", "less", "more", "none"])
def test_a_file_is_read_whole_whatever_size_its_stat_gave(
    tmp_path: Path, length: int, told: str
) -> None:
    """The stat may be out of date by the time the file is read: it grew or shrank."""
    data = bytes(range(256)) * (length // 256) + b"x" * (length % 256)
    path = tmp_path / "a.md"
    path.write_bytes(data)
    size = {"exact": length, "less": length // 3, "more": length * 2 + 10, "none": 0}[told]
    assert load.read_bytes(path, size) == data
    assert load.read_bytes(str(path), size) == data


def test_reading_what_is_not_a_file_raises_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        load.read_bytes(tmp_path, 10)
    with pytest.raises(FileNotFoundError):
        load.read_bytes(tmp_path / "missing.md")
