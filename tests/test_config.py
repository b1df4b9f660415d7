"""The site configuration: `feedpub.toml` text → Config, and how the command line reports it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import run, write_article

from feedpub.config import load_config, read_config
from feedpub.errors import ConfigError
from feedpub.model import ContentMode, MarkdownConfig, Person

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


# --- The tables of SPEC §5–§7 ---------------------------------------------------------------


def test_new_tables_have_their_defaults() -> None:
    """Without the new tables, each key has the default SPEC §5–§7 give it."""
    config = load_config("")
    assert config.site.default_section is None
    assert config.feeds.formats == ("atom", "rss", "json")
    assert config.feeds.groups == ("all", "sections", "topics", "authors")
    assert config.archives.enabled is True
    assert config.archives.groups == ("all", "sections")
    assert config.archives.page_size == 50
    assert config.archives.content is ContentMode.SUMMARY
    assert config.markdown == MarkdownConfig(
        tables=True, strikethrough=True, tasklists=True, footnotes=True, autolinks=True
    )
    assert config.websub.hubs == ()
    assert config.serve.max_age == 300
    assert config.publish.url is None
    assert config.publish.endpoint_url is None
    assert config.publish.region is None
    assert config.publish.cache_control == "public, max-age=300"


def test_new_tables_are_read() -> None:
    """Every key of the new tables lands where it belongs."""
    config = load_config(
        '[site]\ndefault_section = " News "\n'
        '[feeds]\nmax_entries = 30\nformats = ["json", "atom"]\n'
        'groups = ["all", "section_topics"]\n'
        '[archives]\nenabled = false\ngroups = ["topics"]\npage_size = 30\ncontent = "full"\n'
        "[markdown]\ntables = false\nfootnotes = false\n"
        '[websub]\nhubs = ["https://hub.example/", "http://other.example:8080/hub?x=1"]\n'
        "[serve]\nmax_age = 0\n"
        '[publish]\nurl = "s3://bucket/feeds/"\nendpoint_url = "https://s3.example:9000/"\n'
        'region = "eu-west-1"\ncache_control = "no-cache"\n'
    )
    assert config.site.default_section == "News"
    assert config.feeds.formats == ("json", "atom")
    assert config.feeds.groups == ("all", "section_topics")
    assert (config.archives.enabled, config.archives.groups) == (False, ("topics",))
    assert (config.archives.page_size, config.archives.content) == (30, ContentMode.FULL)
    assert config.markdown == MarkdownConfig(
        tables=False, strikethrough=True, tasklists=True, footnotes=False, autolinks=True
    )
    assert config.websub.hubs == ("https://hub.example/", "http://other.example:8080/hub?x=1")
    assert config.serve.max_age == 0
    assert config.publish.url == "s3://bucket/feeds/"
    assert config.publish.endpoint_url == "https://s3.example:9000/"
    assert (config.publish.region, config.publish.cache_control) == ("eu-west-1", "no-cache")


def test_page_size_follows_a_smaller_max_entries() -> None:
    """Unset, archives.page_size is feeds.max_entries when that is below 50."""
    assert load_config("[feeds]\nmax_entries = 10\n").archives.page_size == 10
    assert load_config("[feeds]\nmax_entries = 80\n").archives.page_size == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[feeds]\nmax_entries = 20\n[archives]\npage_size = 21\n",
            "feedpub.toml:4: archives.page_size: expected at most feeds.max_entries (20), got 21",
        ),
        (
            "[archives]\npage_size = 0\n",
            "feedpub.toml:2: archives.page_size: expected an integer of at least 1, got 0",
        ),
        (
            '[archives]\nenabled = "yes"\n',
            "feedpub.toml:2: archives.enabled: expected true or false, got a string 'yes'",
        ),
        (
            '[archives]\ngroups = ["all", "months"]\n',
            "feedpub.toml:2: archives.groups: expected each name to be one of 'all', 'sections', "
            "'topics', 'authors', 'section_topics', got 'months'",
        ),
        (
            '[archives]\ncontent = "some"\n',
            "feedpub.toml:2: archives.content: expected 'full' or 'summary', got 'some'",
        ),
        (
            "[feeds]\nformats = []\n",
            "feedpub.toml:2: feeds.formats: expected at least one name",
        ),
        (
            '[feeds]\nformats = ["atom", "atom"]\n',
            "feedpub.toml:2: feeds.formats: 'atom' is named twice",
        ),
        (
            '[feeds]\nformats = "atom"\n',
            "feedpub.toml:2: feeds.formats: expected an array of names ('atom', 'rss', 'json'), "
            "got a string 'atom'",
        ),
        (
            '[feeds]\ngroups = ["all", 3]\n',
            "feedpub.toml:2: feeds.groups: expected each name to be one of 'all', 'sections', "
            "'topics', 'authors', 'section_topics', got 3",
        ),
        (
            "[markdown]\ntables = 1\n",
            "feedpub.toml:2: markdown.tables: expected true or false, got an integer 1",
        ),
        (
            '[websub]\nhubs = "https://hub.example/"\n',
            "feedpub.toml:2: websub.hubs: expected an array of strings, got a string "
            "'https://hub.example/'",
        ),
        (
            '[websub]\nhubs = ["/hub"]\n',
            "feedpub.toml:2: websub.hubs: expected an absolute http(s) address, got '/hub'",
        ),
        (
            "[serve]\nmax_age = -1\n",
            "feedpub.toml:2: serve.max_age: expected an integer of at least 0, got -1",
        ),
        (
            "[serve]\nmax_age = 99999999999\n",
            "feedpub.toml:2: serve.max_age: expected an integer of at most 2147483647, "
            "got 99999999999",
        ),
        (
            '[publish]\nurl = "https://bucket.example/"\n',
            "feedpub.toml:2: publish.url: expected an address such as 's3://bucket/prefix/', "
            "got 'https://bucket.example/'",
        ),
        (
            '[publish]\nurl = "s3://key:secret@bucket/"\n',
            "feedpub.toml:2: publish.url: expected an address such as 's3://bucket/prefix/', "
            "got 's3://key:secret@bucket/'",
        ),
        (
            '[site]\ndefault_section = "  "\n',
            "feedpub.toml:2: site.default_section: expected a non-empty string",
        ),
    ],
    ids=[
        "page_size-over-max_entries", "page_size-zero", "enabled-string", "archives-groups-unknown",
        "archives-content", "formats-empty", "formats-twice", "formats-string", "groups-integer",
        "markdown-integer", "hubs-string", "hubs-relative", "max_age-negative", "max_age-huge",
        "publish-url-http", "publish-url-credentials", "default_section-blank",
    ],
)  # fmt: skip
def test_new_keys_with_wrong_values_are_refused(text: str, message: str) -> None:
    """Each new key's wrong type or value names the key, its line and what was expected."""
    assert config_error(text) == message


