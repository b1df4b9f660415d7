"""Loading one article: the bytes of a file → an Article, or the problems that keep it out.

Every test parses the bytes of one file with `parse_article`, as the loader
does, and asserts what a publisher would read: the exact message, the line,
the field and the severity.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedpub.config import load_config
from feedpub.errors import Problem, Severity
from feedpub.model import Article, Config, Image, Person
from feedpub.parse import Parsed, parse_article

SITE = """
[site]
title = "Example News"
url = "https://news.example/"
timezone = "America/New_York"
tag_authority = "news.example"

[site.author]
name = "Example Newsroom"
"""
CONFIG = load_config(SITE)
NEW_YORK = ZoneInfo("America/New_York")
PATH = "articles/story.md"
# Lines 2, 3 and 4 of the file (line 1 is the opening `---`).
REQUIRED = "title: A title\nsection: Opinion\npublished: 2021-03-30\n"
EXPECTED_DATE = "expected e.g. 2021-03-30 or 2021-03-30T09:15:00-04:00"
ERROR, WARNING = Severity.ERROR, Severity.WARNING


def source(front: str, body: str = "Body.\n") -> bytes:
    """An article file: `---`, the front matter, `---`, the body."""
    return f"---\n{front}---\n{body}".encode()


def parse(front: str, body: str = "Body.\n", path: str = PATH, config: Config = CONFIG) -> Parsed:
    """Parse an article made of `front` (front matter lines) and `body`."""
    return parse_article(source(front, body), path, config)


def accepted(
    front: str, body: str = "Body.\n", path: str = PATH, config: Config = CONFIG
) -> Article:
    """The article, asserting that it parsed without a single problem."""
    result = parse(front, body, path, config)
    assert result.problems == ()
    assert result.article is not None
    return result.article


def only_problem(result: Parsed) -> Problem:
    """The one problem `result` has."""
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def assert_problem(
    problem: Problem,
    text: str,
    line: int | None,
    field: str | None = None,
    severity: Severity = ERROR,
) -> None:
    """`problem` reads `text` and is located at `line` and `field`, with `severity`."""
    assert str(problem) == text
    assert problem.line == line
    assert problem.field == field
    assert problem.severity is severity


def assert_refused(result: Parsed, text: str, line: int | None, field: str | None = None) -> None:
    """The article is kept out by exactly one error."""
    assert result.article is None
    assert_problem(only_problem(result), text, line, field, ERROR)


# --- Encoding and the shape of the file -----------------------------------------------------


def test_bom_and_crlf_are_accepted() -> None:
    """A UTF-8 byte-order mark and CRLF line ends are accepted; the body gets LF line ends."""
    raw = (
        b"\xef\xbb\xbf---\r\ntitle: A title\r\nsection: Opinion\r\npublished: 2021-03-30\r\n"
        b"---\r\nFirst line.\r\nSecond line.\r\n"
    )
    result = parse_article(raw, PATH, CONFIG)
    assert result.problems == ()
    assert result.article is not None
    assert result.article.title == "A title"
    assert result.article.section == "Opinion"
    assert result.article.body == "First line.\nSecond line.\n"


def test_lf_body_is_kept_as_written() -> None:
    """With LF line ends the body is everything after the closing `---` line, unchanged."""
    body = "First paragraph.\n\n- a list\n- ---\n\n---\n\nAfter a thematic break.\n"
    assert accepted(REQUIRED, body).body == body


def test_empty_file_is_refused() -> None:
    """An empty file is an error that says the file is empty."""
    assert_refused(
        parse_article(b"", PATH, CONFIG),
        "articles/story.md: error: the file is empty; expected front matter and a body",
        None,
    )


def test_whitespace_only_file_is_refused_as_empty() -> None:
    """A file of nothing but blanks and line ends is reported as empty."""
    assert_refused(
        parse_article(b"  \r\n\t\n\n", PATH, CONFIG),
        "articles/story.md: error: the file is empty; expected front matter and a body",
        None,
    )


def test_file_of_only_a_bom_is_refused_as_empty() -> None:
    """A file holding only a byte-order mark and blanks is reported as empty, like any other."""
    assert_refused(
        parse_article(b"\xef\xbb\xbf\r\n", PATH, CONFIG),
        "articles/story.md: error: the file is empty; expected front matter and a body",
        None,
    )


def test_invalid_utf8_names_the_line_of_the_bad_byte() -> None:
    """Bytes that are not UTF-8 are an error naming the byte and the line it is on."""
    raw = b"---\ntitle: A title\nsection: Op\xe9nion\npublished: 2021-03-30\n---\nBody.\n"
    assert_refused(
        parse_article(raw, PATH, CONFIG),
        "articles/story.md:3: error: text that is not UTF-8: byte 0xe9 is not UTF-8; "
        "expected a UTF-8 text file",
        3,
    )


def test_binary_file_is_refused_as_binary_data() -> None:
    """A binary file (NUL bytes, not UTF-8) is reported as binary data, not as bad text."""
    raw = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert_refused(
        parse_article(raw, PATH, CONFIG),
        "articles/story.md:1: error: binary data: byte 0x89 is not UTF-8; "
        "expected a UTF-8 text file",
        1,
    )


def test_nul_filled_file_is_refused_as_binary_data() -> None:
    """A file that decodes as UTF-8 but is mostly NUL bytes is binary data."""
    raw = b"\x00\x00\x00\x00data" * 64
    assert_refused(
        parse_article(raw, PATH, CONFIG),
        "articles/story.md: error: binary data (NUL bytes); expected a UTF-8 text file",
        None,
    )


def test_missing_opening_fence_is_refused() -> None:
    """A file that starts with neither `---`, `+++` nor a `Key: value` line is an error on
    line 1 that names the three forms."""
    raw = b"A title\n\ntitle: A title\nsection: Opinion\npublished: 2021-03-30\n\nBody.\n"
    assert_refused(
        parse_article(raw, PATH, CONFIG),
        "articles/story.md:1: error: expected the file to start with front matter: a '---' "
        "line opening YAML, a '+++' line opening TOML, or 'Key: value' lines (Pelican)",
        1,
    )


def test_unterminated_front_matter_is_refused() -> None:
    """Front matter that is never closed is an error naming the line that opened it."""
    raw = b"---\ntitle: A title\nsection: Opinion\npublished: 2021-03-30\n\nBody.\n"
    assert_refused(
        parse_article(raw, PATH, CONFIG),
        "articles/story.md:1: error: the front matter opened on line 1 is never closed "
        "by a '---' line",
        1,
    )


def test_yaml_syntax_error_names_the_file_line() -> None:
    """A YAML syntax error names the line of the file (front matter starts on line 2)."""
    result = parse("title: A title\nsection: Opinion\n  oops: nested\npublished: 2021-03-30\n")
    assert_refused(
        result,
        "articles/story.md:4: error: oops: front matter is not valid YAML: "
        "mapping values are not allowed in this context; expected one 'key: value' per line; "
        "quote a value that holds ': ' or starts with one of * & ! [ { | > @ %",
        4,
        "oops",
    )


def test_front_matter_that_is_a_list_is_refused() -> None:
    """Front matter must be a mapping; a list is an error on the line it starts."""
    assert_refused(
        parse("- title\n- section\n"),
        "articles/story.md:2: error: expected the front matter to be a mapping of keys "
        "to values, got a list",
        2,
    )


def test_front_matter_that_is_a_scalar_is_refused() -> None:
    """Front matter must be a mapping; a lone text is an error quoting it."""
    assert_refused(
        parse("just a sentence\n"),
        "articles/story.md:2: error: expected the front matter to be a mapping of keys "
        "to values, got the text 'just a sentence'",
        2,
    )


def test_empty_front_matter_is_refused() -> None:
    """Empty front matter is an error that names the required keys."""
    assert_refused(
        parse_article(b"---\n---\nBody.\n", PATH, CONFIG),
        "articles/story.md:1: error: the front matter is empty; "
        "expected title, section and published",
        1,
    )


# --- Safe YAML ------------------------------------------------------------------------------


def test_duplicate_key_names_both_lines() -> None:
    """A key given twice is an error on the second line that names the first."""
    assert_refused(
        parse(REQUIRED + "title: Another title\n"),
        "articles/story.md:5: error: title: the key is given twice (first on line 2)",
        5,
        "title",
    )


@pytest.mark.parametrize(
    ("line", "tag"),
    [
        ('subtitle: !!python/object/apply:os.system ["x"]\n', "python/object/apply:os.system"),
        ("subtitle: !!binary aGVsbG8=\n", "binary"),
        ("subtitle: !!int 3\n", "int"),
    ],
    ids=["python-object", "binary", "int"],
)
def test_yaml_tags_are_refused_with_their_line(line: str, tag: str) -> None:
    """A YAML tag (which would build an object or a non-text value) is an error on its line."""
    assert_refused(
        parse(REQUIRED + line),
        f"articles/story.md:5: error: subtitle: YAML tag 'tag:yaml.org,2002:{tag}' "
        "is not allowed; expected plain text",
        5,
        "subtitle",
    )


def test_yaml_tag_on_a_key_is_refused() -> None:
    """A YAML tag on a key is refused like one on a value, not silently dropped."""
    result = parse(REQUIRED + "!!python/name:os.system : x\n")
    assert result.article is None
    assert [problem.severity for problem in result.problems] == [ERROR]
    assert "YAML tag" in result.problems[0].message


def test_alias_bomb_is_refused_fast() -> None:
    """A billion-laughs alias bomb is refused at once, with the key it is under."""
    bomb = "subtitle:\n  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        bomb += f"  - &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    calls = 0

    def count(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        calls += event in {"call", "c_call"}

    sys.setprofile(count)
    try:
        result = parse(REQUIRED + bomb)
    finally:
        sys.setprofile(None)
    # Expanded, the bomb holds 9**9 values; refused at the 10001st, its walk stays small.
    assert calls < 200_000
    assert_refused(
        result,
        "articles/story.md:6: error: subtitle: the front matter has more than 10000 values",
        6,
        "subtitle",
    )


def test_self_referencing_alias_is_refused() -> None:
    """A value that contains itself through an alias is an error, not a hang."""
    assert_refused(
        parse(REQUIRED + "subtitle: &loop [*loop]\n"),
        "articles/story.md:5: error: subtitle: the value refers to itself",
        5,
        "subtitle",
    )


def test_unknown_key_is_a_warning_with_a_hint() -> None:
    """An unknown key such as `tittle` is a warning naming the key and its near match."""
    result = parse("tittle: A typo\n" + REQUIRED)
    assert result.article is not None
    assert_problem(
        only_problem(result),
        "articles/story.md:2: warning: tittle: unknown key 'tittle' is ignored; "
        "did you mean 'title'?",
        2,
        "tittle",
        WARNING,
    )


def test_unknown_key_without_a_near_match_has_no_hint() -> None:
    """An unknown key that resembles no known key is a warning without a guess."""
    result = parse(REQUIRED + "colour: red\n")
    assert result.article is not None
    assert_problem(
        only_problem(result),
        "articles/story.md:5: warning: colour: unknown key 'colour' is ignored",
        5,
        "colour",
        WARNING,
    )


@pytest.mark.parametrize("scalar", ["no", "yes", "2021-03-30", "1.0", "0x1F", "null", "~"])
def test_scalars_are_kept_as_text(scalar: str) -> None:
    """YAML never turns a scalar into a boolean, date, number or null: the text is kept."""
    article = accepted(f"title: {scalar}\nsection: Opinion\npublished: 2021-03-30\n")
    assert article.title == scalar


# --- Required fields and their types --------------------------------------------------------


def test_every_missing_required_field_is_reported_in_one_run() -> None:
    """Missing title, section and published are three problems from one file, not one."""
    result = parse("subtitle: Only a deck\n")
    assert result.article is None
    assert [str(problem) for problem in result.problems] == [
        "articles/story.md: error: title: is required and missing",
        "articles/story.md: error: section: is required and missing",
        "articles/story.md: error: published: is required and missing",
    ]
    assert [problem.field for problem in result.problems] == ["title", "section", "published"]
    assert all(problem.line is None for problem in result.problems)
    assert all(problem.severity is ERROR for problem in result.problems)


def test_empty_required_field_is_refused() -> None:
    """A required field given as empty text is an error on its line."""
    assert_refused(
        parse("title: ''\nsection: Opinion\npublished: 2021-03-30\n"),
        "articles/story.md:2: error: title: expected text, got nothing",
        2,
        "title",
    )


@pytest.mark.parametrize(
    ("front", "text", "line", "field"),
    [
        (
            "title: [One, Two]\nsection: Opinion\npublished: 2021-03-30\n",
            "articles/story.md:2: error: title: expected text, got a list",
            2,
            "title",
        ),
        (
            REQUIRED + "topics: {Diplomacy: yes}\n",
            "articles/story.md:5: error: topics: expected a list of topic names or one "
            "comma-separated text",
            5,
            "topics",
        ),
        (
            REQUIRED + "author: {email: a@example.org}\n",
            "articles/story.md:5: error: author: expected a name, a list of names, or a mapping "
            "with name, email and uri",
            5,
            "author",
        ),
        (
            REQUIRED + "author: [[Ankit Panda]]\n",
            "articles/story.md:5: error: author: expected a name, a list of names, or a mapping "
            "with name, email and uri",
            5,
            "author",
        ),
    ],
    ids=["title-list", "topics-mapping", "author-mapping-without-name", "author-nested-list"],
)
def test_wrongly_typed_field_is_refused(front: str, text: str, line: int, field: str) -> None:
    """A field of the wrong type is an error naming the field and the type expected."""
    assert_refused(parse(front), text, line, field)


# --- Topics and sections --------------------------------------------------------------------


def test_topics_as_a_list() -> None:
    """Topics given as a list drop empty names and names whose slug is already there."""
    article = accepted(
        REQUIRED + "topics: [Diplomacy, Security, '', East  Asia, security, EAST-ASIA]\n"
    )
    assert article.topics == ("Diplomacy", "Security", "East Asia")


def test_topics_as_a_comma_separated_text() -> None:
    """Topics given as one text are split at commas, with the same cleaning as a list."""
    article = accepted(REQUIRED + "topics: Diplomacy, , Security,East  Asia, SECURITY,\n")
    assert article.topics == ("Diplomacy", "Security", "East Asia")


def test_no_topics() -> None:
    """Without `topics` the article has none."""
    assert accepted(REQUIRED).topics == ()


@pytest.mark.parametrize("name", ["---", "!!!"])
def test_topic_without_letter_or_digit_is_refused(name: str) -> None:
    """A topic with no letter or digit cannot name a feed: an error quoting it."""
    assert_refused(
        parse(REQUIRED + f"topics: [Diplomacy, '{name}']\n"),
        f"articles/story.md:5: error: topics: topic '{name}' has no letter or digit "
        "to name its feed by",
        5,
        "topics",
    )


@pytest.mark.parametrize("name", ["---", "!!!"])
def test_section_without_letter_or_digit_is_refused(name: str) -> None:
    """A section with no letter or digit cannot name a feed: an error quoting it."""
    assert_refused(
        parse(f"title: A title\nsection: '{name}'\npublished: 2021-03-30\n"),
        f"articles/story.md:3: error: section: '{name}' has no letter or digit to name its feed by",
        3,
        "section",
    )


# --- Dates ----------------------------------------------------------------------------------


def published_at(text: str) -> datetime:
    """`published` of an article whose front matter gives it as `text`."""
    return accepted(f"title: A title\nsection: Opinion\npublished: '{text}'\n").published


def test_naive_date_time_is_in_the_site_zone() -> None:
    """A date-time without a zone is read in the site's time zone."""
    value = published_at("2021-03-30T09:15:00")
    assert value == datetime(2021, 3, 30, 9, 15, tzinfo=NEW_YORK)
    assert value.utcoffset() == timedelta(hours=-4)


