"""The JSON Feed renderer as it was before its items were serialised once a build: the
reference ``test_templated_formats.py`` holds ``feedpub.formats.jsonfeed`` to, byte for byte.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from feedpub import layout
from feedpub.content import xml_text as clean
from feedpub.formats import Shared, entries_of, feed_author, forget
from feedpub.formats.xml import entry_html
from feedpub.model import Article, ContentMode, Page, Person

VERSION = "https://jsonfeed.org/version/1.1"
MARKER = {"about": "https://pypi.org/project/feedpub/", "generator": "feedpub"}
_MARKER_BYTES = b'"_feedpub": {'


def is_ours(head: bytes) -> bool:
    """True when a JSON document's first bytes carry feedpub's extension object."""
    return head.lstrip().startswith(b"{") and _MARKER_BYTES in head


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _person(person: Person) -> dict[str, str]:
    data = {"name": clean(person.name)}
    if person.uri:
        data["url"] = person.uri
    return data


class JsonRenderer:
    """JSON Feed 1.1 documents; each entry's item built once per build."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._items: dict[tuple[str, ContentMode], dict[str, Any]] = {}
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
        feed["items"] = [self._item(article, page.content) for article in articles]
        text = json.dumps(feed, ensure_ascii=False, indent=2)
        forget(self._items, self._left, page)
        return (text + "\n").encode()

    def _item(self, article: Article, mode: ContentMode) -> dict[str, Any]:
        key = (article.source, mode)
        item = self._items.get(key)
        if item is not None:
            return item
        content = self.shared.contents[article.source]
        item = {"id": article.id, "url": article.url, "title": clean(article.title)}
        body = entry_html(article, content, full=mode is ContentMode.FULL)
        if body is not None:
            item["content_html"] = body
        else:
            item["content_text"] = content.summary
        item["summary"] = content.summary
        image = article.image
        if image is not None:
            item["image"] = image.url
        item["date_published"] = _date(article.published)
        item["date_modified"] = _date(article.updated)
        item["authors"] = [_person(person) for person in article.authors]
        item["tags"] = [clean(article.section), *(clean(topic) for topic in article.topics)]
        if image is not None and image.type and image.length is not None:
            attachment: dict[str, Any] = {"url": image.url, "mime_type": image.type}
            if image.caption:
                attachment["title"] = clean(image.caption)
            attachment["size_in_bytes"] = image.length
            item["attachments"] = [attachment]
        self._items[key] = item
        return item
