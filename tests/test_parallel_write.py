"""A large build renders and stages its RSS documents in a second process: the same bytes
as one process writes, and a failure there is the failure of the build (exit 5, the file
named, nothing left behind), which the next run completes."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import build_site, documents, read_feed, write_article

import feedpub.build
import feedpub.store


def _site(articles: Path, count: int, title: str = "Article") -> None:
    for number in range(count):
        write_article(
            articles, f"a{number:03d}.md",
            f"title: {title} {number}\nsection: S{number % 3}\ntopics: [T{number % 4}]\n"
            f"published: 2021-01-01T{number // 60:02d}:{number % 60:02d}:00Z",
        )  # fmt: skip


def _helped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every build large enough for the second process; count the helpers started."""
    started: list[int] = []
    monkeypatch.setattr(feedpub.build, "PARALLEL_PAGES", 1)
    original = feedpub.build._shared_out

    def spying(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        ours, helper, failed = original(*args, **kwargs)  # type: ignore[arg-type]
        if helper is not None:
            started.append(1)
        return ours, helper, failed

    monkeypatch.setattr(feedpub.build, "_shared_out", spying)
    return started


def _rss_staging_fails(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Make staging an RSS document but all.rss fail (those only the second process
    stages) as a full disk does; the real staging function, to put back."""
    real = feedpub.store._staged

    def full(path: Path, data: bytes, mode: int = 0o644) -> str:
        if path.suffix == ".rss" and path.name != "all.rss":
            raise feedpub.store.OutputError(str(path), OSError(errno.ENOSPC, "No space left"))
        return real(path, data, mode)

    monkeypatch.setattr(feedpub.store, "_staged", full)
    return real


def test_two_processes_write_the_bytes_one_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = tmp_path / "articles"
    _site(articles, 30)
    one = tmp_path / "one"
    assert build_site(articles, one, None, "--jobs", "1", "-q").exit_code == 0
    started = _helped(monkeypatch)
    two = tmp_path / "two"
    result = build_site(articles, two, None, "--jobs", "2", "-q")
    assert result.exit_code == 0, result.output
    assert started, "the second process was used"
    assert documents(two) == documents(one)
    assert any(name.endswith(".rss") for name in documents(two))


def test_a_failure_in_the_second_process_is_exit_5_and_the_next_run_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    _site(articles, 30)
    assert build_site(articles, out, None, "-q").exit_code == 0
    _site(articles, 31, "Second")
    started = _helped(monkeypatch)
    real = _rss_staging_fails(monkeypatch)
    result = build_site(articles, out, None, "--jobs", "2", "-q")
    assert started
    assert result.exit_code == 5, result.output
    assert "No space left" in result.stderr
    assert ".rss" in result.stderr
    assert not list(out.rglob("*.tmp")), "staged files of the failed build are removed"
    for path in out.rglob("*.rss"):
        read_feed(path)  # every document whole, old or new
    monkeypatch.setattr(feedpub.store, "_staged", real)
    again = build_site(articles, out, None, "--jobs", "2", "-q")
    assert again.exit_code == 0, again.output
    assert "Second 30" in (out / "all.rss").read_text()
    assert "Second 1" in (out / "sections" / "s1.rss").read_text()


# The parse cache and the cards log, saved by the second process once its documents are staged.


def _saved(out: Path, state: Path | None = None) -> tuple[dict[str, object], dict[str, object]]:
    """The parse cache and the cards log of `out`, read back as values (made under the
    fingerprint of the state in `state`, by default `out`)."""
    from feedpub.cards import CARDS_FILE, _load
    from feedpub.state import CACHE_FILE, STATE_FILE, decode_cache, decode_state, unpack_card

    fingerprint = decode_state(((state or out) / STATE_FILE).read_bytes()).fingerprint
    with (out / CACHE_FILE).open("rb") as stream:
        cache = decode_cache(stream, fingerprint)
    cards, _count, _whole = _load(out / CARDS_FILE, fingerprint)
    listings = {
        key: (item.stat, item.listing.record(), item.listing.card) for key, item in cache.items()
    }
    return listings, {key: unpack_card(card) for key, card in cards.items()}


def test_the_second_process_saves_what_one_process_saves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = tmp_path / "articles"
    _site(articles, 30)
    one, two = tmp_path / "one", tmp_path / "two"
    assert build_site(articles, one, None, "--jobs", "1", "-q").exit_code == 0
    started = _helped(monkeypatch)
    saved_here: list[int] = []
    real_save = feedpub.build._saver

    def spying(*args: object) -> object:
        save = real_save(*args)  # type: ignore[arg-type]

        def counted() -> None:
            saved_here.append(1)  # in the helper, a count this process never sees
            save()

        return counted

    monkeypatch.setattr(feedpub.build, "_saver", spying)
    assert build_site(articles, two, None, "--jobs", "2", "-q").exit_code == 0
    assert started, "the second process was used"
    assert not saved_here, "the second process saved, not this one"
    cache, cards = _saved(two)
    assert (cache, cards) == _saved(one)
    assert len(cache) == len(cards) == 30
    again = build_site(articles, two, None, "--jobs", "2")
    assert "(0 parsed)" in again.output, again.output
    assert " 0 written" in again.output, again.output


def test_a_failure_to_save_in_the_second_process_is_exit_5_after_the_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    _site(articles, 30)
    started = _helped(monkeypatch)
    out.mkdir()
    (out / ".feedpub-cards").mkdir()  # a folder where the log goes
    result = build_site(articles, out, None, "--jobs", "2", "-q")
    assert started
    assert result.exit_code == 5, result.output
    assert ".feedpub-cards" in result.stderr
    assert read_feed(out / "all.rss").entries, "the documents were written and renamed"
    assert read_feed(out / "sections" / "s1.rss").entries
    assert not list(out.rglob("*.tmp"))
    (out / ".feedpub-cards").rmdir()
    assert build_site(articles, out, None, "--jobs", "2", "-q").exit_code == 0


def test_a_failure_to_stage_in_the_second_process_saves_nothing_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    _site(articles, 30)
    started = _helped(monkeypatch)
    _rss_staging_fails(monkeypatch)
    result = build_site(articles, out, None, "--jobs", "2", "-q")
    assert started
    assert result.exit_code == 5, result.output
    assert "No space left" in result.stderr
    assert not (out / ".feedpub-cards").exists()
    assert not (out / ".feedpub-cache").exists()


def _state_apart_from_stats(out: Path) -> tuple[object, ...]:
    """The state of `out` as values, without its documents' sizes and times (and the time of
    the build, which `--now` does not set)."""
    from feedpub.state import STATE_FILE, decode_state

    state = decode_state((out / STATE_FILE).read_bytes())
    return (
        state.fingerprint, state.due, state.files, state.problems, state.totals,
        {name: document.fingerprint for name, document in state.documents.items()},
        dict(state.kept), state.contents, state.groups, state.digests, state.order,
    )  # fmt: skip


def test_this_process_lets_go_of_its_cards_once_the_second_has_saved_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the second process saved the cards, this one drops its own before it writes the
    state: the state it writes is one process's, and the next build, which needs the cards
    of the archive pages an edit rewrites, writes one process's bytes."""
    articles = tmp_path / "articles"
    _site(articles, 30)
    one, two = tmp_path / "one", tmp_path / "two"
    assert build_site(articles, one, None, "--jobs", "1", "-q").exit_code == 0
    started = _helped(monkeypatch)
    held: list[int] = []
    dropped: list[int] = []
    real = feedpub.build._let_go_of_cards

    def spying(planned, archived, cards):  # type: ignore[no-untyped-def]
        held.append(sum(item.listing.card is not None for item in planned.cacheable.values()))
        real(planned, archived, cards)
        dropped.append(sum(item.listing.card is not None for item in planned.cacheable.values()))
        assert not list(archived.sources()), "and the cards the archive pages were made from"

    monkeypatch.setattr(feedpub.build, "_let_go_of_cards", spying)
    assert build_site(articles, two, None, "--jobs", "2", "-q").exit_code == 0
    assert started, "the second process was used"
    assert held == [30], "every article's card was held until the documents were written"
    assert dropped == [0], "then dropped, here, once"
    assert _state_apart_from_stats(two) == _state_apart_from_stats(one)
    assert _saved(two) == _saved(one)
    _site(articles, 30, "Edited")  # every article, so that every archive page is rendered
    for out in (one, two):
        assert build_site(articles, out, None, "--jobs", "2", "-q").exit_code == 0
    assert documents(two) == documents(one)
    assert _saved(two) == _saved(one)


# How the staged documents reach the disk before they are renamed into place.


def _flushes(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[int]]:
    """Record the name of every file flushed alone, and each sync of everything."""
    import os

    flushed: list[str] = []
    synced: list[int] = []
    real_fsync, real_sync = os.fsync, os.sync

    def fsync(descriptor: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    def sync() -> None:
        synced.append(1)
        real_sync()

    monkeypatch.setattr(feedpub.store.os, "fsync", fsync)
    monkeypatch.setattr(feedpub.store.os, "sync", sync)
    return flushed, synced


def _staged_names(flushed: list[str]) -> list[str]:
    """The documents whose staged files were flushed (`.all.atom.x1y2.tmp` → `all.atom`; the
    state's and the cache's are `..feedpub-state.….tmp`)."""
    names = [Path(path).name[1:] for path in flushed if path.endswith(".tmp")]
    return sorted(name.rsplit(".", 2)[0] for name in names if not name.startswith("."))


def test_a_few_documents_are_flushed_one_by_one_and_many_by_one_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that writes a few documents flushes each of their files before it is renamed,
    and syncs nothing else (a sync waits for every other program's writes); one that writes
    many flushes them with one sync. The same documents either way."""
    articles = tmp_path / "articles"
    _site(articles, 3)
    flushed, synced = _flushes(monkeypatch)
    few = tmp_path / "few"
    assert build_site(articles, few, None, "-q").exit_code == 0
    assert not synced
    written = sorted(documents(few))
    assert len(written) <= feedpub.store.FLUSHED_ONE_BY_ONE
    assert _staged_names(flushed) == sorted(Path(name).name for name in written)
    flushed.clear()
    monkeypatch.setattr(feedpub.store, "FLUSHED_ONE_BY_ONE", len(written) - 1)
    many = tmp_path / "many"
    assert build_site(articles, many, None, "-q").exit_code == 0
    assert synced == [1]
    assert _staged_names(flushed) == []
    assert documents(many) == documents(few)


def test_each_staged_document_starts_for_the_disk_at_once_and_a_refusal_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each document's staged file is handed to the disk's writeback as soon as it is
    written, so that the sync before the renames waits for little; a filesystem that
    refuses the hint (EINVAL) builds the same documents."""
    import os

    articles = tmp_path / "articles"
    _site(articles, 3)
    hinted: list[str] = []
    real = os.posix_fadvise

    def spying(descriptor: int, offset: int, length: int, advice: int) -> None:
        assert (offset, length, advice) == (0, 0, os.POSIX_FADV_DONTNEED)
        hinted.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real(descriptor, offset, length, advice)

    monkeypatch.setattr(feedpub.store.os, "posix_fadvise", spying)
    hinting = tmp_path / "hinting"
    assert build_site(articles, hinting, None, "-q").exit_code == 0
    written = sorted(Path(name).name for name in documents(hinting))
    assert _staged_names(hinted) == written

    def refusing(descriptor: int, offset: int, length: int, advice: int) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(feedpub.store.os, "posix_fadvise", refusing)
    refused = tmp_path / "refused"
    assert build_site(articles, refused, None, "-q").exit_code == 0
    assert documents(refused) == documents(hinting)


def test_a_document_whose_writing_fails_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing a staged document that fails once its file exists (a full disk) is exit 5
    naming the document, and leaves no temporary file behind."""
    import os

    articles, out = tmp_path / "articles", tmp_path / "feeds"
    _site(articles, 3)

    def full(descriptor: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{descriptor}")).name.startswith(".all.atom."):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(feedpub.store, "_start_writing", full)
    result = build_site(articles, out, None, "-q")
    assert result.exit_code == 5, result.output
    assert f"{out / 'all.atom'}: No space left on device" in result.stderr
    assert not list(out.rglob("*.tmp"))
    assert not (out / "all.atom").exists()


def test_a_document_that_cannot_be_flushed_fails_the_build_and_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush that fails (an I/O error) is exit 5 naming the document; no document is
    renamed over, no temporary file is left, and the next build completes the work."""
    import os

    articles, out = tmp_path / "articles", tmp_path / "feeds"
    _site(articles, 3)
    assert build_site(articles, out, None, "-q").exit_code == 0
    before = documents(out)
    _site(articles, 3, "Second")
    real_fsync = os.fsync

    def failing(descriptor: int) -> None:
        name = Path(os.readlink(f"/proc/self/fd/{descriptor}")).name
        if name.startswith(".all.rss.") and name.endswith(".tmp"):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(descriptor)

    monkeypatch.setattr(feedpub.store.os, "fsync", failing)
    result = build_site(articles, out, None, "-q")
    assert result.exit_code == 5, result.output
    assert f"{out / 'all.rss'}: Input/output error" in result.stderr  # the document's name
    assert ".tmp" not in result.stderr
    assert documents(out) == before
    assert not list(out.rglob("*.tmp"))
    monkeypatch.setattr(feedpub.store.os, "fsync", real_fsync)
    assert build_site(articles, out, None, "-q").exit_code == 0
    assert "Second 2" in (out / "all.rss").read_text()


@pytest.mark.parametrize("takes", ["every process", "only the workers", "only this one"])
@pytest.mark.parametrize("count", [1, 2, 7, 23])
def test_contents_rendered_by_workers_are_those_one_process_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, takes: str
) -> None:
    """This process and the workers take the chunks of the work in turns; a worker is sent
    nothing (it inherited the work) and sends back its chunk's number and contents: every
    article's content comes back, in order, whichever processes took which chunks."""
    import os

    import feedpub.source

    articles = tmp_path / "articles"
    for number in range(count):
        write_article(
            articles, f"a{number:03d}.md",
            f"title: Article {number}\nsection: S{number % 3}\n"
            f"published: 2021-01-01T00:{number:02d}:00Z",
            f"Body {number}, *emphasised* and [linked](/n/{number}/).\n",
        )  # fmt: skip
    assert build_site(articles, tmp_path / "one", None, "--jobs", "1").exit_code == 0
    import multiprocessing.pool

    sent: list[object] = []
    original = multiprocessing.pool.Pool.apply_async
    real_take = feedpub.source.take_chunk
    parent = os.getpid()

    def spying(
        pool: object, func: object, args: object = (), *rest: object, **kw: object
    ) -> object:
        if func is feedpub.source._render_in_worker:
            sent.append(args)
        return original(pool, func, args, *rest, **kw)  # type: ignore[arg-type]

    def taking(counter: object, files: int, size: int) -> int | None:
        here = os.getpid() == parent
        if (takes == "only the workers" and here) or (takes == "only this one" and not here):
            return None
        return real_take(counter, files, size)

    monkeypatch.setattr(feedpub.source, "PARALLEL_RENDER", 1)
    monkeypatch.setattr(feedpub.source, "take_chunk", taking)
    monkeypatch.setattr(multiprocessing.pool.Pool, "apply_async", spying)
    assert build_site(articles, tmp_path / "two", None, "--jobs", "2").exit_code == 0
    assert documents(tmp_path / "two") == documents(tmp_path / "one")
    assert sent
    assert all(args == () for args in sent)
