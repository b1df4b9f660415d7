"""One article file's bytes → an :class:`~feedpub.model.Article`, or the problems that keep it out.

Pure: the caller reads the file; the configuration supplies the site's time
zone, address patterns and default author.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from .dates import parse_date
from .errors import ArticleError, Problem, Severity
from .frontmatter import Field, Value, body_of, decode, split, xml_clean
from .model import Article, Config, Image, Person
from .names import has_slug, slugify, tag_uri
from .urls import absolute, is_absolute_http

KNOWN_KEYS = (
    "title", "section", "topics", "published", "updated", "subtitle",
    "author", "image", "id", "slug", "url", "draft",
)  # fmt: skip
IMAGE_KEYS = ("url", "caption", "credit", "type", "length")
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*\Z")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
# Image types by file extension: a fixed table, so that a build does not
# depend on the machine's mime.types.
_IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
}  # fmt: skip


def digest(raw: bytes) -> str:
    """A short digest of a file's bytes, naming one version of it."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def read_body(raw: bytes, path: str) -> str:
    """The Markdown body of an article file's bytes (empty when the file no longer splits)."""
    try:
        return body_of(decode(raw, path))
    except ArticleError:
        return ""


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of parsing one file: the article when it can be published, and every problem."""

    article: Article | None
    problems: tuple[Problem, ...]


def parse_article(
    raw: bytes, path: str, config: Config, source: str = "", *, keep_body: bool = True
) -> Parsed:
    """Parse one article file. Never raises for a mistake in the file: it becomes a Problem.

    `path` names the file in messages; `source` is its path relative to the
    articles folder (the article's key between builds). Without `keep_body`
    the article's body is left empty (a large archive keeps only front
    matter in memory; :func:`read_body` fetches it for the articles in feeds).
    """
    try:
        document = split(decode(raw, path), path, clean=xml_clean(raw))
    except ArticleError as error:
        return Parsed(None, (error.problem,))
    reader = _Fields(path, document.fields)
    body = document.body if keep_body else ""
    stem = os.path.splitext(os.path.basename(path))[0]
    article = _article(reader, body, stem, config, source=source or path, digest=digest(raw))
    problems = (*document.problems, *reader.problems)
    if any(problem.severity is Severity.ERROR for problem in problems):
        article = None
    return Parsed(article, problems)


class _Fields:
    """Typed access to front matter fields; every mistake becomes a located problem."""

    def __init__(self, path: str, fields: dict[str, Field]) -> None:
        self.path = path
        self.fields = fields
        self.problems: list[Problem] = []

    def line(self, key: str) -> int | None:
        field = self.fields.get(key)
        return field.line if field else None

    def note(self, key: str, message: str) -> None:
        """Record an error and carry on, so one run reports every problem."""
        self.problems.append(Problem(self.path, message, line=self.line(key), field=key))

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
    fields: _Fields, body: str, stem: str, config: Config, *, source: str, digest: str
) -> Article | None:
    """The article, or None when a required field is missing (its problem is recorded)."""
    site = config.site
    for key, field in fields.fields.items():
        if key not in KNOWN_KEYS:
            fields.problems.append(_unknown(fields.path, key, KNOWN_KEYS, field.line, key))

    title = fields.text("title", required=True)
    section = fields.text("section", required=True)
    if section is not None and not has_slug(section):
        fields.note("section", f"{section!r} has no letter or digit to name its feed by")
    topics = _topics(fields)
    published = _date(fields, "published", site.timezone, required=True)
    updated = _date(fields, "updated", site.timezone)
    if published and updated and updated < published:
        fields.note(
            "updated",
            f"{updated.isoformat()} is before published ({published.isoformat()}); "
            "expected the same time or later",
        )
    subtitle = fields.text("subtitle")
    authors = _authors(fields, site.author)
    draft = _flag(fields, "draft")

    slug_text = fields.text("slug")
    slug = slugify(slug_text if slug_text is not None else stem)
    if not slug:
        where = "slug" if slug_text is not None else "file name"
        fields.note("slug", f"the {where} has no letter or digit to make a slug of")

    if title is None or section is None or published is None or not slug:
        return None
    given_id = fields.text("id")
    if given_id is not None and not _IRI.match(given_id):
        fields.note(
            "id", f"expected an absolute IRI such as 'tag:…' or 'urn:uuid:…', got {given_id!r}"
        )
    # The newsroom's calendar day: the day of `published` in the site's zone.
    local = published.astimezone(site.timezone)
    entry_id = given_id or tag_uri(site.tag_authority, local.date(), slug)

    given_url = fields.text("url")
    if given_url is not None:
        url = _web_address(given_url, site.url) or ""
        if not url:
            fields.note(
                "url", f"expected an http(s) address or one relative to the site, got {given_url!r}"
            )
    else:
        url = absolute(
            site.link_pattern.format(
                year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}",
                slug=slug,
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
        image=_image(fields, site.url),
        draft=draft,
        source=source,
        digest=digest,
    )


def _unknown(path: str, key: str, known: tuple[str, ...], line: int, field: str) -> Problem:
    """The warning for a key feedpub does not know, with the known key it most resembles."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    message = f"unknown key {key!r} is ignored{hint}"
    return Problem(path, message, line=line, field=field, severity=Severity.WARNING)


