"""One article file's bytes → an :class:`~feedpub.model.Article`, or the problems that keep it out.

Pure: the caller reads the file; the configuration supplies the site's time
zone, address patterns and default author. Front matter written for other
tools is mapped onto feedpub's keys by :mod:`feedpub.sources` first. Every
problem of a file is collected before the file is given up.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from .dates import parse_date
from .errors import ArticleError, Problem, Severity
from .frontmatter import Value, body_of, decode, split, xml_clean
from .model import Article, Config, Image, Person
from .names import has_slug, slugify, tag_uri
from .sources import CANONICAL, IMAGE_TOOL_KEYS, Resolved, hint, resolve
from .urls import absolute, is_absolute_http

KNOWN_KEYS = CANONICAL
IMAGE_KEYS = ("url", "caption", "credit", "type", "length")
MAX_TOPICS = 100  # topics per article: each is a feed of its own
MAX_LENGTH_DIGITS = 15  # image.length: up to 999 TB, far from Python's int-conversion limit
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*+:\S++\Z")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*+/[A-Za-z0-9][\w.+-]*+\Z")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
# Image types by file extension: a fixed table, so that a build does not
# depend on the machine's mime.types.
_IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
}  # fmt: skip


def shown(text: str, limit: int = 60) -> str:
    """`text` quoted for a message, cut short when long (a hostile value can be megabytes)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def digest(raw: bytes) -> str:
    """A short digest of a file's bytes, naming one version of it: SHA-256 cut to 128 bits
    (OpenSSL's, with the processor's SHA instructions where it has them, digests about twice
    as fast as BLAKE2b here: 1.7 against 0.9 GB/s)."""
    return hashlib.sha256(raw).hexdigest()[:32]