def test_zoned_date_time_keeps_its_offset() -> None:
    """A date-time with an offset is that instant: 09:15-04:00 is 13:15 UTC."""
    value = published_at("2021-03-30T09:15:00-04:00")
    assert value.astimezone(UTC) == datetime(2021, 3, 30, 13, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "offset"), [("2021-03-30", -4), ("2021-01-15", -5)], ids=["summer", "winter"]
)
def test_date_only_is_midnight_in_the_site_zone(text: str, offset: int) -> None:
    """A date without a time is midnight in the site's zone, with that day's offset."""
    value = published_at(text)
    assert value == datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)
    assert (value.hour, value.minute, value.second) == (0, 0, 0)
    assert value.utcoffset() == timedelta(hours=offset)


def test_long_form_date_is_read() -> None:
    """A date in words as dateutil reads it, `March 30, 2021 9:15 AM`, is accepted."""
    assert published_at("March 30, 2021 9:15 AM") == datetime(2021, 3, 30, 9, 15, tzinfo=NEW_YORK)


def test_microseconds_are_dropped() -> None:
    """Fractions of a second are dropped, so feeds carry whole seconds."""
    value = published_at("2021-03-30T09:15:00.123456-04:00")
    assert value.microsecond == 0
    assert value.astimezone(UTC) == datetime(2021, 3, 30, 13, 15, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2021", "March 2021", "30 March"])
def test_incomplete_date_is_refused(text: str) -> None:
    """A date without a year, a month and a day is refused rather than completed."""
    assert_refused(
        parse(f"title: A title\nsection: Opinion\npublished: '{text}'\n"),
        f"articles/story.md:4: error: published: '{text}' is not a complete date "
        f"(a year, a month and a day are needed); {EXPECTED_DATE}",
        4,
        "published",
    )


@pytest.mark.parametrize("text", ["banana", "soon"])
def test_nonsense_date_is_refused(text: str) -> None:
    """Text that is no date is an error quoting it and showing the forms expected."""
    assert_refused(
        parse(f"title: A title\nsection: Opinion\npublished: {text}\n"),
        f"articles/story.md:4: error: published: '{text}' is not a date; {EXPECTED_DATE}",
        4,
        "published",
    )


@pytest.mark.parametrize("zone", ["XYZ", "EST"])
def test_unknown_zone_abbreviation_is_refused(zone: str) -> None:
    """A zone abbreviation is refused (it would be silently ignored), asking for an offset."""
    assert_refused(
        parse(f"title: A title\nsection: Opinion\npublished: 2021-03-30 09:15 {zone}\n"),
        f"articles/story.md:4: error: published: '2021-03-30 09:15 {zone}' names a time zone "
        f"that is not known; give an offset such as -04:00; {EXPECTED_DATE}",
        4,
        "published",
    )


def test_updated_before_published_is_refused() -> None:
    """If `updated` precedes `published`, name the file, line and field."""
    assert_refused(
        parse(REQUIRED.replace("2021-03-30", "2021-03-30T09:15:00Z") + "updated: 2021-03-29\n"),
        "articles/story.md:5: error: updated: 2021-03-29T00:00:00-04:00 is before published "
        "(2021-03-30T09:15:00+00:00); expected the same time or later",
        5,
        "updated",
    )


def test_updated_defaults_to_published() -> None:
    """Without `updated`, the article was last updated when it was published."""
    article = accepted(REQUIRED)
    assert article.updated == article.published == datetime(2021, 3, 30, tzinfo=NEW_YORK)


def test_updated_is_kept_when_later() -> None:
    """A later `updated` is kept as given."""
    article = accepted(REQUIRED + "updated: 2021-04-01T10:00:00Z\n")
    assert article.updated == datetime(2021, 4, 1, 10, tzinfo=UTC)


# --- Draft, slug, id and url ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "draft"), [("true", True), ("yes", True), ("false", False), ("no", False)]
)
def test_draft_flag(text: str, draft: bool) -> None:
    """`draft` reads true/yes as true and false/no as false."""
    assert accepted(REQUIRED + f"draft: {text}\n").draft is draft