def _web_address(address: str, base: str) -> str | None:
    """`address` made absolute against `base`; None unless that gives an http(s) address."""
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
            fields.note("topics", f"topic {name!r} has no letter or digit to name its feed by")
            continue
        if slugify(name) not in seen:
            seen.add(slugify(name))
            topics.append(name)
    return tuple(topics)


def _date(fields: _Fields, key: str, zone: tzinfo, *, required: bool = False) -> datetime | None:
    text = fields.text(key, required=required)
    if text is None:
        return None
    try:
        return parse_date(text, zone)
    except ValueError as error:
        fields.note(key, f"{text!r} {error}; expected e.g. 2021-03-30 or 2021-03-30T09:15:00-04:00")
        return None


def _authors(fields: _Fields, default: Person) -> tuple[Person, ...]:
    field = fields.fields.get("author")
    if field is None:
        return (default,)
    value = field.value
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if names is None or not all(isinstance(name, str) for name in names):
        fields.note("author", "expected a name or a list of names")
        return (default,)
    people = tuple(Person(" ".join(str(name).split())) for name in names if str(name).strip())
    return people or (default,)


def _flag(fields: _Fields, key: str) -> bool:
    text = fields.text(key)
    if text is None:
        return False
    if text.lower() in _TRUE:
        return True
    if text.lower() not in _FALSE:
        fields.note(key, f"expected true or false, got {text!r}")
    return False


def _image(fields: _Fields, base: str) -> Image | None:
    field = fields.fields.get("image")
    if field is None:
        return None
    value = field.value
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        fields.note("image", "expected a mapping with url, caption, credit, type and length")
        return None

    def note(key: str, message: str) -> None:
        line = field.lines.get(key, field.line)
        fields.problems.append(Problem(fields.path, message, line=line, field=f"image.{key}"))

    for key in value:
        if key not in IMAGE_KEYS:
            line = field.lines.get(key, field.line)
            fields.problems.append(_unknown(fields.path, key, IMAGE_KEYS, line, f"image.{key}"))
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
            "url", f"expected an http(s) address or one relative to the site, got {parts['url']!r}"
        )
        return None
    media_type = parts.get("type") or _IMAGE_TYPES.get(
        os.path.splitext(url.split("?")[0].split("#")[0])[1].lower()
    )
    if media_type is not None and not _MEDIA_TYPE.match(media_type):
        note("type", f"expected a media type such as image/jpeg, got {media_type!r}")
        return None
    length = None
    if "length" in parts:
        if not parts["length"].isdigit() or not parts["length"].isascii():
            note("length", f"expected a size in bytes such as 48213, got {parts['length']!r}")
            return None
        length = int(parts["length"])
    return Image(url, parts.get("caption"), parts.get("credit"), media_type, length)
