"""The cards log: archive pages rewritten from the cards earlier builds made, never from a
card whose file has changed, and the same bytes as a build without any cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import build_site, documents, write_article

import feedpub.source
from feedpub.cards import CARDS_FILE, LOG_SLACK, Cards, card_digest
from feedpub.state import pack_card, unpack_card

SECTIONS = ["World", "Business"]


def _config(folder: Path) -> Path:
    path = folder / "feedpub.toml"
    path.write_text(
        '[site]\nurl = "https://news.example/"\n[feeds]\nmax_entries = 4\n'
        "[archives]\npage_size = 3\n"
    )
    return path


def _article(folder: Path, number: int, body: str = "") -> None:
    """An article without a deck: its archive summary is the start of its body."""
    write_article(
        folder, f"a{number:03d}.md",
        f"title: Article {number}\nsection: {SECTIONS[number % 2]}\n"
        f"published: 2021-01-01T{number // 60:02d}:{number % 60:02d}:00Z",
        body or f"The *body* of article {number}, with [a link](/x/) & more.\n",
    )  # fmt: skip


def _draft(folder: Path) -> None:
    """A draft: no build places it without grouping the whole archive again."""
    write_article(
        folder, "draft.md",
        "title: A draft\nsection: World\npublished: 2021-06-01T00:00:00Z\ndraft: true",
    )  # fmt: skip


def _same_as_without_cache(tmp_path: Path, articles: Path, out: Path, config: Path) -> None:
    fresh = tmp_path / "fresh"
    assert build_site(articles, fresh, config, "--no-cache", "-q").exit_code == 0
    assert documents(out) == documents(fresh)


def _file_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources the build reads again from their files for their whole article."""
    asked: list[str] = []
    real = feedpub.source.read_articles

    def recording(root, config, listed, **kwargs):  # type: ignore[no-untyped-def]
        asked.extend(listing.source for listing in listed)
        return real(root, config, listed, **kwargs)

    monkeypatch.setattr(feedpub.source, "read_articles", recording)
    return asked


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """:func:`_file_reads`, with the log used for any number of wanted cards."""
    monkeypatch.setattr(feedpub.source, "CARD_LOG_FROM", 1)  # these sites are small
    return _file_reads(monkeypatch)


def test_archive_pages_are_rewritten_from_cards_without_reading_their_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, out, config = tmp_path / "articles", tmp_path / "feeds", _config(tmp_path)
    for number in range(20):
        _article(articles, number)
    assert build_site(articles, out, config, "-q").exit_code == 0
    assert (out / CARDS_FILE).is_file()
    asked = _reads(monkeypatch)
    # A new article regroups everything; an edit to an old one rewrites the pages holding it.
    _article(articles, 20)
    _article(articles, 1, "A new first paragraph for article 1.\n")
    before = documents(out)
    assert build_site(articles, out, config, "-q").exit_code == 0
    changed = [name for name, data in documents(out).items() if before.get(name) != data]
    assert any(name.startswith("archive/") for name in changed)
    assert asked == [], "archived articles were read again although their cards were kept"
    assert "A new first paragraph" in (out / "archive/sections/business/1.atom").read_text()
    _same_as_without_cache(tmp_path, articles, out, config)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "folder"])
