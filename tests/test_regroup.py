"""An article added, deleted or placed anew (feedpub.regroup) and a build that groups the
whole archive agree: after any sequence of changes, a build from the last build's state
writes the same bytes, reports the same problems and leaves the same groups in its state
whether it may place the changed articles or must group the whole archive, and (when no
file has an error, whose last good version only the state keeps) the same bytes as a build
that trusts nothing cached (`--no-cache`)."""

from __future__ import annotations

import math
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import build_site, documents

from feedpub import incremental, regroup
from feedpub.state import STATE_FILE, decode_state

SECTIONS = ["World", "Business", "Asia"]
TOPICS = ["Trade", "Climate", "Energy", "Security", "Diplomacy"]
AUTHORS = ["Ann Lee", "Bo Chen", "Cy Diaz"]
DAYS = ["2021-01-01T08:00:00Z", "2021-01-02T08:00:00Z", "2021-01-03T09:30:00+09:00",
        "2021-01-04T08:00:00Z", "2021-01-05T23:00:00-05:00"]  # fmt: skip

CONFIGS = {
    "every kind archived": "[feeds]\nmax_entries = 3\n[archives]\npage_size = 2\n"
    'groups = ["all", "sections", "topics", "authors"]\n',
    "the default archives": "[feeds]\nmax_entries = 3\n[archives]\npage_size = 2\n",
    "section topics, no archives": "[feeds]\nmax_entries = 2\n"
    'groups = ["all", "sections", "topics", "authors", "section_topics"]\n'
    "[archives]\nenabled = false\n",
    "full archives": '[feeds]\nmax_entries = 4\nformats = ["atom", "rss", "json"]\n'
    '[archives]\npage_size = 3\ncontent = "full"\n',
}


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust a file's stat as soon as it is recorded (see tests/test_cache.py): only the
    files changed since the last build are then new to it."""
    monkeypatch.setattr(incremental, "RACY_NS", 0)


class Spy:
    """Whether each build that asked feedpub.regroup had its groups placed by it; while
    `off`, no build has (each groups the whole archive)."""

    def __init__(self) -> None:
        self.taken: list[bool] = []
        self.off = False
        self.real = regroup.regroup

    def __call__(self, *args: object, **kwargs: object) -> object:
        if self.off:
            return None
        result = self.real(*args, **kwargs)  # type: ignore[arg-type]
        self.taken.append(result is not None)
        return result


@pytest.fixture
def regrouped(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    monkeypatch.setattr(regroup, "regroup", spy)
    return spy


def _write(path: Path, text: str) -> None:
    """Written to a new file put in place: a new inode, so that even a change within one
    tick of the file system's clock, of the same size, shows in the file's stat."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class Site:
    """Articles whose section, topics, authors, date, state and name a round may change."""

    def __init__(self, root: Path, config: str, seed: int) -> None:
        self.root = root
        self.articles = root / "articles"
        self.config = root / "feedpub.toml"
        self.config.write_text('[site]\nurl = "https://news.example/"\n' + config)
        self.random = random.Random(seed)
        self.next = 0
        self.fields: dict[str, dict[str, object]] = {}
        for _ in range(14):
            self.add()

    def add(self) -> str:
        pick = self.random
        self.next += 1
        name = f"{pick.choice(['', 'desk/', 'desk/late/'])}a{self.next:03d}.md"
        self.fields[name] = {
            "id": f"tag:news.example,2021:story-{self.next}",
            "section": pick.choice(SECTIONS),
            "topics": pick.sample(TOPICS, pick.randint(0, 3)),
            "authors": pick.sample(AUTHORS, pick.randint(0, 2)),
            "published": pick.choice(DAYS)[:11] + f"{pick.randint(0, 23):02d}:"
            f"{pick.randint(0, 59):02d}:00Z",
            "extra": "",
        }
        self.fields[name]["own id"] = self.fields[name]["id"]
        self.write(name)
        return name

    def heal(self) -> str:
        """Every problem a change made mended: each article as add made it but for its
        section, topics, authors and date."""
        for name, fields in self.fields.items():
            mended = {
                **fields, "extra": "", "id": fields["own id"],
                "topics": [topic.title() for topic in fields["topics"]],  # type: ignore[attr-defined]
                "published": DAYS[0] if fields["published"] > "2030" else fields["published"],  # type: ignore[operator]
            }  # fmt: skip
            if mended != fields:
                self.fields[name] = mended
                self.write(name)
        return "heal"

    def write(self, name: str) -> None:
        fields = self.fields[name]
        lines = [
            f"title: Story {fields['id']}", f"id: {fields['id']}",
            f"section: {fields['section']}", f"published: {fields['published']}",
        ]  # fmt: skip
        if fields["topics"]:
            lines.append(f"topics: [{', '.join(fields['topics'])}]")  # type: ignore[arg-type]
        if fields["authors"]:
            lines.append(f"author: [{', '.join(fields['authors'])}]")  # type: ignore[arg-type]
        extra = fields["extra"]
        _write(self.articles / name, "---\n" + "\n".join(lines) + f"{extra}\n---\nThe body.\n")

    def change(self) -> str:  # noqa: PLR0912 - one branch per kind of change
        """One change, at random: what it was."""
        pick = self.random
        names = sorted(self.fields)
        name = pick.choice(names)
        fields = self.fields[name]
        kind = pick.choice([
            "add", "add", "add", "delete", "delete", "topics", "topics", "section", "date",
            "date", "authors", "rename", "spelling", "tie", "draft", "future", "expires",
            "body", "duplicate id", "break", "plain", "heal", "heal",
        ])  # fmt: skip
        if kind == "add" or len(names) < 4:
            self.add()
            return "add"
        if kind == "heal":
            return self.heal()
        if kind == "delete":
            (self.articles / name).unlink()
            del self.fields[name]
            return kind
        if kind == "rename":
            (self.articles / name).unlink()
            self.fields[f"moved/{Path(name).name}"] = self.fields.pop(name)
            self.write(f"moved/{Path(name).name}")
            return kind
        if kind == "topics":
            fields["topics"] = pick.sample(TOPICS, pick.randint(0, 3))
        elif kind == "section":
            fields["section"] = pick.choice([*SECTIONS, "Opinion"])
        elif kind == "date":
            fields["published"] = pick.choice(DAYS)
        elif kind == "authors":
            fields["authors"] = pick.choice([[], ["Ann Lee"], ["Bo Chen", "Bo Chen"],
                                             ["Cy Diaz", "Ann Lee"]])  # fmt: skip
        elif kind == "spelling":  # one name written two ways: grouping warns
            fields["topics"] = ["trade"]
        elif kind == "tie":  # another article's very time
            fields["published"] = self.fields[pick.choice(names)]["published"]
        elif kind == "draft":
            fields["extra"] = "\ndraft: true"
        elif kind == "future":
            fields["published"] = "2031-01-01T00:00:00Z"
        elif kind == "expires":
            fields["extra"] = "\nexpires: 2030-01-01T00:00:00Z"
        elif kind == "body":
            fields["extra"] = f"\nsubtitle: Deck {pick.randint(0, 999)}"
        elif kind == "duplicate id":
            fields["id"] = self.fields[pick.choice(names)]["id"]
        elif kind == "break":
            fields["extra"] = "\npublished: [not a date]"
        else:
            fields["extra"] = ""
        self.write(name)
        return kind