@pytest.mark.parametrize(
    ("table", "keys"),
    [
        ("archives", "content, enabled, groups, page_size"),
        ("markdown", "autolinks, footnotes, strikethrough, tables, tasklists"),
        ("websub", "hubs"),
        ("serve", "max_age"),
        ("publish", "cache_control, endpoint_url, region, url"),
    ],
)
def test_unknown_key_in_a_new_table_is_refused(table: str, keys: str) -> None:
    """Each new table refuses a key it does not know, naming the keys it does."""
    assert config_error(f"[{table}]\nbogus = 1\n") == (
        f"feedpub.toml:2: {table}.bogus: unknown key (expected one of: {keys})"
    )


# --- Text feeds cannot carry ----------------------------------------------------------------

TEXT_KEYS = [
    ("site", "title"), ("site", "description"), ("site", "rights"), ("site", "language"),
    ("site", "default_section"), ("site.author", "name"), ("publish", "region"),
    ("publish", "cache_control"), ("site", "url"), ("site", "feeds_url"), ("site", "icon"),
    ("site", "link_pattern"), ("site.author", "email"), ("site.author", "uri"),
]  # fmt: skip


@pytest.mark.parametrize("character", ["\\u0001", "\\u001b", "\\u007f", "\\u0085", "\\uffff"])
@pytest.mark.parametrize(("table", "key"), TEXT_KEYS)
def test_control_characters_are_refused_naming_the_key(
    table: str, key: str, character: str
) -> None:
    """A control character in any text of the configuration is an error naming the key."""
    message = config_error(f'[{table}]\n{key} = "a{character}b"\n')
    assert message.startswith(f"feedpub.toml:2: {table}.{key}: expected text without a control")
    assert "at position 2 of 'a" in message


