"""The site configuration: `feedpub.toml` text → Config, and how the command line reports it."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import run, write_article

from feedpub.config import load_config
from feedpub.errors import ConfigError
from feedpub.model import ContentMode, Person

# Every key SPEC §2 documents, each set to something other than its default.
SPEC_EXAMPLE = """\
[site]
title = "The Diplomat"
description = "Current affairs in the Asia-Pacific region."
url = "https://thediplomat.com/"
language = "en"
timezone = "America/New_York"
tag_authority = "diplomat.example"
link_pattern = "{year}/{month}/{day}/{slug}/"
section_pattern = "columns/{slug}/"
topic_pattern = "tags/{slug}/"
feeds_url = "https://cdn.thediplomat.com/feeds/"

[site.author]
name = "The Diplomat Staff"
email = "editor@example.com"

[feeds]
max_entries = 20
content = "summary"
"""

AUTHOR_KEYS = "email, name, uri"
FEEDS_KEYS = "content, formats, groups, max_entries, summary_length"
SITE_KEYS = (
    "author, default_section, description, feeds_url, icon, language, link_pattern, logo, rights, "
    "section_pattern, tag_authority, timezone, title, topic_pattern, url"
)


def config_error(text: str, source: str = "feedpub.toml") -> str:
    """The message of the ConfigError that loading `text` raises."""
    with pytest.raises(ConfigError) as raised:
        load_config(text, source)
    return str(raised.value)


def test_empty_configuration_has_every_default() -> None:
    """An empty file is a complete configuration: every key has its default."""
    config = load_config("")
    site = config.site
    assert site.url == "https://example.org/"
    assert site.timezone == ZoneInfo("UTC")
    assert site.timezone_name == "UTC"
    assert site.tag_authority == "example.org"
    assert site.feeds_url == "https://example.org/feeds/"
    assert site.author == Person(site.title)
    assert site.language == "en"
    assert site.link_pattern == "{year}/{month}/{slug}/"
    assert site.section_pattern == "sections/{slug}/"
    assert site.topic_pattern == "topics/{slug}/"
    assert config.feeds.max_entries == 50
    assert config.feeds.content is ContentMode.FULL


def test_defaults_follow_the_configured_url_and_title() -> None:
    """Tag authority, feeds url and author name default from the site's url and title."""
    site = load_config(
        '[site]\ntitle = "Example News"\nurl = "http://news.example:8080/world/"\n'
    ).site
    assert site.tag_authority == "news.example"
    assert site.feeds_url == "http://news.example:8080/world/feeds/"
    assert site.author == Person("Example News")


def test_every_documented_key_is_accepted() -> None:
    """Every key of SPEC §2 is accepted and lands where it belongs."""
    config = load_config(SPEC_EXAMPLE)
    site = config.site
    assert site.title == "The Diplomat"
    assert site.description == "Current affairs in the Asia-Pacific region."
    assert site.url == "https://thediplomat.com/"
    assert site.language == "en"
    assert site.timezone == ZoneInfo("America/New_York")
    assert site.timezone_name == "America/New_York"
    assert site.tag_authority == "diplomat.example"
    assert site.link_pattern == "{year}/{month}/{day}/{slug}/"
    assert site.section_pattern == "columns/{slug}/"
    assert site.topic_pattern == "tags/{slug}/"
    assert site.feeds_url == "https://cdn.thediplomat.com/feeds/"
    assert site.author == Person("The Diplomat Staff", "editor@example.com")
    assert config.feeds.max_entries == 20
    assert config.feeds.content is ContentMode.SUMMARY


def test_url_gets_a_trailing_slash() -> None:
    """A site url without a trailing slash gets one, so addresses join under it."""
    site = load_config('[site]\nurl = "https://news.example/world"\n').site
    assert site.url == "https://news.example/world/"
    assert site.feeds_url == "https://news.example/world/feeds/"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'title = "Example News"\n',
            "feedpub.toml:1: title: unknown key (expected one of: archives, build, feeds, "
            "markdown, publish, serve, site, websub)",
        ),
        (
            '[site]\ntitle = "Example News"\n[sitte]\nurl = "https://news.example/"\n',
            "feedpub.toml:3: sitte: unknown key (expected one of: archives, build, feeds, "
            "markdown, publish, serve, site, websub)",
        ),
        (
            '[site]\ntitle = "Example News"\ntittle = "Example News"\n',
            f"feedpub.toml:3: site.tittle: unknown key (expected one of: {SITE_KEYS})",
        ),
        (
            '[site]\ntitle = "Example News"\n[site.author]\nname = "Desk"\nmail = "d@x.org"\n',
            f"feedpub.toml:5: site.author.mail: unknown key (expected one of: {AUTHOR_KEYS})",
        ),
        (
            "[feeds]\nmax_entries = 20\nmax_entry = 10\n",
            f"feedpub.toml:3: feeds.max_entry: unknown key (expected one of: {FEEDS_KEYS})",
        ),
    ],
    ids=["top-level", "top-level-table", "site", "site.author", "feeds"],
)
def test_unknown_key_is_refused_with_its_path_and_line(text: str, message: str) -> None:
    """An unknown key is an error naming its dotted path, its line and the keys allowed."""
    assert config_error(text) == message