def test_no_draft_flag_means_not_a_draft() -> None:
    """Without `draft` the article is not a draft."""
    assert accepted(REQUIRED).draft is False


def test_draft_that_is_not_a_boolean_is_refused() -> None:
    """`draft: maybe` is an error quoting the value and what was expected."""
    assert_refused(
        parse(REQUIRED + "draft: maybe\n"),
        "articles/story.md:5: error: draft: expected true or false, got 'maybe'",
        5,
        "draft",
    )


def test_slug_defaults_to_the_slugified_file_name() -> None:
    """Without `slug`, the slug is the file name without `.md`, slugified; folders do not count."""
    article = accepted(REQUIRED, path="articles/2021/03/Trans Pacific_View.md")
    assert article.slug == "trans-pacific-view"


def test_empty_slug_falls_back_to_the_file_name() -> None:
    """`slug:` with nothing after it is no slug: the file name (less a date prefix) is used."""
    article = accepted(REQUIRED + "slug:\n", path="articles/2021-03-30-a-story.md")
    assert article.slug == "a-story"


def test_explicit_slug_is_slugified() -> None:
    """A `slug` given in the front matter is slugified too."""
    assert accepted(REQUIRED + "slug: My Great Slug!\n").slug == "my-great-slug"


def test_slug_without_letter_or_digit_is_refused() -> None:
    """A `slug` with no letter or digit is an error on its line."""
    assert_refused(
        parse(REQUIRED + "slug: '!!!'\n"),
        "articles/story.md:5: error: slug: the slug has no letter or digit to make a slug of",
        5,
        "slug",
    )