@pytest.mark.parametrize(("table", "key"), TEXT_KEYS)
def test_line_breaks_are_refused_outside_prose(table: str, key: str) -> None:
    """A line break is refused in a title or a name; description and rights may hold one."""
    text = f'[{table}]\n{key} = "a\\nb"\n'
    if key in {"description", "rights"}:
        assert getattr(load_config(text).site, key) == "a\nb"
    else:
        assert config_error(text).startswith(
            f"feedpub.toml:2: {table}.{key}: expected text without a control character or line "
            "break, got U+000A"
        )


def test_control_character_in_an_unknown_key_is_shown_escaped() -> None:
    """The unknown key is named with its control character escaped, never raw."""
    message = config_error('[site]\n"ti\\u001btle" = "x"\n')
    # (the line is that of [site]: the key is written with an escape the line finder leaves be)
    assert message.startswith("feedpub.toml:1: site.ti\\x1btle: unknown key")
    assert "\x1b" not in message


# --- Addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("url", "https://user:pass@news.example/", "a user name or password is not allowed"),
        ("url", "https://user@news.example/", "a user name or password is not allowed"),
        ("url", "https://news.example:99999/", "its port is not a number from 1 to 65535"),
        ("url", "https://news.example:0/", "its port is not a number from 1 to 65535"),
        ("url", "https://news.example:8o/", "its port is not a number from 1 to 65535"),
        ("url", "https://news_example/", "'news_example' is not a host name"),
        ("url", "https://news..example/", "'news..example' is not a host name"),
        ("url", "https://999.0.0.1/", "'999.0.0.1' is not a host name"),
        ("url", "https://[::1/", "it cannot be parsed"),
        ("url", 'https://news.example/"onmouseover/', "'\"' is not allowed in an address"),
        ("url", "https://news.example/<x>/", "'<' is not allowed in an address"),
        ("url", "https://news.example/a b/", "' ' is not allowed in an address"),
        ("feeds_url", "https://news.example/feeds>/", "'>' is not allowed in an address"),
        ("feeds_url", "https://u:p@cdn.example/", "a user name or password is not allowed"),
        ("feeds_url", "https://cdn.example:70000/", "its port is not a number"),
        ("icon", "https://cdn.example/ icon.png", "' ' is not allowed in an address"),
        ("logo", 'logo".png', "'\"' is not allowed in an address"),
    ],
)
def test_bad_addresses_are_refused_with_the_reason(key: str, value: str, reason: str) -> None:
    """Each address is checked once: scheme, host, port, no credentials, nothing unsafe."""
    message = config_error(f"[site]\n{key} = {json.dumps(value)}\n")
    assert message.startswith(f"feedpub.toml:2: site.{key}: expected ")
    assert f"({reason}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("site", "url", "ftp://news.example/"),
        ("site", "url", "javascript:alert(1)"),
        ("site", "icon", "javascript:alert(1)"),
        ("site", "logo", "data:image/png;base64,AAAA"),
        ("site.author", "uri", "mailto:desk@news.example"),
        ("websub", "hubs", ["ftp://hub.example/"]),
        ("websub", "hubs", ["https://u:p@hub.example/"]),
        ("publish", "endpoint_url", "s3.example"),
        ("publish", "endpoint_url", "https://s3.example:123456/"),
    ],
)
def test_only_http_addresses_are_accepted(table: str, key: str, value: str | list[str]) -> None:
    """Addresses of any scheme but http and https are refused, in every table."""
    text = f"[{table}]\n{key} = {value!r}\n".replace("'", '"')
    assert config_error(text).startswith(f"feedpub.toml:2: {table}.{key}: expected ")