def read_body(raw: bytes, path: str) -> str:
    """The Markdown body of an article file's bytes (empty when the file no longer splits)."""
    try:
        return body_of(decode(raw, path))
    except ArticleError:
        return ""


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of parsing one file: the article when it can be published, and every problem.

    `origins` maps each field feedpub read to where it came from: the key as
    written (``date``, ``categories[0]``, ``taxonomies.tags``), or ``file name``,
    ``folder``, ``site.default_section`` (what ``feedpub check -v`` shows).
    """

    article: Article | None
    problems: tuple[Problem, ...]
    origins: dict[str, str] = field(default_factory=dict)


def parse_article(
    raw: bytes,
    path: str,
    config: Config,
    source: str = "",
    *,
    keep_body: bool = True,
    now: datetime | None = None,
) -> Parsed:
    """Parse one article file. Never raises for a mistake in the file: it becomes a Problem.

    `path` names the file in messages; `source` is its path relative to the
    articles folder (the article's key between builds; its first folder may
    name the section). Without `keep_body` the article's body is left empty (a
    large archive keeps only front matter in memory; :func:`read_body` fetches
    it for the articles in feeds). With `now`, an article whose `expiryDate` /
    `expires` is not after it is a draft.
    """
    try:
        document = split(decode(raw, path), path, clean=xml_clean(raw))
    except ArticleError as error:
        return Parsed(None, (error.problem,))
    resolved = resolve(
        document.fields, document.form, path=path, source=source,
        default_section=config.site.default_section,
    )  # fmt: skip
    reader = _Fields(path, resolved)
    body = document.body if keep_body else ""
    article = _article(reader, body, config, source=source or path, digest=digest(raw), now=now)
    problems = (*document.problems, *reader.problems)
    if any(problem.severity is Severity.ERROR for problem in problems):
        article = None
    return Parsed(article, problems, resolved.origins)


class _Fields:
    """Typed access to front matter fields; every mistake becomes a located problem.

    Fields are looked up by feedpub's keys; messages name the key as written.
    """

    def __init__(self, path: str, resolved: Resolved) -> None:
        self.path = path
        self.fields = resolved.fields
        self.resolved = resolved
        self.problems: list[Problem] = []

    def name(self, key: str) -> str:
        return self.resolved.names.get(key, key)

    def line(self, key: str) -> int | None:
        field = self.fields.get(key)
        return field.line if field and field.line else None

    def note(self, key: str, message: str) -> None:
        """Record an error and carry on, so one run reports every problem."""
        self.problems.append(Problem(self.path, message, line=self.line(key), field=self.name(key)))

    def text(self, key: str, *, required: bool = False) -> str | None:
        field = self.fields.get(key)
        if field is None:
            if required:
                self.note(key, "is required and missing")
            return None
        value = field.value
        if not isinstance(value, str):
            self.note(key, f"expected text, got {_yaml_kind(value)}")
            return None
        value = " ".join(value.split())
        if not value:
            if required:
                self.note(key, "expected text, got nothing")
            return None
        return value


def _yaml_kind(value: Value) -> str:
    return (
        "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else "text"
    )


def _article(
    fields: _Fields, body: str, config: Config, *, source: str, digest: str,
    now: datetime | None,
) -> Article | None:  # fmt: skip
    """The article, or None when a required field is missing (its problem is recorded)."""
    site = config.site
    for key, line in fields.resolved.unused:
        fields.problems.append(_unknown(fields.path, key, KNOWN_KEYS, line or None, key))
    for key, line, message in fields.resolved.notes:
        fields.problems.append(
            Problem(fields.path, message, line=line or None, field=key, severity=Severity.WARNING)
        )

    title = fields.text("title", required=True)
    section = fields.text("section", required=True)
    if section is not None and not has_slug(section):
        fields.note("section", f"{shown(section)} has no letter or digit to name its feed by")
    topics = _topics(fields)
    published = _date(fields, "published", site.timezone, required=True)
    updated = _date(fields, "updated", site.timezone)
    if published and updated and updated < published:
        fields.note(
            "updated",
            f"{updated.isoformat()} is before published ({published.isoformat()}); "
            "expected the same time or later",
        )
    expires = _date(fields, "expires", site.timezone)
    subtitle = fields.text("subtitle")
    authors = _authors(fields, site.author)
    draft = _flag(fields, "draft")
    if expires is not None and now is not None and expires <= now:
        draft = True

    slug_text = fields.text("slug")
    slug = slugify(slug_text if slug_text is not None else fields.resolved.stem)
    if not slug:
        where = "slug" if slug_text is not None else "file name"
        fields.note("slug", f"the {where} has no letter or digit to make a slug of")
    given_id = fields.text("id")
    if given_id is not None and not _IRI.match(given_id):
        fields.note(
            "id", f"expected an absolute IRI such as 'tag:…' or 'urn:uuid:…', got {shown(given_id)}"
        )
    given_url = fields.text("url")
    url = ""
    if given_url is not None:
        url = _web_address(given_url, site.url) or ""
        if not url:
            fields.note(
                "url",
                f"expected an http(s) address or one relative to the site, got {shown(given_url)}",
            )
    image = _image(fields, site.url)

    if title is None or section is None or published is None or not slug:
        return None
    # The newsroom's calendar day: the day of `published` in the site's zone.
    local = published.astimezone(site.timezone)
    entry_id = given_id or tag_uri(site.tag_authority, local.date(), slug)
    if given_url is None:
        url = absolute(
            site.link_pattern.format(
                year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}",
                slug=slug, section=slugify(section),
            ),
            site.url,
        )  # fmt: skip
    return Article(
        path=fields.path,
        id=entry_id,
        slug=slug,
        title=title,
        section=section,
        topics=topics,
        published=published,
        updated=updated or published,
        url=url,
        authors=authors,
        body=body,
        subtitle=subtitle,
        image=image,
        draft=draft,
        source=source,
        digest=digest,
        expires=expires,
        origins=fields.resolved.origins,
    )


def _unknown(path: str, key: str, known: tuple[str, ...], line: int | None, field: str) -> Problem:
    """The warning for a key feedpub does not know, with the key meant where one is known."""
    message = f"unknown key {shown(key)} is ignored{hint(key, known)}"
    return Problem(path, message, line=line, field=field, severity=Severity.WARNING)


MAX_ADDRESS = 2048  # characters: an article's address is the base of each of its links


def _web_address(address: str, base: str) -> str | None:
    """`address` made absolute against `base`; None unless that gives an http(s) address of
    at most MAX_ADDRESS characters (every relative link of the body is resolved against an
    article's address, in every document: a long one would multiply the output)."""
    if len(address) > MAX_ADDRESS:
        return None
    try:
        url = absolute(address, base)
        return url if is_absolute_http(url) else None
    except ValueError:  # e.g. an unclosed IPv6 host
        return None


def _topics(fields: _Fields) -> tuple[str, ...]:
    field = fields.fields.get("topics")
    if field is None:
        return ()
    value = field.value
    names: list[str] = []
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        names = [item for item in value if isinstance(item, str)]
    else:
        fields.note("topics", "expected a list of topic names or one comma-separated text")
        return ()
    topics: list[str] = []
    seen: set[str] = set()
    for written in names:
        name = " ".join(written.split())
        if not name:
            continue
        if not has_slug(name):
            fields.note("topics", f"topic {shown(name)} has no letter or digit to name its feed by")
            continue
        slug = slugify(name)
        if slug not in seen:
            if len(topics) == MAX_TOPICS:
                fields.note(
                    "topics", f"more than {MAX_TOPICS} topics are given; expected at most "
                    f"{MAX_TOPICS} (each topic is a feed of its own)",
                )  # fmt: skip
                return ()
            seen.add(slug)
            topics.append(name)
    return tuple(topics)


def _date(fields: _Fields, key: str, zone: tzinfo, *, required: bool = False) -> datetime | None:
    text = fields.text(key, required=required)
    if text is None:
        return None
    try:
        return parse_date(text, zone)
    except ValueError as error:
        fields.note(
            key, f"{shown(text)} {error}; expected e.g. 2021-03-30 or 2021-03-30T09:15:00-04:00"
        )
        return None


def _authors(fields: _Fields, default: Person) -> tuple[Person, ...]:
    field = fields.fields.get("author")
    if field is None:
        return (default,)
    value = field.value
    items = value if isinstance(value, list) else [value]
    people: list[Person] = []
    for item in items:
        try:
            person = _person(item)
        except ValueError:
            fields.note(
                "author", "expected a name, a list of names, or a mapping with name, email and uri"
            )
            return (default,)
        if person is not None and not has_slug(person.name):
            fields.note(
                "author", f"expected a name with a letter or digit, got {shown(person.name)}"
            )
        elif person is not None:
            people.append(person)
    return tuple(people) or (default,)


def _person(value: Value) -> Person | None:
    """The person a name or a `name`/`email`/`uri` mapping gives; None if blank.

    Raises ValueError for anything else.
    """
    if isinstance(value, str):
        name = " ".join(value.split())
        return Person(name) if name else None
    if not isinstance(value, dict):
        raise ValueError(value)
    parts: dict[str, str] = {}
    for key in ("name", "email", "uri", "url"):
        item = value.get(key)
        if item is None:
            continue
        if not isinstance(item, str):
            raise ValueError(item)
        if " ".join(item.split()):
            parts[key] = " ".join(item.split())
    if "name" not in parts:
        if parts:
            raise ValueError(value)
        return None
    return Person(parts["name"], parts.get("email"), parts.get("uri") or parts.get("url"))


def _flag(fields: _Fields, key: str) -> bool:
    text = fields.text(key)
    if text is None:
        return False
    if text.lower() in _TRUE:
        return True
    if text.lower() not in _FALSE:
        fields.note(key, f"expected true or false, got {shown(text)}")
    return False


def _image(fields: _Fields, base: str) -> Image | None:
    field = fields.fields.get("image")
    if field is None:
        return None
    label = fields.name("image")
    # The address as written: `image.url`, or another tool's key (`cover.image`, `images[0]`)
    origin = fields.resolved.origins.get("image", "image")
    value = field.value
    url_label = f"{label}.url" if origin == "image" else origin
    if isinstance(value, str):
        if not value.strip():  # `image:` with nothing after it, as an empty `subtitle:`
            return None
        value = {"url": value}
    elif "." not in origin and origin != "image":
        url_label = f"{label}.url"
    if not isinstance(value, dict):
        fields.note("image", "expected a mapping with url, caption, credit, type and length")
        return None

    def note(key: str, message: str) -> None:
        line = field.lines.get(key, field.line) or None
        name = url_label if key == "url" else f"{label}.{key}"
        fields.problems.append(Problem(fields.path, message, line=line, field=name))

    for key in value:
        if key not in IMAGE_KEYS and key.lower() not in IMAGE_TOOL_KEYS:
            line = field.lines.get(key, field.line) or None
            fields.problems.append(_unknown(fields.path, key, IMAGE_KEYS, line, f"{label}.{key}"))
    parts: dict[str, str] = {}
    for key in IMAGE_KEYS:
        item = value.get(key)
        if item is None:
            continue
        if not isinstance(item, str):
            note(key, f"expected text, got {_yaml_kind(item)}")
            return None
        if " ".join(item.split()):
            parts[key] = " ".join(item.split())
    if "url" not in parts:
        fields.note("image", "expected an image.url when an image is given")
        return None
    url = _web_address(parts["url"], base)
    if url is None:
        note(
            "url",
            f"expected an http(s) address or one relative to the site, got {shown(parts['url'])}",
        )
        return None
    media_type = parts.get("type") or _IMAGE_TYPES.get(
        os.path.splitext(url.split("?")[0].split("#")[0])[1].lower()
    )
    if media_type is not None and not _MEDIA_TYPE.match(media_type):
        note("type", f"expected a media type such as image/jpeg, got {shown(media_type)}")
        return None
    length = None
    if "length" in parts:
        text = parts["length"]
        if not text.isdigit() or not text.isascii() or len(text) > MAX_LENGTH_DIGITS:
            note("length", f"expected a size in bytes such as 48213, got {shown(text)}")
            return None
        length = int(text)
    return Image(url, parts.get("caption"), parts.get("credit"), media_type, length)
