"""The OPML renderer as it was while lxml built its tree: the reference
``test_templated_formats.py`` holds ``feedpub.formats.indexes.OpmlRenderer`` to, byte for byte.
"""

from __future__ import annotations

from email.utils import format_datetime

from lxml import etree

from feedpub import layout
from feedpub.content import xml_text as clean
from feedpub.formats.indexes import _READER_ORDER, MARKER, _Index, _kinds
from feedpub.model import Page


class OpmlRenderer(_Index):
    """OPML 2.0: each feed once, as an outline with text, title, type, xmlUrl and htmlUrl."""

    def render(self, page: Page) -> bytes:
        site = self.shared.config.site
        formats = self.shared.config.feeds.formats
        chosen = next(name for name in (*_READER_ORDER, *formats) if name in formats)
        opml = etree.Element("opml", version="2.0")
        head = etree.SubElement(opml, "head")
        etree.SubElement(head, "title").text = clean(f"{site.title}: feeds")
        newest = [moment for group in self.shared.groups if (moment := self.updated(group))]
        if newest:
            etree.SubElement(head, "dateModified").text = format_datetime(max(newest), usegmt=True)
        if site.author.name:
            etree.SubElement(head, "ownerName").text = clean(site.author.name)
        etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
        body = etree.SubElement(opml, "body")
        for heading, groups in _kinds(self.shared.groups):
            parent = body
            if heading is not None:
                parent = etree.SubElement(body, "outline", text=heading, title=heading)
            for group in groups:
                title = clean(layout.title(site, group))
                etree.SubElement(parent, "outline", {
                    "text": title, "title": title, "type": "rss",
                    "xmlUrl": layout.feed_url(site, layout.document_path(group, chosen)),
                    "htmlUrl": group.page_url,
                })  # fmt: skip
        data = etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)
        declaration, _, rest = data.partition(b"\n")
        return declaration + f"\n<!-- {MARKER} -->\n".encode() + rest