def test_a_unicode_host_is_written_in_ascii() -> None:
    """An internationalised host is accepted and written in IDNA form everywhere."""
    site = load_config('[site]\nurl = "https://bücher.example:8080/news"\n').site
    assert site.url == "https://xn--bcher-kva.example:8080/news/"
    assert site.feeds_url == "https://xn--bcher-kva.example:8080/news/feeds/"
    assert site.tag_authority == "xn--bcher-kva.example"


def test_good_addresses_are_accepted() -> None:
    """IP hosts, ports and relative icons are fine."""
    site = load_config(
        '[site]\nurl = "http://192.0.2.7:8080/"\ntag_authority = "news.example"\n'
        'icon = "/icon.png"\nlogo = "img/logo.png"\nfeeds_url = "https://[2001:db8::1]/f"\n'
    ).site
    assert (site.icon, site.logo) == ("http://192.0.2.7:8080/icon.png",
                                      "http://192.0.2.7:8080/img/logo.png")  # fmt: skip
    assert site.feeds_url == "https://[2001:db8::1]/f/"


@pytest.mark.parametrize(
    "email", ["not an e-mail", "desk", "desk@", "@news.example", "desk@news..example",
              "de..sk@news.example", ".desk@news.example", "desk@news_example",
              "desk@news.example>", "a" * 65 + "@news.example", "desk@" + "a." * 127 + "a"],
)  # fmt: skip
def test_author_email_must_be_an_address(email: str) -> None:
    """site.author.email is refused unless it is local@domain, as Atom requires."""
    assert config_error(f'[site.author]\nemail = "{email}"\n') == (
        f"feedpub.toml:2: site.author.email: expected an e-mail address such as "
        f"'editor@example.com', got {email!r}"
    )


@pytest.mark.parametrize(
    "email", ["desk@news.example", "first.last+feeds@mail.news.example", "o'brien@x.example",
              "desk@localhost"],
)  # fmt: skip
def test_author_email_accepts_addresses(email: str) -> None:
    """Common addresses are accepted as written."""
    assert load_config(f'[site.author]\nemail = "{email}"\n').site.author.email == email


# --- Patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("javascript:{slug}", "a scheme or ':' in its first segment"),
        ("https://evil.example/{slug}", "a scheme or ':' in its first segment"),
        ("//evil.example/{slug}", "it starts with '/', which leaves url"),
        ("/{slug}/", "it starts with '/', which leaves url"),
        ("../{slug}/", "a '..' segment, which leaves url"),
        ("a/%2e%2e/%2E%2E/{slug}/", "a '..' segment, which leaves url"),
        ("a\\{slug}", "'\\\\' is not allowed in an address"),
        ("a b/{slug}", "' ' is not allowed in an address"),
        ('{slug}"/', "'\"' is not allowed in an address"),
    ],
)
def test_link_pattern_must_stay_under_the_site(pattern: str, reason: str) -> None:
    """A pattern is a relative path under url: no scheme, no `//`, no `..`, nothing unsafe."""
    message = config_error(f"[site]\nlink_pattern = {json.dumps(pattern)}\n")
    assert message.startswith(
        "feedpub.toml:2: site.link_pattern: expected a path under url such as "
        "'{year}/{month}/{slug}/', got "
    )
    assert message.endswith(f"({reason})")


@pytest.mark.parametrize(
    "pattern",
    ["{slug.__class__}", "{slug.__class__.__mro__}", "{slug[0]}", "{slug!r}", "{slug!s}",
     "{year:>9999999999}/{slug}", "{slug:{year}}", "{year:04}/{slug}"],
)  # fmt: skip
@pytest.mark.parametrize("key", ["link_pattern", "section_pattern", "topic_pattern"])
def test_placeholders_are_plain(key: str, pattern: str) -> None:
    """No attribute, index, conversion or format spec gets through to str.format."""
    if key != "link_pattern" and "year" in pattern:
        pattern = pattern.replace("year", "slug")
    assert config_error(f'[site]\n{key} = "{pattern}"\n') == (
        f"feedpub.toml:2: site.{key}: expected plain placeholders such as {{slug}}, with no "
        f"attribute, index, conversion or format, got {pattern!r}"
    )


