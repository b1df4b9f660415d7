"""Site configuration: `feedpub.toml` text → :class:`~feedpub.model.Config`.

Everything has a default, so a folder of articles alone builds. Unknown keys
and wrong types are errors naming the key (and its line) and what was expected.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .model import (
    FORMAT_NAMES,
    GROUP_NAMES,
    MAX_ARTICLE_BYTES,
    ArchivesConfig,
    BuildConfig,
    Config,
    ContentMode,
    FeedsConfig,
    MarkdownConfig,
    Person,
    PublishConfig,
    ServeConfig,
    SiteConfig,
    WebSubConfig,
)
from .urls import absolute, is_absolute_http, with_slash

DEFAULT_URL = "https://example.org/"
DEFAULT_TITLE = "Articles"

_SITE_KEYS = {
    "title", "description", "url", "language", "timezone", "tag_authority",
    "link_pattern", "section_pattern", "topic_pattern", "feeds_url",
    "author", "rights", "icon", "logo", "default_section",
}  # fmt: skip
_AUTHOR_KEYS = {"name", "email", "uri"}
_FEEDS_KEYS = {"max_entries", "content", "summary_length", "formats", "groups"}
_BUILD_KEYS = {"max_article_bytes"}
_ARCHIVES_KEYS = {"enabled", "groups", "page_size", "content"}
_MARKDOWN_KEYS = {"tables", "strikethrough", "tasklists", "footnotes", "autolinks"}
_WEBSUB_KEYS = {"hubs"}
_SERVE_KEYS = {"max_age"}
_PUBLISH_KEYS = {"url", "endpoint_url", "region", "cache_control"}
_TABLES = {"site", "feeds", "build", "archives", "markdown", "websub", "serve", "publish"}

_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")
_DNS_NAME = re.compile(
    r"([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\Z"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@" + _DNS_NAME.pattern)
_SAMPLE = {"year": "2021", "month": "03", "day": "30", "slug": "a-slug"}


class _Reader:
    """Reads one table of the TOML document, reporting problems by key and line."""

    def __init__(self, text: str, source: str, table: Mapping[str, Any], prefix: str) -> None:
        self.text = text
        self.source = source
        self.table = table
        self.prefix = prefix

    def fail(self, key: str, message: str) -> ConfigError:
        dotted = f"{self.prefix}.{key}" if self.prefix else key
        line = _line_of(self.text, dotted)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {dotted}: {message}")

    def reject_unknown(self, known: set[str]) -> None:
        for key in self.table:
            if key not in known:
                expected = ", ".join(sorted(known))
                raise self.fail(key, f"unknown key (expected one of: {expected})")

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_toml_kind(value)} {value!r}")
        return value

    def required_string(self, key: str, default: str) -> str:
        value = self.string(key, default)
        assert value is not None
        if not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return value

    def integer(self, key: str, default: int, minimum: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_toml_kind(value)} {value!r}")
        if value < minimum:
            raise self.fail(key, f"expected an integer of at least {minimum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_toml_kind(value)} {value!r}")
        return value

    def choices(
        self, key: str, default: tuple[str, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        """A list of distinct names, each one of `allowed`, in the order given."""
        value = self.table.get(key, list(default))
        expected = ", ".join(repr(name) for name in allowed)
        if not isinstance(value, list):
            raise self.fail(key, f"expected an array of names ({expected}), got "
                            f"{_toml_kind(value)} {value!r}")  # fmt: skip
        seen: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                raise self.fail(key, f"expected each name to be one of {expected}, got {item!r}")
            if item in seen:
                raise self.fail(key, f"{item!r} is named twice")
            seen.append(item)
        return tuple(seen)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, f"expected an array of strings, got {_toml_kind(value)} {value!r}")
        return tuple(value)

    def sub_table(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_toml_kind(value)} {value!r}")
        dotted = f"{self.prefix}.{key}" if self.prefix else key
        return _Reader(self.text, self.source, value, dotted)


def _toml_kind(value: object) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "an array", dict: "a table",
    }.get(type(value), f"a {type(value).__name__}")  # fmt: skip


_HEADER = re.compile(r"[ \t]*\[+[ \t]*([^\]]+?)[ \t]*\]")
_ASSIGNMENT = re.compile(r"[ \t]*([\w.\"' \t-]+?)[ \t]*=")


def _dotted(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


def _line_of(text: str, dotted: str) -> int | None:
    """The line on which the key `dotted` (e.g. ``site.author.name``) is set or opened.

    When the key itself is not written (an inline table), the line of the
    nearest enclosing key that is.
    """
    table = ""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
            lines.setdefault(table, number)
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            key = _dotted(assignment.group(1))
            lines.setdefault(f"{table}.{key}" if table else key, number)
    while dotted:
        if dotted in lines:
            return lines[dotted]
        dotted = dotted.rpartition(".")[0]
    return None


def load_config(text: str, source: str = "feedpub.toml") -> Config:
    """Parse the configuration text; `source` names the file in messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    root = _Reader(text, source, document, "")
    root.reject_unknown(_TABLES)
    build = root.sub_table("build")
    build.reject_unknown(_BUILD_KEYS)
    site = _site(root.sub_table("site"))
    feeds = _feeds(root.sub_table("feeds"))
    return Config(
        site=site,
        feeds=feeds,
        build=BuildConfig(
            max_article_bytes=build.integer("max_article_bytes", MAX_ARTICLE_BYTES, minimum=1024)
        ),
        archives=_archives(root.sub_table("archives"), feeds),
        markdown=_markdown(root.sub_table("markdown")),
        websub=_websub(root.sub_table("websub"), site.url),
        serve=_serve(root.sub_table("serve")),
        publish=_publish(root.sub_table("publish")),
    )


