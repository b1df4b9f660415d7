"""The fast reader of plain front matter reads exactly what PyYAML reads, or defers to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURE_SITE, PROJECT, TESTS
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feedpub.errors import ArticleError
from feedpub.frontmatter import MAX_NODES, Field, _read_yaml, read_simple

KEYS = st.sampled_from(["title", "section", "topics", "published", "image", "url", "x-y", "a_b"])
# Text the fast reader must answer (letters, digits, spaces and punctuation that YAML
# leaves alone in plain scalars) and text that tries every YAML indicator.
PLAIN = st.text(alphabet=st.sampled_from(list("abcXYZ 019-.é東")), min_size=1, max_size=12)
HOSTILE = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019:-,#'\"[]{}&*!|>%@`?~.é東\\")), min_size=0, max_size=12
)
# Mostly plain, so that most examples are ones the fast reader answers and the
# comparison with PyYAML has something to compare.
TEXT = st.one_of(PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, HOSTILE)
# Of the examples, the share the fast reader must answer: about half are answered (199 to
# 230 of 400 seen), so a third keeps the comparison from being empty without failing by chance
# (about seven standard deviations below the mean).
MIN_ANSWERED = 0.33


def value_lines(key: str, draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(["plain", "quoted", "single", "list", "nested", "empty"]))
    if kind == "plain":
        return [f"{key}: {draw(TEXT)}"]
    if kind == "quoted":
        return [f'{key}: "{draw(TEXT)}"']
    if kind == "single":
        return [f"{key}: '{draw(TEXT)}'"]
    if kind == "list":
        items = draw(st.lists(TEXT, max_size=4))
        return [f"{key}: [{', '.join(items)}]"]
    if kind == "nested":
        indent = " " * draw(st.integers(1, 4))
        names = draw(st.lists(st.sampled_from(["url", "caption", "credit", "length"]), max_size=3))
        return [f"{key}:"] + [f"{indent}{name}: {draw(TEXT)}" for name in names]
    return [f"{key}:"]


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for key in draw(st.lists(KEYS, min_size=1, max_size=5, unique=True)):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# a comment", "  # indented comment"])))
        lines.extend(value_lines(key, draw))
    return "\n".join(lines) + "\n"


def through_yaml(text: str) -> dict[str, Field] | str:
    """What PyYAML's path gives: the fields, or the error message."""
    from feedpub import frontmatter

    original = frontmatter.read_simple
    frontmatter.read_simple = lambda *_: None  # type: ignore[assignment]
    try:
        return _read_yaml(text, "x.md", 2)[0]
    except ArticleError as error:
        return str(error.problem)
    finally:
        frontmatter.read_simple = original


def test_fast_reader_agrees_with_pyyaml() -> None:
    """Wherever the fast reader answers, PyYAML gives the same values and lines; and it
    answers at least half of the examples, so the comparison is not an empty one."""
    seen = {"answered": 0, "examples": 0}

    @settings(max_examples=400, deadline=None, database=None)
    @given(text=front_matter())
    @example(text="title: [a:b, c]\n")
    @example(text="title: Note:\n")
    @example(text="title: C# and F#\n")
    @example(text="image:\n  url: a.jpg\n  caption: x\nsection: y\n")
    @example(text="subtitle:\ntitle: x\n")
    @example(text="title: a" + " " * 5000 + "b\n")
    def compare(text: str) -> None:
        fast = read_simple(text, 2)
        seen["examples"] += 1
        if fast is not None:
            seen["answered"] += 1
            assert fast == through_yaml(text)

    compare()
    assert seen["answered"] >= MIN_ANSWERED * seen["examples"], seen


def test_fast_reader_answers_plain_front_matter() -> None:
    """Front matter of plain keys and values, a list and a nested block is read without
    PyYAML, and as PyYAML reads it."""
    text = (
        "title: A plain title\nsection: Opinion\ntopics: [One, Two]\n"
        "image:\n  url: a.jpg\n  caption: A caption\n"
    )
    fast = read_simple(text, 2)
    assert fast is not None
    assert fast == through_yaml(text)
    assert fast["image"].lines == {"url": 6, "caption": 7}


def test_fast_reader_defers_more_values_than_the_limit_to_pyyaml() -> None:
    """A one-line list of more values than PyYAML's path accepts is not read by the fast
    reader, so the limit holds on both paths."""
    text = "topics: [" + ", ".join(["a"] * (MAX_NODES + 1)) + "]\n"
    assert read_simple(text, 2) is None
    assert (
        through_yaml(text) == "x.md:2: error: topics: the front matter has more than 10000 values"
    )


def article_texts() -> list[Path]:
    folders = [
        FIXTURE_SITE / "articles", TESTS / "fixtures" / "bad", TESTS / "fixtures" / "sources",
        PROJECT / "articles",
    ]  # fmt: skip
    extensions = {".md", ".markdown", ".mkd", ".mdown", ".mkdn", ".mdwn"}
    return sorted(
        path for folder in folders for path in folder.rglob("*") if path.suffix in extensions
    )


@pytest.mark.parametrize("path", article_texts(), ids=lambda path: path.name)
def test_fast_reader_agrees_on_every_fixture(path: Path) -> None:
    """On every real and fixture article, the fast reader agrees with PyYAML or defers."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        return
    front = text[4 : text.index("\n---\n", 3) + 1]
    fast = read_simple(front, 2)
    if fast is not None:
        assert fast == through_yaml(front)


def test_the_seed_article_takes_the_fast_path() -> None:
    """Plain front matter like the seed article's is read without PyYAML."""
    text = (PROJECT / "articles" / "us-to-host-japan-south-korea-in-security-talks.md").read_text()
    front = text[4 : text.index("\n---\n", 3) + 1]
    fields = read_simple(front, 2)
    assert fields is not None
    assert fields["topics"].value == ["Diplomacy", "Security", "East Asia"]
    assert fields["image"].lines == {"url": 17, "caption": 18, "credit": 19}


def test_pyyaml_is_imported_only_for_front_matter_the_fast_reader_leaves() -> None:
    """A build of plain front matter never loads PyYAML (12 ms of every rerun's start); an
    anchor, which only PyYAML reads, loads it and is read."""
    import subprocess
    import sys

    script = """
import sys
from feedpub.config import default_config
from feedpub.parse import parse_article
plain = b"---\\ntitle: One\\nsection: News\\npublished: 2021-01-01T00:00:00Z\\n---\\nBody.\\n"
first = parse_article(plain, "a.md", default_config())
print(first.article is not None, "yaml" in sys.modules)
anchored = plain.replace(b"section: News", b"section: &s News\\nsubtitle: *s")
second = parse_article(anchored, "b.md", default_config())
print(second.article is not None and second.article.subtitle == "News", "yaml" in sys.modules)
"""
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert shown[:2] == ["True False", "True True"]
