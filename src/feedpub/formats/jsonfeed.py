"""JSON Feed 1.1 documents, as bytes (https://www.jsonfeed.org/version/1.1/).

Each carries what the Atom and RSS documents of its page carry: the same
ids, titles, links, instants, authors, categories (as ``tags``: the section
first, then the topics), summary, content, image and language.

A JSON document has no ``<generator>``: feedpub marks its own with the
top-level extension object ``"_feedpub"`` (JSON Feed reserves keys that start
with ``_`` for extensions), which :func:`is_ours` looks for, so a stranger's
file is never overwritten. Archive pages are linked from the Atom and RSS
documents only: JSON Feed's ``next_url`` is pagination, not RFC 5005's
fixed archive pages, and is not written.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .. import layout
from ..content import xml_text as clean
from ..model import Article, ContentMode, Page, Person
from . import Shared, entries_of, feed_author, forget
from .xml import entry_html, iso_date

VERSION = "https://jsonfeed.org/version/1.1"
MARKER = {"about": "https://pypi.org/project/feedpub/", "generator": "feedpub"}
_MARKER_BYTES = b'"_feedpub": {'


def is_ours(head: bytes) -> bool:
    """True when a JSON document's first bytes carry feedpub's extension object."""
    return head.lstrip().startswith(b"{") and _MARKER_BYTES in head


def _person(person: Person) -> dict[str, str]:
    data = {"name": clean(person.name)}
    if person.uri:
        data["url"] = person.uri
    return data


def _dumps(value: Any) -> bytes:
    """`value` in UTF-8 as ``json.dumps(value, ensure_ascii=False, indent=2)`` writes it.

    orjson writes those bytes (an item with its content: about 1.2 against 50 µs, for the
    escaping of the HTML); what it refuses and json takes (an integer past 64 bits) is
    written by json.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, indent=2).encode()


class JsonRenderer:
    """JSON Feed 1.1 documents; each entry's item built once per build."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._items: dict[tuple[str, ContentMode], bytes] = {}  # encoded once, joined as is
        self._left = shared.uses.get("json", {})  # counted down here

    def render(self, page: Page) -> bytes:
        """The document of `page`."""
        site = self.shared.config.site
        group = page.group
        articles = entries_of(page, self.shared)
        feed: dict[str, Any] = {
            "version": VERSION,
            "_feedpub": MARKER,  # first: found in a file's first bytes
            "title": clean(layout.title(site, group)),
            "home_page_url": group.page_url,
            "feed_url": layout.feed_url(site, page.path),
            "description": clean(layout.description(site, group)),
            "language": site.language,
        }
        if site.icon:
            feed["icon"] = site.icon
        if site.logo:
            feed["favicon"] = site.logo
        feed["authors"] = [_person(feed_author(self.shared.config, group, articles))]
        hubs = self.shared.config.websub.hubs
        if hubs:
            feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in hubs]
        items = [self._item(article, page.content) for article in articles]
        if not items:
            feed["items"] = []
        text = _dumps(feed)
        forget(self._items, self._left, page)
        if not items:
            return text + b"\n"
        # As json.dumps(indent=2) writes them, each item serialised once a build; the
        # document is one join of the encoded pieces.
        parts = [text[:-2], b',\n  "items": [\n']
        for item in items:
            parts += (item, b",\n")
        parts[-1] = b"\n  ]\n}\n"
        return b"".join(parts)

    def _item(self, article: Article, mode: ContentMode) -> bytes:
        """An item as written in every document that holds it (at its depth there)."""
        key = (article.source, mode)
        item = self._items.get(key)
        if item is None:
            written = _dumps(self._fields(article, mode))
            item = self._items[key] = b"    " + written.replace(b"\n", b"\n    ")
        return item

    def _fields(self, article: Article, mode: ContentMode) -> dict[str, Any]:
        content = self.shared.contents[article.source]
        item: dict[str, Any] = {"id": article.id, "url": article.url, "title": clean(article.title)}
        body = entry_html(article, content, full=mode is ContentMode.FULL)
        if body is not None:
            item["content_html"] = body
        else:
            item["content_text"] = content.summary
        item["summary"] = content.summary
        image = article.image
        if image is not None:
            item["image"] = image.url
        item["date_published"] = iso_date(article.published)
        item["date_modified"] = iso_date(article.updated)
        item["authors"] = [_person(person) for person in article.authors]
        item["tags"] = [clean(article.section), *(clean(topic) for topic in article.topics)]
        if image is not None and image.type and image.length is not None:
            attachment: dict[str, Any] = {"url": image.url, "mime_type": image.type}
            if image.caption:
                attachment["title"] = clean(image.caption)
            attachment["size_in_bytes"] = image.length
            item["attachments"] = [attachment]
        return item