def default_config() -> Config:
    """The configuration used when the site has no feedpub.toml."""
    return load_config("", "(defaults)")


def _site(site: _Reader) -> SiteConfig:
    site.reject_unknown(_SITE_KEYS)
    url = with_slash(site.required_string("url", DEFAULT_URL).strip())
    try:
        parts = urlsplit(url)
        valid = is_absolute_http(url) and not parts.query and not parts.fragment
    except ValueError:
        valid = False
    if not valid:
        raise site.fail("url", f"expected an absolute http(s) address without ? or #, got {url!r}")
    title = site.required_string("title", DEFAULT_TITLE)

    language = site.required_string("language", "en")
    if not _LANGUAGE.match(language):
        raise site.fail(
            "language", f"expected a language tag such as 'en' or 'pt-BR', got {language!r}"
        )

    timezone_name = site.required_string("timezone", "UTC")
    try:
        timezone = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise site.fail(
            "timezone",
            f"expected an IANA time zone such as 'America/New_York', got {timezone_name!r}",
        ) from None

    try:
        host = (urlsplit(url).hostname or "").encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    authority = site.required_string("tag_authority", host or "localhost")
    if not (_DNS_NAME.match(authority) or _EMAIL.match(authority)):
        raise site.fail(
            "tag_authority", f"expected a domain name or an e-mail address, got {authority!r}"
        )

    patterns = {}
    for key, default, names in (
        ("link_pattern", "{year}/{month}/{slug}/", {"year", "month", "day", "slug"}),
        ("section_pattern", "sections/{slug}/", {"slug"}),
        ("topic_pattern", "topics/{slug}/", {"slug"}),
    ):
        pattern = site.required_string(key, default)
        try:
            pattern.format_map({name: _SAMPLE[name] for name in names})
        except (KeyError, ValueError, IndexError, AttributeError):
            allowed = ", ".join(f"{{{name}}}" for name in sorted(names))
            raise site.fail(
                key, f"expected a pattern using only {allowed}, got {pattern!r}"
            ) from None
        if "{slug}" not in pattern:
            raise site.fail(key, f"expected a pattern containing {{slug}}, got {pattern!r}")
        patterns[key] = pattern

    feeds_url = with_slash(
        _address(site, "feeds_url", site.required_string("feeds_url", url + "feeds/"), url)
    )
    author = site.sub_table("author")
    author.reject_unknown(_AUTHOR_KEYS)
    person = Person(
        name=author.required_string("name", title),
        email=author.string("email"),
        uri=_optional_address(author, "uri", url),
    )
    return SiteConfig(
        title=title,
        description=site.string("description", "") or "",
        url=url,
        language=language,
        timezone=timezone,
        timezone_name=timezone_name,
        tag_authority=authority.lower(),
        link_pattern=patterns["link_pattern"],
        section_pattern=patterns["section_pattern"],
        topic_pattern=patterns["topic_pattern"],
        feeds_url=feeds_url,
        author=person,
        rights=site.string("rights"),
        icon=_optional_address(site, "icon", url),
        logo=_optional_address(site, "logo", url),
        default_section=_optional_name(site, "default_section"),
    )


def _optional_name(reader: _Reader, key: str) -> str | None:
    value = reader.string(key)
    if value is not None and not value.strip():
        raise reader.fail(key, "expected a non-empty string")
    return value.strip() if value else None


