"""Slugs and entry ids: property tests for the names that must never change and never escape."""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.config import load_config
from feedpub.model import Config
from feedpub.names import MAX_SLUG_BYTES, has_slug, slugify, tag_uri
from feedpub.parse import parse_article

FAST = settings(max_examples=200, deadline=None, database=None)
ROOT = Path(tempfile.gettempdir(), "feedpub-names", "feeds")

# Characters that make slugs interesting: separators, path parts, marks, wide forms.
_TRICKY = st.sampled_from(
    [*"/\\.-_ \t\n\r\x00~:", "..", "\u3000", "\u00a0", "\u2028", "\u0301", "\u094d",
     "ＦＵ", "İ", "ß", "ǅ", "ﬁ", "Å", "東", "д", "\U0001f600", "\ufffe", "\u200b"]
)  # fmt: skip
NAMES = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(_TRICKY, st.text(max_size=4)), max_size=20).map("".join),
    # long runs, to reach the byte limit and cut in the middle of a character
    st.text(alphabet=st.sampled_from("aé東д\U0001f600\u0301- "), min_size=60, max_size=400),
)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Trans-Pacific View", "trans-pacific-view"),
        ("東アジア", "東アジア"),
        ("Ближний Восток", "ближний-восток"),
        ("Économie", "économie"),
        ("E\u0301conomie", "économie"),
        ("ＦＵＬＬ\u3000ＷＩＤＴＨ", "full-width"),
        ("हिन्दी समाचार", "हिन्दी-समाचार"),
        ("../../etc/passwd", "etc-passwd"),
        ("  -- East   Asia --  ", "east-asia"),
    ],
    ids=[
        "ascii",
        "japanese",
        "russian",
        "composed-accent",
        "decomposed-accent",
        "full-width",
        "hindi-combining-marks",
        "path",
        "blanks-and-dashes",
    ],
)
def test_slug_examples(name: str, slug: str) -> None:
    """A slug is NFKC, lower-cased, `-` between runs of letters, marks and digits of any script."""
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["", "---", "!!!", " \t ", "…", "\u200b"])
def test_name_without_letter_or_digit_has_no_slug(name: str) -> None:
    """A name with no letter or digit has no slug: has_slug is false and the slug empty."""
    assert not has_slug(name)
    assert slugify(name) == ""


@FAST
@given(NAMES)
def test_slug_has_no_separator_dot_or_blank(name: str) -> None:
    """A slug never contains `/`, `\\`, `.` or whitespace."""
    slug = slugify(name)
    assert not set(slug) & set("/\\.")
    assert not any(char.isspace() for char in slug)


@FAST
@given(NAMES)
def test_slug_never_starts_or_ends_with_a_dash(name: str) -> None:
    """A slug never starts or ends with `-`."""
    slug = slugify(name)
    assert not slug.startswith("-")
    assert not slug.endswith("-")


@FAST
@given(NAMES)
def test_slugify_is_idempotent(name: str) -> None:
    """The slug of a slug is itself."""
    slug = slugify(name)
    assert slugify(slug) == slug


@FAST
@given(NAMES)
def test_slug_is_empty_exactly_when_the_name_has_no_letter_or_digit(name: str) -> None:
    """A slug is never empty when has_slug is true, and empty when it is false."""
    assert bool(slugify(name)) == has_slug(name)


@FAST
@given(NAMES)
def test_slug_fits_the_byte_limit(name: str) -> None:
    """A slug is at most MAX_SLUG_BYTES bytes in UTF-8, so a file named after it fits."""
    assert len(slugify(name).encode("utf-8")) <= MAX_SLUG_BYTES


@FAST
@given(NAMES)
def test_feed_path_stays_inside_the_output_folder(name: str) -> None:
    """`<root>/topics/<slug>.atom` always resolves to a file directly inside `<root>/topics`."""
    path = Path(ROOT, "topics", slugify(name) + ".atom").resolve()
    assert path.is_relative_to(ROOT.resolve())
    assert path.parent == (ROOT / "topics").resolve()


def test_tag_uri_form() -> None:
    """A tag URI is `tag:<authority>,<YYYY-MM-DD>:<slug>`, the slug percent-encoded."""
    assert tag_uri("news.example", date(2021, 3, 30), "a-story") == (
        "tag:news.example,2021-03-30:a-story"
    )
    assert tag_uri("news.example", date(2021, 3, 30), "東アジア") == (
        "tag:news.example,2021-03-30:%E6%9D%B1%E3%82%A2%E3%82%B8%E3%82%A2"
    )