def test_a_damaged_or_missing_log_costs_reads_never_a_wrong_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    articles, out, config = tmp_path / "articles", tmp_path / "feeds", _config(tmp_path)
    for number in range(12):
        _article(articles, number)
    assert build_site(articles, out, config, "-q").exit_code == 0
    log = out / CARDS_FILE
    data = log.read_bytes()
    log.unlink()
    if damage == "garbage":
        log.write_bytes(os.urandom(len(data)))
    elif damage == "truncated":
        log.write_bytes(data[: len(data) // 2])
    else:
        log.mkdir()
    # Every archive page to render whole (none made from its last document): each wants
    # every archived article it holds.
    shutil.rmtree(out / "archive")
    asked = _reads(monkeypatch)
    _article(articles, 12)
    _article(articles, 1, "A new first paragraph for article 1.\n")
    _draft(articles)  # the whole archive grouped again: its listings read from the cache
    result = build_site(articles, out, config, "-q")
    if damage == "folder":  # as for the parse cache: named, and the documents are whole
        assert result.exit_code == 5
        assert CARDS_FILE in result.stderr
        _same_as_without_cache(tmp_path, articles, out, config)
        log.rmdir()
        result = build_site(articles, out, config, "-q")
    assert result.exit_code == 0
    assert asked, "without a usable log, the archived articles are read from their files"
    _same_as_without_cache(tmp_path, articles, out, config)


def test_a_card_is_used_only_for_the_file_version_it_was_made_from(tmp_path: Path) -> None:
    card = pack_card(("a.md", "x", "digest-1", "summary"))
    cards = Cards(tmp_path, "print")
    cards.save({"a.md": card}, {"a.md": "digest-1"})
    again = Cards(tmp_path, "print")
    assert again.get("a.md", "digest-1") == card
    assert again.get("a.md", "digest-2") is None
    assert Cards(tmp_path, "another config").get("a.md", "digest-1") is None
    assert Cards(tmp_path, "print", trusted=False).get("a.md", "digest-1") is None


def test_the_log_is_compacted_when_most_of_it_is_dead(tmp_path: Path) -> None:
    """Appending each build's cards, the log never grows much past twice the live ones."""
    sizes = []
    for round_ in range(60):
        cards = Cards(tmp_path, "print")
        made = {f"a{n}.md": pack_card((f"a{n}.md", f"d{round_}", f"summary {round_} " * 20))
                for n in range(100)}  # fmt: skip
        cards.save(made, {source: card_digest(card) for source, card in made.items()})
        sizes.append((tmp_path / CARDS_FILE).stat().st_size)
    one = sizes[0]
    assert max(sizes) <= 2 * one + LOG_SLACK + one
    assert min(sizes[1:]) < sizes[0] * 2, "the log was rewritten along the way"
    log = Cards(tmp_path, "print")
    found = log.get("a7.md", "d59")
    assert found is not None
    assert unpack_card(found) == ("a7.md", "d59", "summary 59 " * 20)
    assert log.get("a7.md", "d58") is None


def test_a_few_archived_articles_are_read_from_their_files_not_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log is read whole: for the handful of entries one edit's pages need, reading their
    files costs less, and the log is left unread."""
    import feedpub.cards

    articles, out, config = tmp_path / "articles", tmp_path / "feeds", _config(tmp_path)
    for number in range(20):
        _article(articles, number)
    assert build_site(articles, out, config, "-q").exit_code == 0
    loads: list[Path] = []
    real = feedpub.cards._load

    def counted(path: Path, fingerprint: str):  # type: ignore[no-untyped-def]
        loads.append(path)
        return real(path, fingerprint)

    monkeypatch.setattr(feedpub.cards, "_load", counted)
    asked = _file_reads(monkeypatch)
    shutil.rmtree(out / "archive")  # its pages rendered whole, not from their last documents
    _article(articles, 20)
    _article(articles, 1, "A new first paragraph for article 1.\n")
    _draft(articles)  # the whole archive grouped again: its listings read from the cache
    assert build_site(articles, out, config, "-q").exit_code == 0
    assert asked, "the pages' other entries were read from their files"
    assert not loads, "the log was not read for a few entries"
    _same_as_without_cache(tmp_path, articles, out, config)


def test_a_lost_log_is_made_again_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without this, no build would parse the articles whose cards the log held (the parse
    cache vouches for them), and every rewrite of their pages would read their files."""
    articles, out, config = tmp_path / "articles", tmp_path / "feeds", _config(tmp_path)
    for number in range(12):
        _article(articles, number)
    assert build_site(articles, out, config, "-q").exit_code == 0
    kept = {name: path.stat().st_mtime_ns for name, path in
            ((p.relative_to(out).as_posix(), p) for p in out.rglob("*.atom"))}  # fmt: skip
    (out / CARDS_FILE).unlink()
    result = build_site(articles, out, config)  # nothing else changed
    assert result.exit_code == 0, result.output
    assert " 0 written" in result.output, "the documents' bytes are the same: none rewritten"
    assert (out / CARDS_FILE).is_file()
    assert all((out / name).stat().st_mtime_ns == mtime for name, mtime in kept.items())
    asked = _reads(monkeypatch)
    _article(articles, 1, "A new first paragraph for article 1.\n")
    assert build_site(articles, out, config, "-q").exit_code == 0
    assert asked == [], "the cards made again serve the pages the edit rewrote"
    _same_as_without_cache(tmp_path, articles, out, config)


def test_a_large_log_is_written_in_frames_and_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards are serialised a frame at a time (a large archive's would otherwise be held
    serialised at once); a log of several frames gives every card back."""
    import marshal

    import feedpub.cards

    monkeypatch.setattr(feedpub.cards, "FRAME_CARDS", 3)
    made = {f"a{n}.md": pack_card((f"a{n}.md", f"d{n}", f"summary {n}")) for n in range(10)}
    live = {source: card_digest(card) for source, card in made.items()}
    Cards(tmp_path, "print").save(made, live)
    data = (tmp_path / CARDS_FILE).read_bytes()
    sizes, at = [], 0
    while at < len(data):
        length = int.from_bytes(data[at : at + 8], "little")
        sizes.append(len(marshal.loads(data[at + 8 : at + 8 + length])[2]))
        at += 8 + length
    assert sizes == [3, 3, 3, 1]
    log = Cards(tmp_path, "print")
    assert all(log.get(source, card_digest(card)) == card for source, card in made.items())


def test_a_card_is_held_packed_and_gives_its_fields_back() -> None:
    """A card is one bytes object (its digest readable without unpacking it): a large
    archive's cards are not some thirty objects each."""
    card = ("a/b.md", "tag:x,2021:b", ("Tópico", "Two"), None, ("n", None, None), False,
            "0123456789abcdef0123456789abcdef", "A summary, with <markup> & all.")  # fmt: skip
    packed = pack_card(card)
    assert type(packed) is bytes
    assert card_digest(packed) == "0123456789abcdef0123456789abcdef"
    assert unpack_card(packed) == card


@pytest.mark.parametrize("read", [True, False])
def test_a_log_cut_inside_a_frame_is_rewritten_not_appended_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: bool
) -> None:
    """A crash can cut the log inside any of its frames: a card appended after the cut would
    never be read, so the next save rewrites the log, whether the build read it or not."""
    import feedpub.cards

    monkeypatch.setattr(feedpub.cards, "FRAME_CARDS", 4)
    made = {f"a{n}.md": pack_card((f"a{n}.md", f"{n:032x}", f"summary {n}")) for n in range(20)}
    live = {source: card_digest(card) for source, card in made.items()}
    Cards(tmp_path, "print").save(made, live)
    log = tmp_path / CARDS_FILE
    data = log.read_bytes()
    log.write_bytes(data[: len(data) * 3 // 5 + 10])  # inside the fourth of five frames
    for round_ in range(3):
        edited = {"a0.md": pack_card(("a0.md", f"{round_:032x}", f"edited {round_}"))}
        live["a0.md"] = card_digest(edited["a0.md"])
        cards = Cards(tmp_path, "print")
        if read:
            cards.get("a0.md", "")
        cards.save(edited, live)
        again = Cards(tmp_path, "print")
        assert again.get("a0.md", live["a0.md"]) == edited["a0.md"], round_
        assert feedpub.cards._load(log, "print")[2], "read to its end: whole frames only"


@pytest.mark.parametrize("held", [1, 2, 100_000])
def test_articles_made_from_records_are_the_articles_whatever_the_people_held(
    monkeypatch: pytest.MonkeyPatch, held: int
) -> None:
    """An article made again from its record equals the article, with its authors in order
    and its dates as written (updated or not), however few persons are held made at once."""
    from datetime import UTC, datetime, timedelta, timezone

    import feedpub.state
    from feedpub.model import Article, Person
    from feedpub.state import article_from, article_record

    monkeypatch.setattr(feedpub.state, "MAX_PEOPLE", held)
    monkeypatch.setattr(feedpub.state, "_PEOPLE", {})
    people = [Person("Ann"), Person("Bo", "bo@news.example"), Person("Cy", None, "https://c.x/")]
    when = datetime(2021, 4, 1, 9, 30, tzinfo=timezone(timedelta(hours=9)))
    articles = [
        Article(f"a{n}.md", f"tag:x,2021:{n}", f"a{n}", "A", "World", ("T",), when,
                when + timedelta(hours=n % 2), "https://news.example/a/",
                tuple(people[n % 3 :] + people[: n % 2]), "", source=f"a{n}.md")
        for n in range(7)
    ]  # fmt: skip
    for article in articles:
        made = article_from(article_record(article))
        assert made == article
        assert made.updated.astimezone(UTC) == article.updated.astimezone(UTC)
        assert (made.updated is made.published) == (article.updated == article.published)