def test_file_name_without_letter_or_digit_needs_a_slug() -> None:
    """A file name with no letter or digit, and no `slug`, is an error naming the file name."""
    assert_refused(
        parse(REQUIRED, path="articles/!!!.md"),
        "articles/!!!.md: error: slug: the file name has no letter or digit to make a slug of",
        None,
        "slug",
    )


def test_given_id_is_kept() -> None:
    """An `id` that is an absolute IRI is the entry id, as given."""
    given = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert accepted(REQUIRED + f"id: {given}\n").id == given


@pytest.mark.parametrize("given", ["not an iri", "/2021/03/story/", "story"])
def test_id_that_is_not_an_absolute_iri_is_refused(given: str) -> None:
    """An `id` that is not an absolute IRI is an error quoting it."""
    assert_refused(
        parse(REQUIRED + f"id: {given}\n"),
        "articles/story.md:5: error: id: expected an absolute IRI such as 'tag:…' or "
        f"'urn:uuid:…', got {given!r}",
        5,
        "id",
    )


def test_derived_id_is_a_tag_uri() -> None:
    """Without `id`, the id is `tag:<authority>,<date of published>:<slug>`."""
    assert accepted(REQUIRED).id == "tag:news.example,2021-03-30:story"


def test_derived_id_uses_the_site_local_day_of_a_naive_time() -> None:
    """A naive late-evening time is dated by the site's day, not by UTC's."""
    article = accepted("title: A title\nsection: Opinion\npublished: 2021-03-30T23:30:00\n")
    assert article.id == "tag:news.example,2021-03-30:story"


