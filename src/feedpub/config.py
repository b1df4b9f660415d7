"""Site configuration: `feedpub.toml` text → :class:`~feedpub.model.Config`.

Everything has a default, so a folder of articles alone builds. Unknown keys
and wrong types are errors naming the key (and its line) and what was expected.
Every value is checked here, once: text that feeds cannot carry (control
characters), addresses that are not plain http(s) addresses of a host (or that
carry a password), patterns that could leave the site or run arbitrary format
code, e-mail addresses that would make every Atom document invalid.
"""

from __future__ import annotations

import ipaddress
import os
import re
import reprlib
import stat
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError, printable
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
from .urls import absolute, with_slash

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

MAX_CONFIG_BYTES = 1024 * 1024  # a configuration is a few hundred bytes; more is a mistake
MAX_INTEGER = 2**31 - 1

_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")
# Each pattern is linear: a label is at most 63 characters, dot-atom parts are
# separated by dots they cannot contain.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
# C0 controls but tab and line ends, DEL, C1 controls, U+FFFE, U+FFFF: XML 1.0
# forbids or discourages them, and they never belong in a title or a name.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")
# Not in any address feedpub writes: they would break out of an attribute or
# a line, or are not allowed in a URI (RFC 3986 §2) and are never needed.
_NOT_IN_ADDRESS = re.compile(r'[\x00-\x1f\x7f-\x9f<>"\\^`{|}]|\s')
_SAMPLE = {"year": "2021", "month": "03", "day": "30", "slug": "a-slug", "section": "a-section"}
_PATTERNS = (
    ("link_pattern", "{year}/{month}/{slug}/", ("year", "month", "day", "section", "slug")),
    ("section_pattern", "sections/{slug}/", ("slug",)),
    ("topic_pattern", "topics/{slug}/", ("slug",)),
)
_MULTILINE = {"description", "rights"}  # the only texts that may hold line breaks

_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = 80
_shown.maxlevel, _shown.maxlist, _shown.maxdict = 2, 6, 6


def _quoted(value: object) -> str:
    """`value` as messages quote it: repr, cut short when long or deep."""
    return _shown.repr(value)


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
        return ConfigError(printable(f"{where}: {dotted}: {message}"))

    def reject_unknown(self, known: set[str]) -> None:
        for key in self.table:
            if key not in known:
                expected = ", ".join(sorted(known))
                raise self.fail(key, f"unknown key (expected one of: {expected})")

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_toml_kind(value)} {_quoted(value)}")
        if value is not None:
            self.check_text(key, value, multiline=key in _MULTILINE)
        return value

    def check_text(self, key: str, value: str, multiline: bool = False) -> None:
        """Refuse a control character, which no feed can carry (a line break outside prose)."""
        found = _CONTROL.search(value) or (None if multiline else _LINE_BREAK.search(value))
        if found:
            what = "a control character" if multiline else "a control character or line break"
            raise self.fail(
                key, f"expected text without {what}, got U+{ord(found.group()):04X} at "
                f"position {found.start() + 1} of {_quoted(value)}",
            )  # fmt: skip

    def required_string(self, key: str, default: str) -> str:
        value = self.string(key, default)
        assert value is not None
        if not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return value

    def integer(self, key: str, default: int, minimum: int, maximum: int = MAX_INTEGER) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_toml_kind(value)} {_quoted(value)}")
        if value < minimum:
            raise self.fail(key, f"expected an integer of at least {minimum}, got {value}")
        if value > maximum:
            raise self.fail(key, f"expected an integer of at most {maximum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(
                key, f"expected true or false, got {_toml_kind(value)} {_quoted(value)}"
            )
        return value

    def choices(
        self, key: str, default: tuple[str, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        """A list of distinct names, each one of `allowed`, in the order given."""
        value = self.table.get(key, list(default))
        expected = ", ".join(repr(name) for name in allowed)
        if not isinstance(value, list):
            raise self.fail(key, f"expected an array of names ({expected}), got "
                            f"{_toml_kind(value)} {_quoted(value)}")  # fmt: skip
        seen: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                raise self.fail(
                    key, f"expected each name to be one of {expected}, got {_quoted(item)}"
                )
            if item in seen:
                raise self.fail(key, f"{item!r} is named twice")
            seen.append(item)
        return tuple(seen)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(
                key, f"expected an array of strings, got {_toml_kind(value)} {_quoted(value)}"
            )
        for item in value:
            self.check_text(key, item)
        return tuple(value)

    def sub_table(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_toml_kind(value)} {_quoted(value)}")
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


def read_config(path: Path, *, optional: bool = False) -> Config:
    """The configuration in the file at `path`.

    With `optional`, the defaults when nothing at all is at `path`. Anything
    else there (a folder, a FIFO, a dangling link, a file that cannot be read,
    is too large or is not UTF-8) is a ConfigError naming it, never silently
    the defaults. A FIFO is opened without blocking, so it cannot hang a build.
    """
    source = printable(str(path))
    if optional:
        try:
            os.lstat(path)
        except FileNotFoundError:
            return default_config()
        except OSError as error:
            raise ConfigError(f"{source}: cannot be read: {_reason(error)}") from None
    data = _read_regular_file(path, source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"{source}:{line}: not UTF-8 (byte 0x{data[error.start]:02x}); "
            "expected a UTF-8 text file"
        ) from None
    return load_config(text, source)


def _reason(error: OSError) -> str:
    return (error.strerror or str(error) or type(error).__name__).lower()


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
)  # fmt: skip


def _read_regular_file(path: Path, source: str) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            target = printable(os.readlink(path))
            raise ConfigError(
                f"{source}: the configuration file is a symbolic link to {target!r}, "
                "which does not exist"
            ) from None
        raise ConfigError(f"{source}: the configuration file does not exist") from None
    except OSError as error:
        raise ConfigError(f"{source}: the configuration file cannot be opened: "
                          f"{_reason(error)}") from None  # fmt: skip
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a file")
            raise ConfigError(f"{source}: the configuration is {kind}; expected a TOML file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(descriptor, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise ConfigError(f"{source}: the configuration file cannot be read: "
                          f"{_reason(error)}") from None  # fmt: skip
    finally:
        os.close(descriptor)
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{source}: the configuration file is larger than {MAX_CONFIG_BYTES} bytes; "
            "expected a TOML file of a few keys"
        )
    return b"".join(chunks)


