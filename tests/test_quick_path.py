"""The quick path (an in-place edit of a few feed entries) and the full path agree.

After any sequence of edits, a build that uses the cache (which takes the quick
path whenever it can) reports the same problems and writes the same bytes as a
build that trusts nothing cached (`--no-cache`, the full path).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from conftest import build_site, documents, read_feed, write_article
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedpub import incremental

LIMIT = 2048  # build.max_article_bytes in the test configuration
ARTICLES = 3
SECTIONS = ["World", "Business"]
TOPICS = [["Trade"], ["Trade", "Climate"], ["Energy"]]


@pytest.fixture(autouse=True, scope="module")
def settled_at_once() -> Iterator[None]:
    """Trust a file's stat as soon as it is recorded (see tests/test_cache.py): the quick
    path only runs when the last build's stats are trusted."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(incremental, "RACY_NS", 0)
        yield


@pytest.fixture(scope="module")
def quick_taken() -> Iterator[list[bool]]:
    """Whether each call of Rules.quick_edit took the quick path, over the whole module."""
    taken: list[bool] = []
    real = incremental.Rules.quick_edit

    def spy(self: incremental.Rules, *args: object, **kwargs: object) -> object:
        result = real(self, *args, **kwargs)  # type: ignore[arg-type]
        taken.append(result is not None)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(incremental.Rules, "quick_edit", spy)
        yield taken