@pytest.mark.parametrize(
    ("key", "pattern"),
    [("link_pattern", "{year}/{hour}/{slug}/"), ("link_pattern", "{}/{slug}"),
     ("link_pattern", "{0}/{slug}"), ("section_pattern", "{year}/{slug}/"),
     ("topic_pattern", "{section}/{slug}/"), ("link_pattern", "{slug}/{"),
     ("link_pattern", "}{slug}")],
)  # fmt: skip
def test_unknown_placeholders_are_refused(key: str, pattern: str) -> None:
    """Only the documented names may be used, in each pattern its own."""
    allowed = "{day}, {month}, {section}, {slug}, {year}" if key == "link_pattern" else "{slug}"
    assert config_error(f'[site]\n{key} = "{pattern}"\n').startswith(
        f"feedpub.toml:2: site.{key}: expected a pattern using only {allowed}, got {pattern!r}"
    )


def test_link_pattern_may_use_section_and_literal_braces() -> None:
    """`{section}` is allowed in link_pattern; `{{` is a literal brace, refused as unsafe."""
    assert load_config('[site]\nlink_pattern = "{section}/{slug}/"\n').site.link_pattern == (
        "{section}/{slug}/"
    )
    assert "'{' is not allowed" in config_error('[site]\nlink_pattern = "{{x}}/{slug}"\n')


# --- Reading the file -----------------------------------------------------------------------


def read_error(path: Path, optional: bool = False) -> str:
    """The message of the ConfigError that reading the file at `path` raises."""
    with pytest.raises(ConfigError) as raised:
        read_config(path, optional=optional)
    return str(raised.value)


@pytest.mark.parametrize("optional", [False, True])
def test_a_folder_is_not_a_configuration(tmp_path: Path, optional: bool) -> None:
    """A folder where the configuration should be is an error, never the defaults."""
    (tmp_path / "feedpub.toml").mkdir()
    assert read_error(tmp_path / "feedpub.toml", optional) == (
        f"{tmp_path / 'feedpub.toml'}: the configuration is a folder; expected a TOML file"
    )


@pytest.mark.parametrize("optional", [False, True])
def test_a_fifo_is_refused_without_waiting(tmp_path: Path, optional: bool) -> None:
    """A FIFO is opened without blocking (no writer needed) and refused."""
    os.mkfifo(tmp_path / "feedpub.toml")
    assert read_error(tmp_path / "feedpub.toml", optional) == (
        f"{tmp_path / 'feedpub.toml'}: the configuration is a FIFO; expected a TOML file"
    )


def test_a_device_is_refused(tmp_path: Path) -> None:
    """A character device (here through a link) is refused: it could be read forever."""
    (tmp_path / "feedpub.toml").symlink_to("/dev/zero")
    assert read_error(tmp_path / "feedpub.toml", optional=True) == (
        f"{tmp_path / 'feedpub.toml'}: the configuration is a character device; expected a TOML "
        "file"
    )


@pytest.mark.parametrize("optional", [False, True])
def test_a_dangling_link_is_an_error(tmp_path: Path, optional: bool) -> None:
    """A link to nothing is an error naming the link and its target, never the defaults."""
    (tmp_path / "feedpub.toml").symlink_to(tmp_path / "gone.toml")
    assert read_error(tmp_path / "feedpub.toml", optional) == (
        f"{tmp_path / 'feedpub.toml'}: the configuration file is a symbolic link to "
        f"'{tmp_path / 'gone.toml'}', which does not exist"
    )


def test_nothing_there_is_the_defaults_only_when_optional(tmp_path: Path) -> None:
    """No file at all: the defaults for feedpub.toml, an error for a named --config."""
    assert read_config(tmp_path / "feedpub.toml", optional=True) == load_config("", "(defaults)")
    assert read_error(tmp_path / "feedpub.toml") == (
        f"{tmp_path / 'feedpub.toml'}: the configuration file does not exist"
    )


