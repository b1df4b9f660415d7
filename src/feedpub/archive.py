"""RFC 5005 archived feeds: which archive pages a group has, and what each one holds.

A group's published articles, oldest first, are cut into pages of
``archives.page_size``: page 1 holds the oldest, page 2 the next, and so on.
Only complete pages are written; the newest articles that do not fill one are
in the group's feed (``page_size`` is at most ``feeds.max_entries``, so they
always fit), and every article is reachable from the feed through its
``prev-archive`` link, page by page, down to the first.

Counting from the oldest makes pages stable, which is what makes them worth
caching:

- a new article (newer than all) changes no page's entries; when it completes
  a page, that page is new, and the page before it gains its
  ``next-archive`` link;
- an edited article changes only the pages that hold it (one per group);
- a deleted or back-dated article shifts every page from the one that held
  it (or now holds it) to the newest by one entry; older pages stay as they
  are. That is the least any fixed-size paging can do.

Archive pages are written in Atom and RSS (RSS with ``atom:link``): each with
``<fh:archive/>``, ``rel="current"`` (the group's feed), and its
``prev-archive``/``next-archive`` neighbours. JSON Feed documents link no
archive pages (see :mod:`feedpub.formats.jsonfeed`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .layout import archive_path, document_path
from .model import Config, Group, Listed, Page

ARCHIVED_FORMATS = ("atom", "rss")  # the formats whose documents carry RFC 5005 links


def page_count(config: Config, group: Group) -> int:
    """How many archive pages `group` has (0 for a kind that keeps no archive)."""
    archives = config.archives
    if not archives.enabled or group.kind.value not in archives.groups:
        return 0
    return len(group.members) // archives.page_size


def feed_links(config: Config, group: Group, format_name: str) -> tuple[tuple[str, str], ...]:
    """The archive link of a group's feed in one format: its newest archive page."""
    count = page_count(config, group)
    if count == 0 or format_name not in ARCHIVED_FORMATS:
        return ()
    return (("prev-archive", archive_path(group, format_name, count)),)


def pages(config: Config, group: Group) -> list[Page]:
    """Every archive page of `group`, in every configured format that links archives."""
    size = config.archives.page_size
    count = page_count(config, group)
    members, total = group.members, len(group.members)
    found = []
    for number in range(1, count + 1):
        # Newest first, as the feed; sliced as the members are (a rerun's, by index: its
        # entries are only picked when the page is rendered or fingerprinted).
        chunk: Sequence[Listed] = members[total - number * size : total - (number - 1) * size]
        for name in config.feeds.formats:
            if name not in ARCHIVED_FORMATS:
                continue
            links = [("current", document_path(group, name))]
            if number > 1:
                links.append(("prev-archive", archive_path(group, name, number - 1)))
            if number < count:
                links.append(("next-archive", archive_path(group, name, number + 1)))
            found.append(Page(
                group, name, archive_path(group, name, number), chunk, config.archives.content,
                tuple(links), archive=True,
            ))  # fmt: skip
    return found