# What each edit sets: a field of the article, to a value (with the step's number).
CHANGES: dict[str, tuple[str, object]] = {
    "title": ("title", "Retitled {step}"),
    "body": ("body", "Rewritten body {step}."),
    "typo": ("extra", "\ntittle: typo {step}"),  # an unknown key: a warning
    "untypo": ("extra", ""),
    "huge": ("body", "Huge. " * (LIMIT // 5)),  # beyond max_article_bytes: an error
    "shrink": ("body", "Small again {step}."),
    "break": ("broken", True),
    "repair": ("broken", False),
    "topics": ("topics", ["Energy", "Climate"]),
    "template": ("body", "Step {step}: {{{{< figure src=x.png >}}}}"),  # a rendering warning
    "image": ("extra", "\nimage:\n  url: /i{step}.jpg\n  caption: Caption {step}."),
    "author": ("extra", "\nauthor: Writer {step}"),
}


class Site:
    """A few tiny articles whose every field an edit may change."""

    def __init__(self, root: Path, config: str = "") -> None:
        self.root = root
        self.articles = root / "articles"
        self.config = root / "feedpub.toml"
        self.config.write_text(f"[build]\nmax_article_bytes = {LIMIT}\n{config}")
        self.fields = {
            number: {
                "title": f"Article {number}",
                "section": SECTIONS[number % 2],
                "topics": TOPICS[number % 3],
                "body": f"Body {number}.",
                "extra": "",
                "broken": False,
            }
            for number in range(ARTICLES)
        }
        for number in self.fields:
            self.write(number)

    def path(self, number: int) -> Path:
        return self.articles / f"a{number}.md"

    def write(self, number: int) -> None:
        fields = self.fields[number]
        published = "someday" if fields["broken"] else f"2021-01-0{number + 1}T12:00:00Z"
        front = (
            f"title: {fields['title']}\nsection: {fields['section']}\n"
            f"topics: [{', '.join(fields['topics'])}]\npublished: {published}{fields['extra']}"
        )
        write_article(self.articles, f"a{number}.md", front, f"{fields['body']}\n")

    def apply(self, edit: str, number: int, step: int) -> None:
        """One edit; an edit of a missing file writes it anew."""
        path = self.path(number)
        if edit == "delete":
            path.unlink(missing_ok=True)
            return
        fields = self.fields.setdefault(
            number, {"title": f"New {number}", "section": "World", "topics": ["Trade"],
                     "body": "New.", "extra": "", "broken": False},
        )  # fmt: skip
        if edit == "touch":
            if path.exists():
                os.utime(path, (1_600_000_000 + step, 1_600_000_000 + step))
                return
        elif edit == "section":
            fields["section"] = SECTIONS[(SECTIONS.index(str(fields["section"])) + 1) % 2]
        elif edit in CHANGES:
            key, value = CHANGES[edit]
            fields[key] = value.format(step=step) if isinstance(value, str) else value
        self.write(number)


def problems(result: Result, out: Path) -> list[str]:
    """The problems a build printed, its folder's name replaced."""
    lines = result.output.replace(str(out), "<out>").splitlines()
    return [line for line in lines if re.search(r": (error|warning): ", line)]


EDIT_NAMES = [*CHANGES, "section", "add", "delete", "touch"]
# The default configuration, and one with summaries, short feeds and archive pages.
CONFIGS = ["", '[feeds]\ncontent = "summary"\nmax_entries = 2\n'
               "[archives]\nenabled = true\npage_size = 2\n"]  # fmt: skip
EDITS = st.lists(
    st.tuples(st.sampled_from(EDIT_NAMES), st.integers(0, ARTICLES)), min_size=1, max_size=6
)


@settings(
    max_examples=8, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@example(edits=[("title", 0), ("body", 1), ("typo", 2), ("title", 2)], config=CONFIGS[0])
@example(edits=[("typo", 0), ("huge", 1), ("title", 2)], config=CONFIGS[0])
@example(edits=[("body", 0), ("huge", 0), ("shrink", 0), ("title", 0)], config=CONFIGS[0])
@example(edits=[("break", 1), ("title", 0), ("repair", 1), ("body", 1)], config=CONFIGS[0])
@example(
    edits=[("title", 1), ("section", 1), ("topics", 0), ("touch", 2), ("body", 2)],
    config=CONFIGS[0],
)
@example(edits=[("add", 3), ("title", 3), ("delete", 3), ("title", 0)], config=CONFIGS[0])
@given(edits=EDITS, config=st.sampled_from(CONFIGS))
def test_the_quick_path_and_the_full_path_agree(
    tmp_path_factory: pytest.TempPathFactory, quick_taken: list[bool],
    edits: list[tuple[str, int]], config: str,
) -> None:  # fmt: skip
    """After each edit, the cached build (folder A) and the --no-cache build (folder B)
    print the same problems, exit alike and hold the same documents, byte for byte."""
    root = tmp_path_factory.mktemp("quick")
    site = Site(root, config)
    cached, full = root / "feeds-cached", root / "feeds-full"
    for step, (edit, number) in enumerate([("none", 0), *edits]):
        if edit != "none":
            site.apply(edit, number, step)
        with_cache = build_site(site.articles, cached, site.config)
        without = build_site(site.articles, full, site.config, "--no-cache")
        assert problems(with_cache, cached) == problems(without, full), (step, edit, number)
        assert with_cache.exit_code == without.exit_code, (step, edit, number)
        assert documents(cached) == documents(full), (step, edit, number)


def test_the_edits_above_take_the_quick_path(tmp_path: Path, quick_taken: list[bool]) -> None:
    """The property above compares the quick path with the full one: in-place edits of
    titles and bodies, even one that brings a warning, do take it."""
    site = Site(tmp_path)
    out = tmp_path / "feeds"
    build_site(site.articles, out, site.config)
    for step, edit in enumerate(["title", "body", "typo"], start=1):
        site.apply(edit, step % ARTICLES, step)
        del quick_taken[:]
        result = build_site(site.articles, out, site.config)
        assert quick_taken == [True], (edit, result.output)


def test_member_digests_kept_from_the_last_state_are_those_made_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regrouping build takes each unchanged file's member digest from the last state;
    after edits to the topics, date and section of some articles and a new one, every
    digest is the one a build that trusts nothing makes."""
    import feedpub.state
    from feedpub.state import STATE_FILE, decode_state

    articles, out, fresh = tmp_path / "articles", tmp_path / "feeds", tmp_path / "fresh"

    def article(number: int, topics: str, day: int = 1, section: str = "World") -> None:
        write_article(
            articles, f"a{number}.md",
            f"title: A{number}\nsection: {section}\ntopics: [{topics}]\n"
            f"published: 2021-01-{day:02d}T{number:02d}:00:00Z",
        )  # fmt: skip

    for number in range(8):
        article(number, "Trade")
    assert build_site(articles, out, None, "-q").exit_code == 0
    article(2, "Trade, Climate")  # topics
    article(3, "Trade", day=2)  # date
    article(4, "Trade", section="Business")  # section
    article(9, "Energy")  # a new article
    write_article(
        articles, "d.md", "title: D\nsection: World\npublished: 2021-02-01T00:00:00Z\ndraft: true"
    )
    made_here: list[str] = []
    real = feedpub.state.listing_key

    def counting(item: object) -> str:
        made_here.append(getattr(item, "source", ""))
        return real(item)

    monkeypatch.setattr(feedpub.state, "listing_key", counting)
    assert build_site(articles, out, None, "-q").exit_code == 0
    assert sorted(made_here) == ["a2.md", "a3.md", "a4.md", "a9.md"], "the others were kept"
    assert build_site(articles, fresh, None, "--no-cache", "-q").exit_code == 0
    kept = decode_state((out / STATE_FILE).read_bytes())
    made = decode_state((fresh / STATE_FILE).read_bytes())
    assert [f[0] for f in kept.files] == [f[0] for f in made.files]
    assert kept.digests
    assert list(kept.digests) == list(made.digests)


def test_moving_the_articles_folder_changes_no_id(tmp_path: Path) -> None:
    """An article is named from its place below the articles folder: an `index.md` right in
    it is no page bundle (it is not named after that folder), so renaming the folder changes
    no id, and the cached build agrees with one that trusts nothing."""
    from feedpub.state import STATE_FILE, decode_state

    first, out, fresh = tmp_path / "first-name", tmp_path / "feeds", tmp_path / "fresh"
    for name in ("index.md", "other.md", "bundle/index.md"):
        write_article(
            first, name,
            f"title: {name}\nsection: World\npublished: 2021-01-0{len(name) % 9 + 1}T00:00:00Z",
        )  # fmt: skip
    assert build_site(first, out, None, "-q").exit_code == 0
    ids = [entry.id for entry in read_feed(out / "all.atom").entries]
    assert any(entry_id.endswith(":index") for entry_id in ids), ids
    assert any(entry_id.endswith(":bundle") for entry_id in ids), "a bundle: its folder's name"
    assert not any("first-name" in entry_id for entry_id in ids), ids
    second = first.rename(tmp_path / "second-name")
    assert build_site(second, out, None, "-q").exit_code == 0
    assert build_site(second, fresh, None, "--no-cache", "-q").exit_code == 0
    assert [entry.id for entry in read_feed(out / "all.atom").entries] == ids
    assert (out / "all.atom").read_bytes() == (fresh / "all.atom").read_bytes()
    kept = decode_state((out / STATE_FILE).read_bytes())
    made = decode_state((fresh / STATE_FILE).read_bytes())
    assert list(kept.digests) == list(made.digests)


def test_a_quick_edit_leaves_the_state_a_full_build_leaves(
    tmp_path: Path, quick_taken: list[bool]
) -> None:
    """The quick path keeps the last state's groups and makes again only the edited
    articles' member digests: after edits of an entry of the feeds and of an article on
    archive pages only, the groups and digests are those of a build that trusts nothing."""
    from feedpub.state import STATE_FILE, decode_state

    articles, out, fresh = tmp_path / "articles", tmp_path / "feeds", tmp_path / "fresh"
    config = tmp_path / "feedpub.toml"
    config.write_text(CONFIGS[1])

    def article(number: int, body: str) -> None:
        write_article(
            articles, f"a{number}.md",
            f"title: A{number}\nsection: {SECTIONS[number % 2]}\ntopics: [Trade]\n"
            f"published: 2021-01-{number + 1:02d}T12:00:00Z", body,
        )  # fmt: skip

    for number in range(9):
        article(number, f"Body {number}.\n")
    assert build_site(articles, out, config, "-q").exit_code == 0
    for step, number in enumerate([8, 0, 4], start=1):  # newest (in feeds), oldest, middle
        article(number, f"Edited {step}: a longer body than before.\n")
        del quick_taken[:]
        assert build_site(articles, out, config, "-q").exit_code == 0
        assert quick_taken == [True], number
        assert build_site(articles, fresh, config, "--no-cache", "-q").exit_code == 0
        kept = decode_state((out / STATE_FILE).read_bytes())
        made = decode_state((fresh / STATE_FILE).read_bytes())
        assert any(group.members for group in made.groups)
        assert kept.groups == made.groups, number
        assert kept.digests
        assert list(kept.digests) == list(made.digests), number
        assert documents(out) == documents(fresh)


@pytest.mark.parametrize(
    "number", [8, 0]
)  # an entry of the feeds; an article on archive pages only
def test_an_edit_that_sets_an_expiry_is_not_a_quick_edit(tmp_path: Path, number: int) -> None:
    """An article that will expire makes the build at its expiry one not to skip: an edit
    that sets one records that date, as a full build does, and the article leaves the
    feeds then."""
    from feedpub.state import STATE_FILE, decode_state

    articles, cached, full = tmp_path / "articles", tmp_path / "cached", tmp_path / "full"
    config = tmp_path / "feedpub.toml"
    config.write_text(CONFIGS[1])

    def article(n: int, extra: str = "", body: str = "Body.") -> None:
        write_article(
            articles, f"a{n}.md",
            f"title: A{n}\nsection: {SECTIONS[n % 2]}\ntopics: [Trade]\n"
            f"published: 2021-01-{n + 1:02d}T12:00:00Z{extra}", f"{body}\n",
        )  # fmt: skip

    def both(now: str = "2026-01-01T00:00:00Z") -> None:
        for out, extra in ((cached, ()), (full, ("--no-cache",))):
            assert build_site(articles, out, config, *extra, now=now).exit_code == 0

    for n in range(9):
        article(n)
    both()
    article(number, "\nexpires: 2026-01-02T00:00:00Z", "Edited.")
    both()
    due = decode_state((cached / STATE_FILE).read_bytes()).due
    assert due is not None
    assert due == decode_state((full / STATE_FILE).read_bytes()).due
    both("2026-01-03T00:00:00Z")
    assert documents(cached) == documents(full)
    gone = f"<title>A{number}</title>".encode()  # expired: in no feed and on no page
    assert not [name for name, data in documents(cached).items() if gone in data]


@pytest.mark.parametrize(("edited", "quick"), [(2, True), (3, False)])
def test_edits_up_to_a_share_of_the_files_take_the_quick_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick_taken: list[bool], edited: int,
    quick: bool,
) -> None:  # fmt: skip
    """The quick path takes as many edits as the larger of a count and a share of the files
    (here 1, or a fifth of 10 files), and writes what the full path writes."""
    monkeypatch.setattr(incremental, "QUICK_EDITS", 1)
    monkeypatch.setattr(incremental, "QUICK_SHARE", 5)
    articles, out, fresh = tmp_path / "articles", tmp_path / "feeds", tmp_path / "fresh"
    for number in range(10):
        write_article(
            articles, f"a{number}.md",
            f"title: A{number}\nsection: World\npublished: 2021-01-01T{number:02d}:00:00Z",
        )  # fmt: skip
    assert build_site(articles, out, None, "-q").exit_code == 0
    for number in range(edited):
        write_article(
            articles, f"a{number}.md",
            f"title: Retitled {number}\nsection: World\npublished: 2021-01-01T{number:02d}:00:00Z",
        )  # fmt: skip
    del quick_taken[:]
    assert build_site(articles, out, None, "-q").exit_code == 0
    assert quick_taken == [quick]
    assert build_site(articles, fresh, None, "--no-cache", "-q").exit_code == 0
    assert documents(out) == documents(fresh)
