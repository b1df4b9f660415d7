"""Where every document goes and what it is called: each kind of group and each format,
declared once.

Everything else derives from the two tables below: the path of each document
(:func:`document_path`, the one place that names files), the web page a feed
stands for, its permanent id, its title, the folders swept for stale
documents, and the test that a file on disk is one of feedpub's.

====================  =========================================  ===========================
kind                  documents (one per format)                 web page
====================  =========================================  ===========================
all                   ``all.atom``, ``all.rss``, ``all.json``      ``site.url``
sections              ``sections/<section>.atom`` …                ``site.section_pattern``
topics                ``topics/<topic>.atom`` …                    ``site.topic_pattern``
authors               ``authors/<author>.atom`` …                  ``site.url``
section_topics        ``sections/<section>/<topic>.atom`` …        the section's page
====================  =========================================  ===========================

Archive pages (RFC 5005) of a group live under ``archive/`` in the group's own
path: ``archive/<stem>/<page>.<suffix>``, page 1 holding the oldest entries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from .model import Config, Group, GroupKind, Page, SiteConfig
from .urls import absolute, quote_iri


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of group: its folder, what one of its groups is called, its web page."""

    kind: GroupKind
    folder: str  # under the output folder; "" for the all-articles feed
    label: str  # "section": in titles, descriptions and messages
    pattern: str | None  # the SiteConfig attribute naming its web page pattern; None: site.url


@dataclass(frozen=True, slots=True)
class Format:
    """One document format: its name in `feeds.formats`, its file suffix and media type."""

    name: str
    suffix: str
    media_type: str


KINDS: dict[GroupKind, Kind] = {
    GroupKind.ALL: Kind(GroupKind.ALL, "", "all articles", None),
    GroupKind.SECTION: Kind(GroupKind.SECTION, "sections", "section", "section_pattern"),
    GroupKind.TOPIC: Kind(GroupKind.TOPIC, "topics", "topic", "topic_pattern"),
    GroupKind.AUTHOR: Kind(GroupKind.AUTHOR, "authors", "author", None),
    GroupKind.SECTION_TOPIC: Kind(
        GroupKind.SECTION_TOPIC, "sections", "section and topic", "section_pattern"
    ),
}

FORMATS: dict[str, Format] = {
    "atom": Format("atom", ".atom", "application/atom+xml"),
    "rss": Format("rss", ".rss", "application/rss+xml"),
    "json": Format("json", ".json", "application/feed+json"),
}

# Documents that are not feeds, written beside them: the lists of every feed.
INDEX_FILES = {"index.opml": "opml", "index.html": "html"}
FEED_SUFFIXES = tuple(fmt.suffix for fmt in FORMATS.values())
# The media type of each kind of document, by suffix (OPML registers no type: readers send and
# expect text/x-opml).
MEDIA_TYPES = {
    **{fmt.suffix: fmt.media_type for fmt in FORMATS.values()},
    ".opml": "text/x-opml",
    ".html": "text/html",
}
ARCHIVE_FOLDER = "archive"


def stem(kind: GroupKind, slug: str) -> str:
    """A group's path without suffix: ``all``, ``topics/security``, ``sections/asia/security``."""
    if kind is GroupKind.ALL:
        return "all"
    return f"{KINDS[kind].folder}/{slug}"


def document_path(group: Group, format_name: str) -> str:
    """The path of `group`'s document in format `format_name`, relative to the output folder."""
    return group.stem + FORMATS[format_name].suffix


def archive_path(group: Group, format_name: str, page: int) -> str:
    """The path of archive page `page` (1: the oldest entries) of `group`."""
    return f"{ARCHIVE_FOLDER}/{group.stem}/{page}{FORMATS[format_name].suffix}"


def feed_url(site: SiteConfig, path: str) -> str:
    """The public address of the document at `path` (its ``rel="self"``)."""
    return quote_iri(site.feeds_url + path)


def page_url(site: SiteConfig, kind: GroupKind, slug: str) -> str:
    """The web page a feed stands for: the site, a section's page or a topic's page.

    A section × topic feed stands for its section's page (its slug is
    ``<section>/<topic>``).
    """
    pattern = KINDS[kind].pattern
    if pattern is None:
        return site.url
    if kind is GroupKind.SECTION_TOPIC:
        slug = slug.partition("/")[0]
    return absolute(getattr(site, pattern).format(slug=quote(slug, safe="-")), site.url)


def feed_id(site: SiteConfig, group: Group) -> str:
    """A permanent id for a feed: a name-based UUID of the tag authority and the group.

    Like entry ids, it does not change when the site moves to another address.
    """
    name = f"feedpub:{site.tag_authority}:{group.stem}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def title(site: SiteConfig, group: Group) -> str:
    """ "<site>" for all articles, "<site>: <name>" for the others."""
    return site.title if group.kind is GroupKind.ALL else f"{site.title}: {group.name}"


def description(site: SiteConfig, group: Group) -> str:
    """What a feed holds, in a sentence."""
    if group.kind is GroupKind.ALL:
        return site.description or site.title
    if group.kind is GroupKind.AUTHOR:
        return f"{site.title}: articles by {group.name}"
    return f"{site.title}: articles in the {KINDS[group.kind].label} {group.name}"


def is_document_name(name: str) -> bool:
    """True for a relative path that lies where feedpub writes documents, with the suffix of
    one of its formats: what a sweep for stale documents may look at, and nothing else."""
    folder, _, file = name.rpartition("/")
    if not any(file.endswith(fmt.suffix) for fmt in FORMATS.values()):
        return False
    top = folder.partition("/")[0]
    return (folder == "" and file.startswith("all.")) or top in _FOLDERS


# Folders that hold documents: every kind's, and the archive's.
_FOLDERS = frozenset({kind.folder for kind in KINDS.values() if kind.folder} | {ARCHIVE_FOLDER})
SWEPT_FOLDERS = tuple(sorted(_FOLDERS))


def documents(config: Config, groups: tuple[Group, ...]) -> list[Page]:
    """Every document of the build: each group's feed in each configured format, then the
    archive pages of the groups that keep them (:mod:`feedpub.archive`)."""
    from . import archive

    feeds = [
        Page(
            group,
            name,
            document_path(group, name),
            group.entries,
            config.feeds.content,
            archive.feed_links(config, group, name),
        )
        for group in groups
        for name in config.feeds.formats
    ]
    archives = [page for group in groups for page in archive.pages(config, group)]
    return feeds + archives + index_pages(config, groups)


def index_pages(config: Config, groups: tuple[Group, ...]) -> list[Page]:
    """The OPML and HTML lists of every feed. Their entries are every feed's, so that an
    edit that changes a feed's last update renders them again."""
    entries = tuple({e.source: e for group in groups for e in group.entries}.values())
    everything = Group(GroupKind.ALL, "index", "index", "index", config.site.url, entries,
                       sum(group.total for group in groups))  # fmt: skip
    return [Page(everything, format_name, name, entries, config.feeds.content)
            for name, format_name in INDEX_FILES.items()]  # fmt: skip