def _optional_address(reader: _Reader, key: str, base: str) -> str | None:
    value = reader.string(key)
    return _address(reader, key, value, base) if value else None


def _address(reader: _Reader, key: str, value: str, base: str) -> str:
    try:
        address = absolute(value, base)
        if is_absolute_http(address):
            return address
    except ValueError:
        pass
    raise reader.fail(key, f"expected an http(s) address or one relative to url, got {value!r}")


def _feeds(feeds: _Reader) -> FeedsConfig:
    feeds.reject_unknown(_FEEDS_KEYS)
    content = feeds.required_string("content", "full")
    try:
        mode = ContentMode(content)
    except ValueError:
        raise feeds.fail("content", f"expected 'full' or 'summary', got {content!r}") from None
    return FeedsConfig(
        max_entries=feeds.integer("max_entries", 50, minimum=1),
        content=mode,
        summary_length=feeds.integer("summary_length", 300, minimum=20),
        formats=_non_empty(feeds, "formats", feeds.choices("formats", _FEEDSCONFIG_DEFAULTS.formats,
                                                           FORMAT_NAMES)),
        groups=feeds.choices("groups", _FEEDSCONFIG_DEFAULTS.groups, GROUP_NAMES),
    )  # fmt: skip


_FEEDSCONFIG_DEFAULTS = FeedsConfig()
_ARCHIVESCONFIG_DEFAULTS = ArchivesConfig()
_SERVECONFIG_DEFAULTS = ServeConfig()
_PUBLISHCONFIG_DEFAULTS = PublishConfig()


def _non_empty(reader: _Reader, key: str, value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise reader.fail(key, "expected at least one name")
    return value


def _content_mode(reader: _Reader, key: str, default: str) -> ContentMode:
    content = reader.required_string(key, default)
    try:
        return ContentMode(content)
    except ValueError:
        raise reader.fail(key, f"expected 'full' or 'summary', got {content!r}") from None


def _archives(archives: _Reader, feeds: FeedsConfig) -> ArchivesConfig:
    archives.reject_unknown(_ARCHIVES_KEYS)
    # Unset, the page size follows a smaller feeds.max_entries; set, it may not exceed it.
    default = min(_ARCHIVESCONFIG_DEFAULTS.page_size, feeds.max_entries)
    page_size = archives.integer("page_size", default, minimum=1)
    if page_size > feeds.max_entries:
        raise archives.fail(
            "page_size",
            f"expected at most feeds.max_entries ({feeds.max_entries}), got {page_size}",
        )
    return ArchivesConfig(
        enabled=archives.boolean("enabled", _ARCHIVESCONFIG_DEFAULTS.enabled),
        groups=archives.choices("groups", _ARCHIVESCONFIG_DEFAULTS.groups, GROUP_NAMES),
        page_size=page_size,
        content=_content_mode(archives, "content", _ARCHIVESCONFIG_DEFAULTS.content.value),
    )


def _markdown(markdown: _Reader) -> MarkdownConfig:
    markdown.reject_unknown(_MARKDOWN_KEYS)
    return MarkdownConfig(**{key: markdown.boolean(key, True) for key in sorted(_MARKDOWN_KEYS)})


def _websub(websub: _Reader, base: str) -> WebSubConfig:
    websub.reject_unknown(_WEBSUB_KEYS)
    hubs = websub.strings("hubs")
    for hub in hubs:
        if not is_absolute_http(hub):
            raise websub.fail("hubs", f"expected absolute http(s) addresses, got {hub!r}")
    return WebSubConfig(hubs=hubs)


def _serve(serve: _Reader) -> ServeConfig:
    serve.reject_unknown(_SERVE_KEYS)
    return ServeConfig(max_age=serve.integer("max_age", _SERVECONFIG_DEFAULTS.max_age, minimum=0))


def _publish(publish: _Reader) -> PublishConfig:
    publish.reject_unknown(_PUBLISH_KEYS)
    url = publish.string("url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise publish.fail(
                "url", f"expected an address such as 's3://bucket/prefix/', got {url!r}"
            )
    endpoint = publish.string("endpoint_url")
    if endpoint is not None and not is_absolute_http(endpoint):
        raise publish.fail(
            "endpoint_url", f"expected an absolute http(s) address, got {endpoint!r}"
        )
    return PublishConfig(
        url=url,
        endpoint_url=endpoint,
        region=publish.string("region"),
        cache_control=publish.required_string(
            "cache_control", _PUBLISHCONFIG_DEFAULTS.cache_control
        ),
    )