def load_config(text: str, source: str = "feedpub.toml") -> Config:
    """Parse the configuration text; `source` names the file in messages."""
    try:
        document = tomllib.loads(text)
    except ValueError as error:  # TOMLDecodeError, and any value tomllib cannot hold
        raise ConfigError(printable(f"{source}: not valid TOML: {error}")) from None
    except RecursionError:
        raise ConfigError(
            f"{source}: not valid TOML: arrays or tables nested too deeply "
            "(expected a few levels at most)"
        ) from None
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
    given = site.required_string("url", DEFAULT_URL)
    url = with_slash(given.strip())
    reason = _address_problem(url, base=True)
    if reason is not None:
        raise site.fail(
            "url", f"expected an absolute http(s) address without ? or #, got {given!r}{reason}"
        )
    url = _ascii_host(url)
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
    if not (_is_dns_name(authority) or _is_email(authority)):
        raise site.fail(
            "tag_authority", f"expected a domain name or an e-mail address, got {authority!r}"
        )

    patterns = {key: _pattern(site, key, default, names, url) for key, default, names in _PATTERNS}

    feeds_url = with_slash(
        _address(site, "feeds_url", site.required_string("feeds_url", url + "feeds/"), url)
    )
    if "?" in feeds_url or "#" in feeds_url:
        raise site.fail("feeds_url", f"expected an address without ? or #, got {feeds_url!r}")
    author = site.sub_table("author")
    author.reject_unknown(_AUTHOR_KEYS)
    email = author.string("email")
    if email is not None and not _is_email(email):
        raise author.fail(
            "email", f"expected an e-mail address such as 'editor@example.com', got {email!r}"
        )
    person = Person(
        name=author.required_string("name", title),
        email=email,
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


def _pattern(site: _Reader, key: str, default: str, names: tuple[str, ...], url: str) -> str:
    """A web address pattern: a path under `url` with plain placeholders only.

    Parsed with the same parser `str.format` uses, so that nothing it would
    evaluate (an attribute, an index, a conversion, a format spec such as
    ``{year:>9999999999}``) gets past the check.
    """
    pattern = site.required_string(key, default)
    allowed = ", ".join(f"{{{name}}}" for name in sorted(names))
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:  # a lone { or }
        raise site.fail(key, f"expected a pattern using only {allowed}, got {pattern!r} "
                        "(a brace that opens or closes nothing)") from None  # fmt: skip
    fields = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in names and re.split(r"[.\[]", field, maxsplit=1)[0] not in names:
            raise site.fail(key, f"expected a pattern using only {allowed}, got {pattern!r}")
        if field not in names or spec or conversion is not None:
            raise site.fail(key, _PLAIN_PLACEHOLDERS.format(pattern=repr(pattern)))
        fields.add(field)
    if "slug" not in fields:
        raise site.fail(key, f"expected a pattern containing {{slug}}, got {pattern!r}")
    reason = _path_problem(pattern.format_map({name: _SAMPLE[name] for name in names}), url)
    if reason:
        raise site.fail(
            key, f"expected a path under url such as {default!r}, got {pattern!r} ({reason})"
        )
    return pattern


_PLAIN_PLACEHOLDERS = (
    "expected plain placeholders such as {{slug}}, with no attribute, index, conversion or "
    "format, got {pattern}"
)


def _path_problem(path: str, base: str) -> str | None:
    """Why `path` (a pattern filled in) is not a relative path that stays under `base`."""
    unsafe = _NOT_IN_ADDRESS.search(path)
    if unsafe:
        return f"{unsafe.group()!r} is not allowed in an address"
    if path.startswith("/"):
        return "it starts with '/', which leaves url"
    bare = path.split("?", 1)[0].split("#", 1)[0]
    if ":" in bare.split("/", 1)[0]:
        return "a scheme or ':' in its first segment"
    if any(unquote(segment) == ".." for segment in bare.split("/")):
        return "a '..' segment, which leaves url"
    try:
        inside = absolute(path, base).startswith(base)
    except ValueError:
        inside = False
    return None if inside else "it does not stay under url"


def _ascii_host(url: str) -> str:
    """`url` with its host in ASCII (IDNA), as every address derived from it needs."""
    parts = urlsplit(url)
    if parts.netloc.isascii():
        return url
    host = (parts.hostname or "").encode("idna").decode("ascii")
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return parts._replace(netloc=netloc).geturl()


def _is_dns_name(name: str) -> bool:
    """A host name of letters, digits and hyphens: `news.example`, `localhost`."""
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def _is_email(address: str) -> bool:
    """An RFC 5322 addr-spec in its common form: a dot-atom, `@`, a DNS domain."""
    local, at, domain = address.rpartition("@")
    return (
        bool(at) and len(address) <= 254 and 0 < len(local) <= 64
        and _DOT_ATOM.match(local) is not None and _is_dns_name(domain)
    )  # fmt: skip


def _is_host(host: str) -> bool:
    if ":" in host:  # urlsplit has removed the brackets of an IPv6 address
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:  # a host may be given in Unicode, or percent-encoded as absolute() leaves it
        name = unquote(host, errors="strict").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    if name.rpartition(".")[2].isdigit():  # a dotted IPv4 address, or nothing valid
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return False
        return True
    return _is_dns_name(name)


def _address_problem(address: str, base: bool = False) -> str | None:
    """Why `address` cannot be a feed's absolute http(s) address, as "` (reason)`", or None.

    `base`: it is the base of other addresses, so a query or fragment is refused too.
    """
    unsafe = _NOT_IN_ADDRESS.search(address)
    if unsafe:
        return f" ({unsafe.group()!r} is not allowed in an address)"
    try:
        parts = urlsplit(address)
        host = parts.hostname
    except ValueError:
        return " (it cannot be parsed)"
    try:
        port = parts.port
    except ValueError:
        return " (its port is not a number from 1 to 65535)"
    reason = None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        reason = ""
    elif parts.username is not None or parts.password is not None:
        reason = " (a user name or password is not allowed: it would appear in every link)"
    elif port == 0:
        reason = " (its port is not a number from 1 to 65535)"
    elif not host or not _is_host(host):
        reason = f" ({host or ''!r} is not a host name)"
    elif base and (parts.query or parts.fragment or "?" in address or "#" in address):
        reason = ""
    return reason


def _optional_name(reader: _Reader, key: str) -> str | None:
    value = reader.string(key)
    if value is not None and not value.strip():
        raise reader.fail(key, "expected a non-empty string")
    return value.strip() if value else None


def _optional_address(reader: _Reader, key: str, base: str) -> str | None:
    value = reader.string(key)
    return _address(reader, key, value, base) if value else None


def _address(reader: _Reader, key: str, value: str, base: str) -> str:
    """`value` resolved against `base`: an http(s) address, checked as :func:`_address_problem`."""
    unsafe = _NOT_IN_ADDRESS.search(value.strip())
    if unsafe:
        reason: str | None = f" ({unsafe.group()!r} is not allowed in an address)"
    else:
        try:
            address = absolute(value, base)
        except ValueError:
            address = value
        reason = _address_problem(address)
        if reason is None:
            return address
    raise reader.fail(
        key, f"expected an http(s) address or one relative to url, got {value!r}{reason}"
    )


def _absolute_address(reader: _Reader, key: str, value: str) -> str:
    reason = _address_problem(value)
    if reason is not None:
        raise reader.fail(key, f"expected an absolute http(s) address, got {value!r}{reason}")
    return value


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
        _absolute_address(websub, "hubs", hub)
    return WebSubConfig(hubs=hubs)


def _serve(serve: _Reader) -> ServeConfig:
    serve.reject_unknown(_SERVE_KEYS)
    return ServeConfig(max_age=serve.integer("max_age", _SERVECONFIG_DEFAULTS.max_age, minimum=0))


def _publish(publish: _Reader) -> PublishConfig:
    publish.reject_unknown(_PUBLISH_KEYS)
    url = publish.string("url")
    if url is not None:
        parts = urlsplit(url)
        if (
            parts.scheme != "s3" or not parts.netloc or "@" in parts.netloc or parts.query
            or parts.fragment or _NOT_IN_ADDRESS.search(url)
        ):  # fmt: skip
            raise publish.fail(
                "url", f"expected an address such as 's3://bucket/prefix/', got {url!r}"
            )
    endpoint = publish.string("endpoint_url")
    if endpoint is not None:
        _absolute_address(publish, "endpoint_url", endpoint)
    return PublishConfig(
        url=url,
        endpoint_url=endpoint,
        region=publish.string("region"),
        cache_control=publish.required_string(
            "cache_control", _PUBLISHCONFIG_DEFAULTS.cache_control
        ),
    )