def test_derived_id_uses_the_site_local_day_of_a_zoned_time() -> None:
    """The id's date is the day of `published` in the site's zone, whatever offset is written.

    01:00Z on 31 March is 21:00 on 30 March in New York, the site's zone; writing the
    same instant as `2021-03-30T21:00:00-04:00` must not change the id.
    """
    utc = accepted("title: A title\nsection: Opinion\npublished: 2021-03-31T01:00:00Z\n")
    local = accepted("title: A title\nsection: Opinion\npublished: 2021-03-30T21:00:00-04:00\n")
    assert utc.id == local.id == "tag:news.example,2021-03-30:story"


def test_default_url_uses_the_site_local_day_of_a_zoned_time() -> None:
    """The link pattern is filled with the day of `published` in the site's zone."""
    article = accepted("title: A title\nsection: Opinion\npublished: 2021-04-01T01:00:00Z\n")
    assert article.url == "https://news.example/2021/03/story/"


@pytest.mark.parametrize("given", ["/world/a-story/", "world/a-story/"])
def test_relative_url_is_made_absolute_against_the_site_url(given: str) -> None:
    """A relative `url` is resolved against the site's url."""
    assert accepted(REQUIRED + f"url: {given}\n").url == "https://news.example/world/a-story/"


def test_relative_url_under_a_site_path() -> None:
    """A relative `url` stays under a site url that has a path."""
    config = load_config('[site]\nurl = "https://example.org/news/"\n')
    article = accepted(REQUIRED + "url: world/a-story/\n", config=config)
    assert article.url == "https://example.org/news/world/a-story/"