def _state(out: Path) -> tuple[object, ...]:
    state = decode_state((out / STATE_FILE).read_bytes())
    order = state.order
    return (
        [f[0] for f in state.files], state.problems, state.totals,
        [(*group[:7], tuple(group.members)) for group in state.groups], list(state.digests),
        None if order is None
        else ([None if math.isnan(t) else t for t in order.published], list(order.ids)),
        sorted(state.kept),
    )  # fmt: skip


def _same_as_a_whole_grouping(site: Site, out: Path, spy: Spy, label: str) -> None:
    twin, fresh = site.root / "twin", site.root / "fresh"
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(out, twin)  # the same last state, documents and times
    placed = build_site(site.articles, out, site.config)
    spy.off = True
    try:
        whole = build_site(site.articles, twin, site.config)
    finally:
        spy.off = False
    assert placed.exit_code == whole.exit_code, label
    assert placed.stderr.splitlines()[:-1] == whole.stderr.splitlines()[:-1], label
    assert documents(out) == documents(twin), label
    assert _state(out) == _state(twin), label
    # When the next build must not be skipped: no later than a whole grouping says (an
    # article gone that was to fall due may leave an earlier time, which costs one build).
    due = decode_state((out / STATE_FILE).read_bytes()).due
    whole_due = decode_state((twin / STATE_FILE).read_bytes()).due
    assert whole_due is None or (due is not None and due <= whole_due), label
    if placed.exit_code == 0:
        assert build_site(site.articles, fresh, site.config, "--no-cache", "-q").exit_code == 0
        assert documents(out) == documents(fresh), label


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("seed", [1, 2])
def test_any_changes_regrouped_equal_the_whole_archive_grouped(
    tmp_path: Path, config: str, seed: int, regrouped: Spy
) -> None:
    site = Site(tmp_path, CONFIGS[config], seed)
    out = tmp_path / "feeds"
    assert build_site(site.articles, out, site.config, "-q").exit_code == 0
    done = []
    for step in range(24):
        done += [site.change() for _ in range(site.random.choice([1, 1, 1, 2, 3]))]
        _same_as_a_whole_grouping(site, out, regrouped, f"step {step}: {done}")
    assert sum(regrouped.taken) >= 5, "the groups were placed anew, not grouped whole, that often"
    assert not all(regrouped.taken), "and some changes were grouped whole"