# --- Entry ids, through parse_article -------------------------------------------------------

AUTHORITY = "news.example"
ID = "tag:news.example,2021-03-30:us-china-summit"
FILE = "us-china-summit.md"
# Ways of writing one instant (09:15 in New York on 30 March 2021).
PUBLISHED = st.sampled_from(
    ["2021-03-30T09:15:00-04:00", "2021-03-30T09:15:00", "2021-03-30 09:15",
     "March 30, 2021 9:15 AM", "2021-03-30T13:15:00Z"]
)  # fmt: skip
# Text YAML can carry in a double-quoted scalar (written as JSON), with a letter to slug by.
_WORDS = st.text(
    alphabet=st.characters(categories=["L", "M", "N", "Zs", "Pd", "Po", "Ps", "Pe", "S"]),
    max_size=30,
)
NAMED = st.builds(lambda first, rest: first + rest, st.sampled_from("AzЖ東"), _WORDS)
BODIES = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=300
)
UPDATED = st.none() | st.datetimes(
    min_value=datetime(2021, 3, 30, 10), max_value=datetime(2035, 12, 31)
).map(lambda value: value.replace(microsecond=0).isoformat())
SITES = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["news.example", "www.news.example", "news.example:8443", "other.example"]),
    st.sampled_from(["", "news/", "en/world/", "a%20b/"]),
)


def site_config(url: str) -> Config:
    """A site at `url`, in New York, whose tag authority stays `news.example`."""
    return load_config(
        f'[site]\nurl = "{url}"\ntimezone = "America/New_York"\ntag_authority = "{AUTHORITY}"\n'
    )


def article_id(
    config: Config,
    path: str = f"articles/{FILE}",
    *,
    title: str = "Leaders meet",
    section: str = "Trans-Pacific View",
    topics: list[str] | None = None,
    published: str = "2021-03-30T09:15:00-04:00",
    updated: str | None = None,
    body: str = "Body.\n",
    slug: str | None = None,
) -> str:
    """The id parse_article gives an article written with these values."""
    lines = [
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"section: {json.dumps(section, ensure_ascii=False)}",
        f"published: {json.dumps(published)}",
    ]
    if topics is not None:
        lines.append(f"topics: {json.dumps(topics, ensure_ascii=False)}")
    if updated is not None:
        lines.append(f"updated: {json.dumps(updated)}")
    if slug is not None:
        lines.append(f"slug: {json.dumps(slug, ensure_ascii=False)}")
    raw = ("---\n" + "\n".join(lines) + "\n---\n" + body).encode()
    result = parse_article(raw, path, config)
    assert result.article is not None, result.problems
    return result.article.id


BASE = site_config("https://news.example/")


def test_derived_id_of_the_base_article() -> None:
    """The id derived for the base article of the properties below."""
    assert article_id(BASE) == ID


@FAST
@given(
    title=NAMED,
    section=NAMED,
    topics=st.lists(NAMED, max_size=5),
    published=PUBLISHED,
    updated=UPDATED,
    body=BODIES,
    site=SITES,
    folder=st.sampled_from(["articles", "articles/2021/03", "archive/world"]),
)
def test_derived_id_survives_edits_and_site_moves(
    title: str,
    section: str,
    topics: list[str],
    published: str,
    updated: str | None,
    body: str,
    site: str,
    folder: str,
) -> None:
    """The id stays put when the body, title, topics, section, updated date, folder or site url
    and scheme change, as long as the tag authority, slug and day of publication do not."""
    config = site_config(site)
    assert config.site.tag_authority == AUTHORITY
    written = article_id(
        config,
        f"{folder}/{FILE}",
        title=title,
        section=section,
        topics=topics,
        published=published,
        updated=updated,
        body=body,
    )
    assert written == ID


@FAST
@given(st.lists(NAMED, min_size=2, max_size=2, unique_by=slugify))
def test_ids_differ_when_slugs_differ(slugs: list[str]) -> None:
    """Two articles with different slugs have different ids."""
    first, second = (article_id(BASE, slug=slug) for slug in slugs)
    assert first != second


@FAST
@given(
    st.lists(st.dates(date(1900, 1, 1), date(2100, 12, 31)), min_size=2, max_size=2, unique=True)
)
def test_ids_differ_when_publication_days_differ(days: list[date]) -> None:
    """Two articles published on different days have different ids, even with one slug."""
    first, second = (article_id(BASE, published=day.isoformat()) for day in days)
    assert first != second
    assert first == f"tag:{AUTHORITY},{days[0].isoformat()}:us-china-summit"
