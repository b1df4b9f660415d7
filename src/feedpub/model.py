"""The data feedpub works on: frozen, typed, and free of I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import Enum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Person:
    """An author: a name, with an e-mail address and a web page where known."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The publication: `[site]` in feedpub.toml, with every default filled in."""

    title: str
    description: str
    url: str
    language: str
    timezone: tzinfo
    timezone_name: str
    tag_authority: str
    link_pattern: str
    section_pattern: str
    topic_pattern: str
    feeds_url: str
    author: Person
    rights: str | None = None
    icon: str | None = None
    logo: str | None = None
    default_section: str | None = None  # for articles that name no section (SPEC §5)


class ContentMode(Enum):
    """Whether entries carry the whole article or only its summary."""

    FULL = "full"
    SUMMARY = "summary"


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    """`[feeds]` in feedpub.toml."""

    max_entries: int = 50
    content: ContentMode = ContentMode.FULL
    summary_length: int = 300
    formats: tuple[str, ...] = ("atom", "rss", "json")
    groups: tuple[str, ...] = ("all", "sections", "topics", "authors")


FORMAT_NAMES = ("atom", "rss", "json")
GROUP_NAMES = ("all", "sections", "topics", "authors", "section_topics")


@dataclass(frozen=True, slots=True)
class ArchivesConfig:
    """`[archives]`: RFC 5005 archive pages behind the feeds of some kinds of group."""

    enabled: bool = True
    groups: tuple[str, ...] = ("all", "sections")
    page_size: int = 50
    content: ContentMode = ContentMode.SUMMARY


@dataclass(frozen=True, slots=True)
class MarkdownConfig:
    """`[markdown]`: the GitHub Flavored Markdown extensions, each on by default."""

    tables: bool = True
    strikethrough: bool = True
    tasklists: bool = True
    footnotes: bool = True
    autolinks: bool = True


@dataclass(frozen=True, slots=True)
class WebSubConfig:
    """`[websub]`: the hubs told of every changed feed."""

    hubs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """`[serve]`: how `feedpub serve` answers."""

    max_age: int = 300


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """`[publish]`: the S3-compatible bucket `feedpub publish` uploads to."""

    url: str | None = None  # s3://bucket/prefix/
    endpoint_url: str | None = None
    region: str | None = None
    cache_control: str = "public, max-age=300"


MAX_ARTICLE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BuildConfig:
    """`[build]` in feedpub.toml: limits that keep a hostile file from hurting the build."""

    max_article_bytes: int = MAX_ARTICLE_BYTES


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration; built once by :mod:`feedpub.config`, never mutated."""

    site: SiteConfig
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    archives: ArchivesConfig = field(default_factory=ArchivesConfig)
    markdown: MarkdownConfig = field(default_factory=MarkdownConfig)
    websub: WebSubConfig = field(default_factory=WebSubConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)


@dataclass(frozen=True, slots=True)
class Image:
    """An article's lead image, its address already absolute."""

    url: str
    caption: str | None = None
    credit: str | None = None
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One article as the feeds need it: front matter resolved, body still Markdown.

    The body is rendered to HTML only for the articles that appear in some
    feed (see :mod:`feedpub.content`), so that a large archive costs only the
    price of reading its front matter.
    """

    path: str
    id: str
    slug: str
    title: str
    section: str
    topics: tuple[str, ...]
    published: datetime
    updated: datetime
    url: str
    authors: tuple[Person, ...]
    body: str
    subtitle: str | None = None
    image: Image | None = None
    draft: bool = False
    source: str = ""  # the file's path relative to the articles folder: its key in the build state
    digest: str = ""  # of the file's bytes: which version of the file this is
    expires: datetime | None = None  # `expiryDate` / `expires` (SPEC §5): out of feeds from then
    # Where each field came from (SPEC §5): field → key as written, `file name`, `folder`,
    # `site.default_section`; for `feedpub check -v`. Not stored in the build state.
    origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def bylines(self) -> tuple[str, ...]:
        """The names of its authors, as grouping reads them."""
        return tuple(person.name for person in self.authors)


class Listed(Protocol):
    """What grouping needs of an article: an :class:`Article`, or a cached listing of one."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def draft(self) -> bool: ...
    @property
    def section(self) -> str: ...
    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def bylines(self) -> tuple[str, ...]: ...
    @property
    def digest(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Content:
    """What an entry carries besides its metadata, free of characters XML forbids."""

    summary: str
    html: str | None


class GroupKind(Enum):
    """The kinds of feed, by their name in `feeds.groups`; :mod:`feedpub.layout` says
    where each kind's documents go and what it is called."""

    ALL = "all"
    SECTION = "sections"
    TOPIC = "topics"
    AUTHOR = "authors"
    SECTION_TOPIC = "section_topics"


@dataclass(frozen=True, slots=True)
class Group:
    """One feed's worth of articles: a document per format, named by
    :func:`feedpub.layout.document_path` from the stem (e.g. ``sections/asia``)."""

    kind: GroupKind
    name: str
    slug: str
    stem: str
    page_url: str
    entries: tuple[Listed, ...]
    total: int
    members: Sequence[Listed] = ()  # every published article of the group, newest first
    # (archive pages are written of them for the kinds `archives.groups` names)


@dataclass(frozen=True, slots=True)
class Page:
    """One document to render: a group's feed in one format, or one of its archive pages."""

    group: Group
    format: str
    path: str  # relative to the output folder
    entries: Sequence[Listed]  # a tuple; on a rerun's archive page, a state.Picked
    content: ContentMode  # what its entries carry
    # (rel, path) of the documents it links to besides itself and its web page:
    # "current", "prev-archive", "next-archive"
    links: tuple[tuple[str, str], ...] = ()
    archive: bool = False  # an RFC 5005 archive page, whose entries never change