def test_unknown_key_line_is_the_line_in_its_own_table() -> None:
    """The line of an unknown key is its own, even when another table has a key so named."""
    text = (
        '[site]\nurl = "https://news.example/"\n'
        '[site.author]\nname = "Desk"\nurl = "https://news.example/desk/"\n'
    )
    assert config_error(text) == (
        f"feedpub.toml:5: site.author.url: unknown key (expected one of: {AUTHOR_KEYS})"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[site]\ntitle = "Example News"\n\n[sitte]\nurl = "https://news.example/"\n',
            "feedpub.toml:4: sitte: unknown key (expected one of: archives, build, feeds, "
            "markdown, publish, serve, site, websub)",
        ),
        (
            '[site]\nurl = "https://news.example/"\n\ntimezone = "Mars/Olympus"\n',
            "feedpub.toml:4: site.timezone: expected an IANA time zone such as "
            "'America/New_York', got 'Mars/Olympus'",
        ),
    ],
    ids=["table-after-blank-line", "key-after-blank-line"],
)
def test_line_of_a_key_after_a_blank_line(text: str, message: str) -> None:
    """The line named is the key's own, not the blank line above it."""
    assert config_error(text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[feeds]\nmax_entries = "50"\n',
            "feedpub.toml:2: feeds.max_entries: expected an integer, got a string '50'",
        ),
        (
            "[feeds]\nmax_entries = true\n",
            "feedpub.toml:2: feeds.max_entries: expected an integer, got a boolean True",
        ),
        (
            "[feeds]\nmax_entries = 0\n",
            "feedpub.toml:2: feeds.max_entries: expected an integer of at least 1, got 0",
        ),
        (
            '[feeds]\ncontent = "partial"\n',
            "feedpub.toml:2: feeds.content: expected 'full' or 'summary', got 'partial'",
        ),
        (
            '[site]\nurl = "/news/"\n',
            "feedpub.toml:2: site.url: expected an absolute http(s) address without ? or #, "
            "got '/news/'",
        ),
        (
            "[site]\nurl = 3\n",
            "feedpub.toml:2: site.url: expected a string, got an integer 3",
        ),
        (
            '[site]\ntimezone = "Mars/Olympus"\n',
            "feedpub.toml:2: site.timezone: expected an IANA time zone such as "
            "'America/New_York', got 'Mars/Olympus'",
        ),
        (
            '[site]\nlanguage = "english!"\n',
            "feedpub.toml:2: site.language: expected a language tag such as 'en' or 'pt-BR', "
            "got 'english!'",
        ),
        (
            '[site]\ntag_authority = "not a domain!"\n',
            "feedpub.toml:2: site.tag_authority: expected a domain name or an e-mail address, "
            "got 'not a domain!'",
        ),
        (
            '[site]\nlink_pattern = "{year}/{hour}/{slug}/"\n',
            "feedpub.toml:2: site.link_pattern: expected a pattern using only {day}, {month}, "
            "{section}, {slug}, {year}, got '{year}/{hour}/{slug}/'",
        ),
        (
            '[site]\nlink_pattern = "{year}/{month}/"\n',
            "feedpub.toml:2: site.link_pattern: expected a pattern containing {slug}, "
            "got '{year}/{month}/'",
        ),
        (
            "site = 3\n",
            "feedpub.toml:1: site: expected a table, got an integer 3",
        ),
    ],
    ids=[
        "max_entries-string",
        "max_entries-boolean",
        "max_entries-zero",
        "content-partial",
        "url-relative",
        "url-integer",
        "timezone-unknown",
        "language-invalid",
        "tag_authority-invalid",
        "link_pattern-unknown-placeholder",
        "link_pattern-no-slug",
        "site-not-a-table",
    ],
)
def test_wrong_value_names_the_key_and_what_was_expected(text: str, message: str) -> None:
    """A wrong type or form is an error naming the key, its line and what was expected."""
    assert config_error(text) == message


def test_invalid_toml_names_the_file() -> None:
    """A file that is not TOML is an error naming the file and where the parser stopped."""
    assert config_error('[site\nurl = "https://news.example/"\n', "site/feedpub.toml") == (
        "site/feedpub.toml: not valid TOML: Expected ']' at the end of a table declaration "
        "(at line 1, column 6)"
    )


def test_messages_name_the_given_source() -> None:
    """Errors name the file they were read from, as given by the caller."""
    assert config_error("[feeds]\nmax_entries = 0\n", "conf/site.toml") == (
        "conf/site.toml:2: feeds.max_entries: expected an integer of at least 1, got 0"
    )


# --- At the command line --------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder with one good article under `articles/`."""
    write_article(
        tmp_path / "articles",
        "good.md",
        "title: Good\nsection: World\npublished: 2021-03-30T09:15:00-04:00\n",
    )
    return tmp_path


@pytest.mark.parametrize("command", ["build", "check", "list"])
def test_bad_configuration_exits_2_and_writes_nothing(site: Path, command: str) -> None:
    """A bad configuration file: exit 2, the message on stderr, and no output folder."""
    config = site / "feedpub.toml"
    config.write_text('[feeds]\nmax_entries = "50"\n', encoding="utf-8")
    out = site / "out"
    args: list[str | Path] = [command, "--articles", site / "articles", "--config", config]
    if command != "check":
        args += ["--out", out]
    result = run(*args, "--now", "2026-01-01T00:00:00Z")
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: {config}:2: feeds.max_entries: expected an integer, got a string '50'\n"
    )
    assert result.stdout == ""
    assert not out.exists()


def test_missing_configuration_file_exits_2(site: Path) -> None:
    """A --config file that does not exist: exit 2 naming it, and nothing written."""
    missing = site / "nowhere.toml"
    out = site / "out"
    result = run(
        "build", "--articles", site / "articles", "--out", out, "--config", missing,
        "--now", "2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == f"feedpub: error: {missing}: the configuration file does not exist\n"
    assert not out.exists()