def test_an_article_added_retopicked_then_deleted_is_placed_without_the_whole_archive(
    tmp_path: Path, regrouped: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding and deleting an article, and changing its topics, read no cached listing."""
    from feedpub.store import LocalStore

    site = Site(tmp_path, CONFIGS["the default archives"], 3)
    out = tmp_path / "feeds"
    assert build_site(site.articles, out, site.config, "-q").exit_code == 0
    read: list[object] = []
    real = LocalStore.read_cache

    def reading(*args: Any) -> Any:
        if not regrouped.off:  # the twin that groups the whole archive reads it
            read.append(args)
        return real(*args)

    monkeypatch.setattr(LocalStore, "read_cache", reading)
    newest = site.add()
    _same_as_a_whole_grouping(site, out, regrouped, "added")
    site.fields[newest]["topics"] = ["Energy", "Opinion Polls"]
    site.write(newest)
    _same_as_a_whole_grouping(site, out, regrouped, "topics")
    (site.articles / newest).unlink()
    del site.fields[newest]
    _same_as_a_whole_grouping(site, out, regrouped, "deleted")
    assert regrouped.taken == [True, True, True]
    assert not read, "the parse cache was read"


def test_the_last_published_article_deleted_leaves_the_state_a_whole_grouping_leaves(
    tmp_path: Path, regrouped: Spy
) -> None:
    """No group keeps a member (a draft is left): no member digest either way."""
    site = Site(tmp_path, CONFIGS["the default archives"], 4)
    out = tmp_path / "feeds"
    for name in sorted(site.fields)[1:]:
        site.fields[name]["extra"] = "\ndraft: true"
        site.write(name)
    assert build_site(site.articles, out, site.config, "-q").exit_code == 0
    last = sorted(site.fields)[0]
    (site.articles / last).unlink()
    del site.fields[last]
    _same_as_a_whole_grouping(site, out, regrouped, "the last published deleted")
    assert regrouped.taken == [True]