def test_absolute_url_is_kept() -> None:
    """An absolute `url` is kept as given."""
    article = accepted(REQUIRED + "url: https://other.example/x/y?z=1\n")
    assert article.url == "https://other.example/x/y?z=1"


def test_default_url_follows_the_link_pattern() -> None:
    """Without `url`, the address is the site's link pattern filled in, under the site url."""
    assert accepted(REQUIRED).url == "https://news.example/2021/03/story/"


def test_default_url_follows_a_custom_link_pattern() -> None:
    """A configured link pattern gets a 4-digit year and 2-digit month and day."""
    config = load_config(
        '[site]\nurl = "https://example.org/"\nlink_pattern = "{year}/{month}/{day}/{slug}.html"\n'
    )
    article = accepted("title: A title\nsection: Opinion\npublished: 2021-03-05\n", config=config)
    assert article.url == "https://example.org/2021/03/05/story.html"


# --- Image ----------------------------------------------------------------------------------


def test_image_as_a_mapping() -> None:
    """An image mapping: url relative to the SITE url, type from the extension, length in bytes."""
    article = accepted(
        REQUIRED
        + "image:\n  url: img/photo.JPG\n  caption: A  caption\n  credit: A. Photographer\n"
        "  length: '12345'\n"
    )
    assert article.image == Image(
        url="https://news.example/img/photo.JPG",
        caption="A caption",
        credit="A. Photographer",
        type="image/jpeg",
        length=12345,
    )


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.png", "image/png"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("a.svg", "image/svg+xml"),
        ("a.PNG?w=640", "image/png"),
        ("a.tiff", None),
        ("a", None),
    ],
)
def test_image_type_comes_from_a_fixed_table(name: str, media_type: str | None) -> None:
    """The image type is inferred from the extension by a fixed table; unknown ones stay unset."""
    image = accepted(REQUIRED + f"image: {name}\n").image
    assert image is not None
    assert image.type == media_type