def test_a_link_to_a_file_is_read(tmp_path: Path) -> None:
    """A symbolic link to a real file is followed."""
    (tmp_path / "real.toml").write_text('[site]\ntitle = "Linked"\n', encoding="utf-8")
    (tmp_path / "feedpub.toml").symlink_to(tmp_path / "real.toml")
    assert read_config(tmp_path / "feedpub.toml", optional=True).site.title == "Linked"


def test_an_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be opened (no permission) is named with the reason."""
    path = tmp_path / "feedpub.toml"
    path.write_text("", encoding="utf-8")

    def refuse(*args: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", refuse)
    assert read_error(path, optional=True) == (
        f"{path}: the configuration file cannot be opened: permission denied"
    )


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are an error naming the file, the line and the byte."""
    path = tmp_path / "feedpub.toml"
    path.write_bytes(b'[site]\ntitle = "Caf\xe9"\n')
    assert read_error(path) == f"{path}:2: not UTF-8 (byte 0xe9); expected a UTF-8 text file"


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark is skipped."""
    path = tmp_path / "feedpub.toml"
    path.write_bytes(b'\xef\xbb\xbf[site]\ntitle = "BOM"\n')
    assert read_config(path).site.title == "BOM"


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    """A configuration over 1 MiB is refused before it is parsed."""
    path = tmp_path / "feedpub.toml"
    path.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    assert read_error(path) == (
        f"{path}: the configuration file is larger than 1048576 bytes; expected a TOML file of a "
        "few keys"
    )


@pytest.mark.parametrize(
    "value", ["[" * 600 + "]" * 600, "{a = " * 600 + "1" + "}" * 600],
    ids=["arrays", "inline-tables"],
)  # fmt: skip
def test_deep_nesting_is_an_error_not_a_traceback(tmp_path: Path, value: str) -> None:
    """A value nested 600 deep (tomllib recurses) is a configuration error naming the file."""
    path = tmp_path / "feedpub.toml"
    path.write_text(f"[site]\ntitle = {value}\n", encoding="utf-8")
    assert read_error(path) == (
        f"{path}: not valid TOML: arrays or tables nested too deeply (expected a few levels at "
        "most)"
    )


def test_a_long_wrong_value_is_quoted_short() -> None:
    """A wrong value is quoted cut short, so one message stays one line of sense."""
    message = config_error(f"[feeds]\nmax_entries = {list(range(1000))}\n")
    assert message.startswith("feedpub.toml:2: feeds.max_entries: expected an integer, got an ")
    assert len(message) < 200


@pytest.mark.parametrize("kind", ["folder", "fifo", "dangling-link"])
def test_the_default_file_in_any_unusable_form_exits_2(
    site: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """feedpub.toml that is a folder, a FIFO or a dangling link: exit 2 naming it, no output."""
    monkeypatch.chdir(site)
    config = site / "feedpub.toml"
    if kind == "folder":
        config.mkdir()
    elif kind == "fifo":
        os.mkfifo(config)
    else:
        config.symlink_to(site / "gone.toml")
    result = run("build", "--articles", "articles", "--out", "out", "--now", "2026-01-01T00:00:00Z")
    assert result.exit_code == 2
    assert result.stderr.startswith("feedpub: error: feedpub.toml: the configuration ")
    assert not (site / "out").exists()


def test_config_fifo_does_not_hang(site: Path) -> None:
    """--config naming a FIFO exits 2 at once (it is never opened for a blocking read)."""
    fifo = site / "config.fifo"
    os.mkfifo(fifo)
    result = run("check", "--articles", site / "articles", "--config", fifo)
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: {fifo}: the configuration is a FIFO; expected a TOML file\n"
    )


def test_control_character_in_config_never_reaches_a_feed(site: Path) -> None:
    """site.title holding U+0001: exit 2 naming the key; nothing written."""
    config = site / "feedpub.toml"
    config.write_text('[site]\ntitle = "News\\u0001"\n', encoding="utf-8")
    result = run(
        "build", "--articles", site / "articles", "--out", site / "out", "--config", config,
        "--now", "2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        f"feedpub: error: {config}:2: site.title: expected text without a control character or "
        "line break, got U+0001 at position 5 of 'News\\x01'\n"
    )
    assert not (site / "out").exists()
