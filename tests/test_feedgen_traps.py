"""feedgen 1.0.0's known traps, pinned.

Each `test_feedgen_*` test asserts the trap as feedgen has it today: the
reference renderer of ``tests/feedgen_reference.py`` (which feedpub's templated
documents are held byte-identical to) works around each. When a feedgen release
fixes one, its test fails: that is the signal to drop the matching workaround
there (and this test). The ``test_feedpub_*`` tests assert that feedpub's own
output avoids each trap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from feedgen.feed import FeedGenerator
from lxml import etree

from feedpub.config import load_config
from feedpub.content import Content
from feedpub.formats import render_group
from feedpub.model import Article, Group, GroupKind, Image, Person

ATOM = "{http://www.w3.org/2005/Atom}"
WHEN = datetime(2021, 3, 30, 13, 15, tzinfo=UTC)


def generator() -> FeedGenerator:
    fg = FeedGenerator()
    fg.id("urn:uuid:00000000-0000-0000-0000-000000000000")
    fg.title("Trap")
    fg.subtitle("Trap")
    fg.link(href="https://news.example/", rel="alternate")
    fg.updated(WHEN)
    return fg


def add(fg: FeedGenerator, number: int, **kwargs: str) -> None:
    entry = fg.add_entry(**kwargs)
    entry.id(f"urn:example:{number}")
    entry.title(f"Entry {number}")
    entry.link(href=f"https://news.example/{number}")
    entry.updated(WHEN)


def test_feedgen_drops_atom_entry_link_attributes() -> None:
    """feedgen writes only href on Atom entry links (upstream issues #135, #143)."""
    fg = generator()
    add(fg, 1)
    entry = fg.entry()[0]
    entry.link(href="https://news.example/i.jpg", rel="enclosure", type="image/jpeg", length="9")
    links = etree.fromstring(fg.atom_str()).findall(f"{ATOM}entry/{ATOM}link")
    assert [dict(link.attrib) for link in links] == [
        {"href": "https://news.example/1"},
        {"href": "https://news.example/i.jpg"},
    ]


def test_feedgen_add_entry_prepends_by_default() -> None:
    """add_entry() puts each new entry first unless told order="append"."""
    fg = generator()
    add(fg, 1)
    add(fg, 2)
    ids = [node.text for node in etree.fromstring(fg.atom_str()).iter(f"{ATOM}id")][1:]
    assert ids == ["urn:example:2", "urn:example:1"]


def test_feedgen_rss_channel_link_is_the_last_link_added() -> None:
    """The RSS channel <link> is whichever link was added last, even rel="self"."""
    fg = generator()
    fg.link(href="https://news.example/feeds/all.rss", rel="self")
    assert (
        etree.fromstring(fg.rss_str()).findtext("channel/link")
        == "https://news.example/feeds/all.rss"
    )


def test_feedgen_cdata_content_writes_an_invalid_atom_type() -> None:
    """content(type="CDATA") writes type="CDATA", which Atom does not allow."""
    fg = generator()
    add(fg, 1)
    fg.entry()[0].content("<p>x</p>", type="CDATA")
    content = etree.fromstring(fg.atom_str()).find(f"{ATOM}entry/{ATOM}content")
    assert content is not None
    assert content.get("type") == "CDATA"


def test_feedgen_enclosure_without_length_writes_none() -> None:
    """enclosure() without a length writes length="None"."""
    fg = generator()
    add(fg, 1)
    fg.entry()[0].enclosure("https://news.example/i.jpg", type="image/jpeg")
    assert b'length="None"' in fg.rss_str()


def test_feedgen_drops_name_only_authors_from_rss() -> None:
    """An author without an e-mail address leaves no trace in RSS."""
    fg = generator()
    add(fg, 1)
    fg.entry()[0].author({"name": "Jane Doe"})
    assert b"Jane Doe" not in fg.rss_str()


def test_feedgen_stamps_the_clock_and_its_version() -> None:
    """Without explicit dates feedgen writes the clock; its generator carries a version."""
    fg = FeedGenerator()
    fg.id("urn:example:feed")
    fg.title("Clock")
    document = etree.fromstring(fg.atom_str())
    stamped = datetime.fromisoformat(document.findtext(f"{ATOM}updated") or "")
    assert abs((stamped - datetime.now(UTC)).total_seconds()) < 3600
    generator_element = document.find(f"{ATOM}generator")
    assert generator_element is not None
    assert generator_element.get("version")


@pytest.mark.parametrize("character", ["\x0b", "\x1b", "\x00", "\ufffe"])
def test_feedgen_fails_on_characters_xml_forbids(character: str) -> None:
    """One forbidden character anywhere makes the whole feed fail to serialise."""
    fg = generator()
    add(fg, 1)
    fg.entry()[0].title(f"bad{character}title")
    with pytest.raises(ValueError, match="XML compatible"):
        fg.atom_str()


@pytest.mark.parametrize("value", [datetime(2021, 3, 30, 9, 15), date(2021, 3, 30)])
def test_feedgen_refuses_naive_datetimes_and_dates(value: object) -> None:
    """Naive datetimes and plain dates raise."""
    fg = generator()
    with pytest.raises(ValueError):  # noqa: PT011 - feedgen raises a bare ValueError
        fg.updated(value)


CONFIG = load_config('[site]\nurl = "https://news.example/"\ntitle = "News"\n')


def trap_group() -> tuple[Group, dict[str, Content]]:
    articles = [
        Article(
            path=f"articles/{n}.md",
            id=f"urn:example:{n}",
            slug=str(n),
            title=f"Title\x0b {n}",
            section="S",
            topics=(),
            published=WHEN.replace(day=n),
            updated=WHEN.replace(day=n),
            url=f"https://news.example/{n}/",
            authors=(Person("Jane Doe"),),
            body="",
            image=Image("https://news.example/i.jpg", "caption", "credit", "image/jpeg", None),
            source=f"{n}.md",
        )
        for n in (29, 28)
    ]
    group = Group(GroupKind.ALL, "News", "all", "all", "https://news.example/", tuple(articles), 2)
    contents = {article.source: Content("summary", "<p>body</p>") for article in articles}
    return group, contents


def test_feedpub_avoids_every_trap() -> None:
    """feedpub's documents: links keep attributes, order kept, no clock, no None, names kept."""
    group, contents = trap_group()
    atom = render_group(CONFIG, group, "atom", contents)
    rss = render_group(CONFIG, group, "rss", contents)
    tree = etree.fromstring(atom)
    assert [node.text for node in tree.iter(f"{ATOM}id")][1:] == [
        "urn:example:29",
        "urn:example:28",
    ]
    link = tree.find(f"{ATOM}entry/{ATOM}link")
    assert link is not None
    assert link.get("rel") == "alternate"
    assert tree.findtext(f"{ATOM}updated") == "2021-03-29T13:15:00Z"
    generator_element = tree.find(f"{ATOM}generator")
    assert generator_element is not None
    assert generator_element.get("version") is None
    content = tree.find(f"{ATOM}entry/{ATOM}content")
    assert content is not None
    assert content.get("type") == "html"
    assert b"None" not in rss
    assert b"<dc:creator>Jane Doe</dc:creator>" in rss
    channel_link = etree.fromstring(rss).findtext("channel/link")
    assert channel_link == "https://news.example/"
    assert b"\x0b" not in atom
    assert b"\x0b" not in rss