def test_image_type_given_is_kept() -> None:
    """An explicit `type` wins over the extension."""
    image = accepted(REQUIRED + "image:\n  url: a.tiff\n  type: image/tiff\n").image
    assert image is not None
    assert image.type == "image/tiff"


def test_image_as_a_plain_text() -> None:
    """An image given as one text is its url, made absolute against the site url."""
    image = accepted(REQUIRED + "image: /img/photo.webp\n").image
    assert image == Image(url="https://news.example/img/photo.webp", type="image/webp")


def test_image_without_url_is_refused() -> None:
    """An image mapping without `url` is an error."""
    assert_refused(
        parse(REQUIRED + "image:\n  caption: A caption\n"),
        "articles/story.md:5: error: image: expected an image.url when an image is given",
        5,
        "image",
    )


def test_image_length_must_be_digits() -> None:
    """`image.length` is a number of bytes: `12kB` is an error quoting it."""
    assert_refused(
        parse(REQUIRED + "image:\n  url: a.png\n  length: 12kB\n"),
        "articles/story.md:7: error: image.length: expected a size in bytes such as 48213, "
        "got '12kB'",
        7,
        "image.length",
    )


def test_unknown_image_key_is_a_warning() -> None:
    """An unknown key inside `image` is a warning with a hint; the image is kept."""
    result = parse(REQUIRED + "image:\n  url: a.png\n  captoin: A caption\n")
    assert result.article is not None
    assert result.article.image == Image(url="https://news.example/a.png", type="image/png")
    assert_problem(
        only_problem(result),
        "articles/story.md:7: warning: image.captoin: unknown key 'captoin' is ignored; "
        "did you mean 'caption'?",
        7,
        "image.captoin",
        WARNING,
    )


# --- Authors --------------------------------------------------------------------------------


def test_author_as_a_name() -> None:
    """`author` as one name is the one author (blanks collapsed)."""
    assert accepted(REQUIRED + "author: Ankit  Panda\n").authors == (Person("Ankit Panda"),)


def test_author_as_a_list() -> None:
    """`author` as a list of names gives every author, in order."""
    article = accepted(REQUIRED + "author: [Ankit Panda, Shannon Tiezzi]\n")
    assert article.authors == (Person("Ankit Panda"), Person("Shannon Tiezzi"))


def test_author_defaults_to_the_site_author() -> None:
    """Without `author`, the site's author is the article's."""
    assert accepted(REQUIRED).authors == (Person("Example Newsroom"),)


# --- Characters XML forbids -----------------------------------------------------------------

_CONTROL = [
    pytest.param("\x0b", "U+000B", id="vertical-tab"),
    pytest.param("\x1b", "U+001B", id="escape"),
    pytest.param(
        "\x00",
        "U+0000",
        id="nul",
    ),
    pytest.param("\ufffe", "U+FFFE", id="non-character"),
]


@pytest.mark.parametrize(("char", "code"), _CONTROL)
def test_forbidden_character_in_front_matter_is_removed(char: str, code: str) -> None:
    """A character XML 1.0 forbids in the front matter is removed with a warning naming its line."""
    result = parse(f"title: A{char}title\nsection: Opinion\npublished: 2021-03-30\n")
    assert result.article is not None
    assert result.article.title == "Atitle"
    assert_problem(
        only_problem(result),
        f"articles/story.md:2: warning: removed characters that XML 1.0 forbids ({code})",
        2,
        None,
        WARNING,
    )


@pytest.mark.parametrize(("char", "code"), _CONTROL)
def test_forbidden_character_in_body_is_removed(char: str, code: str) -> None:
    """A character XML 1.0 forbids in the body is removed with a warning naming its line."""
    result = parse(REQUIRED, f"Line one.\nLine{char} two.\n")
    assert result.article is not None
    assert result.article.body == "Line one.\nLine two.\n"
    assert_problem(
        only_problem(result),
        f"articles/story.md:7: warning: removed characters that XML 1.0 forbids ({code})",
        7,
        None,
        WARNING,
    )


# --- Time linear in the size of the file ----------------------------------------------------

RUN = " " * 100_000  # a quadratic pattern takes minutes over this; a linear one, milliseconds
HOSTILE_LINES = {
    "plain": f"title: a{RUN}b\nsection: S\npublished: 2021-03-30\n",
    "quoted": f'title: "a{RUN}b"\nsection: S\npublished: 2021-03-30\n',
    "list item": f"title: T\nsection: S\npublished: 2021-03-30\ntopics: [a{RUN}b, c]\n",
    "nested": f"title: T\nsection: S\npublished: 2021-03-30\nimage:\n  url: a{RUN}b\n",
    "key without colon": f"title: T\nsection: S\npublished: 2021-03-30\n{'k' * 100_000}\n",
    "key then spaces": f"title: T\nsection: S\npublished: 2021-03-30\nk{RUN}x\n",
    "date": f"title: T\nsection: S\npublished: 2021-03-30{RUN}x\n",
    "id": f"title: T\nsection: S\npublished: 2021-03-30\nid: {'a' * 100_000}\n",
    "image type": f"title: T\nsection: S\npublished: 2021-03-30\nimage:\n  url: a.png\n"
    f"  type: image/{'a' * 100_000} x\n",
}


@pytest.mark.parametrize("front", list(HOSTILE_LINES.values()), ids=list(HOSTILE_LINES))
def test_long_runs_in_a_line_are_read_in_linear_time(front: str) -> None:
    """A line of 100,000 spaces or letters is read (or refused) without a pattern backtracking
    over it: the parse returns an article or located problems, never hangs."""
    result = parse(front)
    assert result.article is not None or all(p.line is not None for p in result.problems)
    for problem in result.problems:
        assert len(problem.message) < 400  # long values are quoted cut short


@pytest.mark.parametrize(
    "raw",
    [
        f'+++\ntitle = "a{RUN}b"\ncategory = "S"\ndate = 2021-03-30\n+++\nB.\n'.encode(),
        f"+++\n{'k' * 100_000}{RUN}\n+++\nB.\n".encode(),
        f"Title: a{RUN}b\nCategory: S\nDate: 2021-03-30\n\nB.\n".encode(),
        f"{'K' * 100_000}: x\n\nB.\n".encode(),
        (
            "Title: A\nCategory: S\nDate: 2021-03-30\nSummary: s\n"
            + "    more words\n" * 100_000
            + "\nB.\n"
        ).encode(),
        f"---\ntitle: T\n{RUN}---{RUN}x\n".encode(),
    ],
    ids=["toml value", "toml key", "pelican value", "pelican key", "pelican lines", "fence"],
)
def test_long_runs_in_other_forms_are_read_in_linear_time(raw: bytes) -> None:
    """TOML, Pelican headers and fences with 100,000-character runs parse without hanging."""
    result = parse_article(raw, PATH, CONFIG)
    assert result.article is not None or result.problems
