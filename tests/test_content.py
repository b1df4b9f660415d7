"""The body as GitHub renders it (SPEC §5), read back with lxml.html: each GFM extension,
each one turned off, footnotes that land, the tag filter, template code, embeds, the
summary markers, the nesting guard, and characters XML forbids."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.config import load_config
from feedpub.content import (
    MAX_DEPTH,
    body_first_line,
    render_article,
    render_content,
)
from feedpub.errors import Severity
from feedpub.frontmatter import FORBIDDEN
from feedpub.model import Article, ContentMode, FeedsConfig, MarkdownConfig
from feedpub.parse import parse_article

GFM = Path(__file__).parent / "fixtures" / "gfm"
URL = "https://news.example/2024/03/story/"
FEEDS = FeedsConfig()
WHEN = datetime(2024, 3, 1, tzinfo=UTC)


def article(body: str, *, id: str = "tag:news.example,2024-03-01:story", **fields: str) -> Article:
    values: dict[str, object] = {"url": URL, **fields}
    return Article(
        path="story.md", id=id, slug="story", title="Story", section="News", topics=(),
        published=WHEN, updated=WHEN, authors=(), body=body, **values,  # type: ignore[arg-type]
    )  # fmt: skip


def html_of(body: str, markdown: MarkdownConfig | None = None, **fields: str) -> str:
    rendered = render_article(article(body, **fields), FEEDS, markdown=markdown)
    assert rendered.content.html is not None
    return rendered.content.html


def tree(body: str, markdown: MarkdownConfig | None = None) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html_of(body, markdown), create_parent="div")


def fixture(name: str) -> str:
    return (GFM / f"{name}.md").read_text(encoding="utf-8")


def off(extension: str) -> MarkdownConfig:
    return replace(MarkdownConfig(), **{extension: False})


# -- the extensions ---------------------------------------------------------------------


def test_a_table_has_header_and_data_cells() -> None:
    """A GFM table becomes a table with a th per header and a td per cell."""
    root = tree(fixture("tables"))
    (table,) = root.iter("table")
    assert [th.text_content().strip() for th in table.iter("th")] == ["Name", "Votes"]
    assert [td.text_content().strip() for td in table.iter("td")] == ["Ada", "12", "Bob", "7"]


def test_strikethrough_is_a_del_element() -> None:
    """`~~text~~` becomes <del>text</del>."""
    assert [d.text for d in tree(fixture("strikethrough")).iter("del")] == ["on Monday"]


def test_task_list_items_show_their_boxes_as_characters() -> None:
    """A task list item starts with ☐ (open) or ☑ (done), which no feed reader strips."""
    items = [li.text_content().split() for li in tree(fixture("tasklists")).iter("li")]
    assert items == [["☐", "call", "the", "council"], ["☑", "file", "the", "story"]]


def test_a_footnote_reference_links_to_its_note() -> None:
    """The reference's href is '#' and the id of the element that holds the note."""
    root = tree(fixture("footnotes"))
    (link,) = [a for a in root.iter("a") if a.get("href", "").startswith("#")]
    notes = {element.get("id"): element for element in root.iter() if element.get("id")}
    target = link.get("href", "")[1:]
    assert target in notes
    assert "Figures from the gauge" in notes[target].text_content()


def test_footnote_ids_differ_between_two_entries_of_one_feed() -> None:
    """The same label in two articles gives two ids, so each entry's links land on its own."""
    ids = []
    for key in ("tag:news.example,2024:a", "tag:news.example,2024:b"):
        rendered = render_article(article(fixture("footnotes"), id=key), FEEDS)
        assert rendered.content.html is not None
        root = lxml.html.fragment_fromstring(rendered.content.html, create_parent="div")
        (note_id,) = [element.get("id") for element in root.iter() if element.get("id")]
        (href,) = [a.get("href") for a in root.iter("a") if a.get("href", "").startswith("#")]
        assert href == "#" + note_id
        ids.append(note_id)
    assert ids[0] != ids[1]


def test_a_footnote_label_that_is_no_plain_word_still_lands() -> None:
    """A label with spaces or accents still gives an href equal to the note's id."""
    root = tree("Text[^une note é].\n\n[^une note é]: La note.\n")
    (href,) = [a.get("href") for a in root.iter("a")]
    (note_id,) = [element.get("id") for element in root.iter() if element.get("id")]
    assert href == "#" + note_id
    assert " " not in note_id


def test_an_author_id_is_dropped_and_other_fragments_become_absolute() -> None:
    """Only footnote ids survive; a link to another fragment goes to the article's page."""
    root = tree('<div id="top">x</div>\n\n[up](#top)\n')
    assert not [element for element in root.iter() if element.get("id")]
    assert [a.get("href") for a in root.iter("a")] == [URL + "#top"]


def test_bare_urls_www_and_email_addresses_become_links() -> None:
    """GFM's autolinks: http(s)://, www. and e-mail addresses; trailing punctuation is not kept."""
    links = [(a.get("href"), a.text) for a in tree(fixture("autolinks")).iter("a")]
    assert links == [
        ("http://www.example.com/floods", "www.example.com/floods"),
        ("https://example.org/report?id=7", "https://example.org/report?id=7"),
        ("mailto:desk@news.org", "desk@news.org"),
    ]


def test_a_bare_domain_and_urls_in_code_or_links_are_not_linked() -> None:
    """As on GitHub: no link for `example.com`, inside code, or inside a link's text."""
    root = tree("see example.com and `https://a.example/x`\n\n[https://b.example](/c)\n")
    assert [a.get("href") for a in root.iter("a")] == ["https://news.example/c"]


def test_a_fenced_code_block_keeps_its_language_class() -> None:
    """```python gives <code class="language-python">; no other class survives."""
    (code,) = tree(fixture("fenced-code")).iter("code")
    assert code.get("class") == "language-python"
    root = tree('<code class="evil language-js">x</code> <p class="lead">y</p>\n')
    classes = [(element.tag, element.get("class")) for element in root.iter("code", "p")]
    assert classes == [("p", None), ("code", "language-js"), ("p", None)]


@pytest.mark.parametrize(
    ("extension", "source", "present"),
    [
        ("tables", "tables", "table"),
        ("strikethrough", "strikethrough", "del"),
        ("footnotes", "footnotes", "sup"),
        ("autolinks", "autolinks", "a"),
    ],
)
def test_each_extension_can_be_turned_off(extension: str, source: str, present: str) -> None:
    """With `[markdown] <extension> = false` the extension's element is never written."""
    assert list(tree(fixture(source)).iter(present))
    assert not list(tree(fixture(source), off(extension)).iter(present))


def test_task_lists_turned_off_leave_the_brackets() -> None:
    """With `tasklists = false` an item shows `[ ]` as written."""
    text = tree(fixture("tasklists"), off("tasklists")).text_content()
    assert "[ ] call" in text
    assert "☐" not in text


# -- the tag filter -----------------------------------------------------------------------

FILTERED = ["title", "textarea", "style", "xmp", "iframe", "noembed", "noframes", "script",
            "plaintext"]  # fmt: skip


@pytest.mark.parametrize("name", FILTERED)
@pytest.mark.parametrize("form", ["<{}>", "<{} lang=en>", "<{}/x>", "<{}>\n"])
def test_a_filtered_tag_is_text_and_the_markdown_after_it_renders(name: str, form: str) -> None:
    """GFM's tag filter: the tag is shown as text, never read as an element, and the
    Markdown after it is still Markdown (an HTML parser would swallow it as text)."""
    tag = form.format(name.upper() if name == "title" else name)
    root = tree(f"Before {tag} inline.\n\n{tag}\n\nAfter *emphasis* and [a link](/x).\n")
    assert not list(root.iter(name))
    assert tag.strip() in root.text_content()
    assert [em.text for em in root.iter("em")] == ["emphasis"]
    assert "https://news.example/x" in [a.get("href") for a in root.iter("a")]


@pytest.mark.parametrize("name", ["noscript", "template", "svg", "math", "object", "select"])
def test_an_unclosed_element_removed_with_its_content_does_not_swallow_the_rest(
    name: str,
) -> None:
    """An element the sanitiser removes with its content, left open, removes only itself."""
    root = tree(f"<{name}>\n\nAfter *emphasis*.\n")
    assert [em.text for em in root.iter("em")] == ["emphasis"]


def test_a_closed_removed_element_goes_with_its_content() -> None:
    """<svg>…</svg> and <noscript>…</noscript> go whole, and what follows stays."""
    root = tree("<svg><text>drawn</text></svg> <noscript>hidden</noscript> kept\n")
    assert root.text_content().split() == ["kept"]


# -- template code and embeds --------------------------------------------------------------

TEMPLATED = """Intro with `{{ in.code }}`.

```
{{< in a fence >}}
```

A figure: {{< figure src="/a.jpg" caption="A" >}}

{% include note.html %} and [a link]({{ site.url }}/page) and ![pic]({{ img }}).
"""


def test_template_code_is_text_and_reported_once_with_its_first_line() -> None:
    """Outside code, template code stays as written, and one warning names its first line
    (the body's line 7 is the file's line 10 when the body starts on line 4)."""
    rendered = render_article(article(TEMPLATED), FEEDS, first_line=4)
    (problem,) = rendered.problems
    assert problem.severity is Severity.WARNING
    assert problem.line == 10
    assert problem.path == "story.md"
    assert '\'{{< figure src="/a.jpg" caption="A" >}}\'' in problem.message
    assert "(and 3 more like it)" in problem.message
    assert rendered.content.html is not None
    root = lxml.html.fragment_fromstring(rendered.content.html, create_parent="div")
    text = root.text_content()
    assert '{{< figure src="/a.jpg" caption="A" >}}' in text
    assert "{% include note.html %}" in text
    assert not list(root.iter("figure"))


def test_a_link_or_image_built_from_template_code_is_left_as_text() -> None:
    """No href or src with the template's braces, quoted or not."""
    output = html_of(TEMPLATED)
    assert "%7B" not in output
    assert "%7b" not in output
    root = lxml.html.fragment_fromstring(output, create_parent="div")
    assert all("{" not in (a.get("href") or "") for a in root.iter("a"))
    assert not [img for img in root.iter("img") if img.get("src")]
    assert "a link" in root.text_content()


@pytest.mark.parametrize(
    ("body", "piece"),
    [
        ("Use {%% raw %%} here.", "{%% raw %%}"),
        ("{%%}", "{%%}"),
        ("{%< y %}", "{%< y %}"),
        ("{{{ a }}}", "{{{ a }}"),
        ("{{%% b %%}}", "{{%% b %%}}"),
        ("a {{< c >}} and {%% d %%}", "{{< c >}}"),
    ],
)
def test_any_opener_of_template_code_is_read_as_the_shortest_it_starts(
    body: str, piece: str
) -> None:
    """An opening brace followed by any of `{`, `%`, `<` (`{%%`, `{{{`, `{%<`) is read as the
    template code it starts, reported with the first piece, and left as text."""
    rendered = render_article(article(body), FEEDS)
    (problem,) = rendered.problems
    assert f"left as text: {piece!r}" in problem.message
    assert rendered.content.html is not None
    root = lxml.html.fragment_fromstring(rendered.content.html, create_parent="div")
    assert piece in root.text_content()


@given(st.text(alphabet="{}%<> x`\n", max_size=40))
@settings(max_examples=300, deadline=None)
def test_bodies_of_braces_and_percents_render_without_failing(body: str) -> None:
    """Any run of braces, percent signs and angle brackets renders (with or without template
    warnings) as the whole pipeline renders it."""
    short = render_article(article(body), FEEDS)
    assert short == render_article(article(body), FEEDS, short=False)


def test_template_code_only_in_code_is_not_reported() -> None:
    """Code spans and fences are code: no warning."""
    body = "`{{ x }}` and\n\n```\n{% y %}\n```\n\n    {{ z }}\n"
    assert render_article(article(body), FEEDS).problems == ()


@pytest.mark.parametrize(
    ("markup", "address"),
    [
        ('<iframe src="https://video.example/embed/1"></iframe>', "https://video.example/embed/1"),
        ('<video src="/media/flood.mp4" controls></video>', "https://news.example/media/flood.mp4"),
        ('<audio src="clip.mp3"></audio>', "https://news.example/2024/03/story/clip.mp3"),
        ('<object data="/chart.swf"></object>', "https://news.example/chart.swf"),
        ('<embed src="https://x.example/e.swf">', "https://x.example/e.swf"),
        ('<video controls><source src="/v.webm"></video>', "https://news.example/v.webm"),
    ],
)
def test_an_embed_leaves_a_link_to_what_it_embedded(markup: str, address: str) -> None:
    """The embed is removed, a link to its address takes its place, a warning names its line."""
    body = f"Intro.\n\n{markup}\n\nAfter *it*.\n"
    rendered = render_article(article(body), FEEDS, first_line=5)
    assert rendered.content.html is not None
    root = lxml.html.fragment_fromstring(rendered.content.html, create_parent="div")
    assert address in [a.get("href") for a in root.iter("a")]
    assert not list(root.iter("iframe", "video", "audio", "object", "embed", "source"))
    assert [em.text for em in root.iter("em")] == ["it"]
    (problem,) = rendered.problems
    assert problem.line == 7
    assert "linked to what it embedded instead" in problem.message
    assert repr(address) in problem.message


def test_an_embed_with_a_javascript_address_leaves_no_link() -> None:
    """Only a web address becomes a link; the warning says the embed went."""
    rendered = render_article(article('<iframe src="javascript:alert(1)"></iframe>\n'), FEEDS)
    root = lxml.html.fragment_fromstring(rendered.content.html or "", create_parent="div")
    assert not list(root.iter("a", "iframe"))
    assert [p.message for p in rendered.problems] == [
        "removed an embedded iframe that links to nothing usable"
    ]


# -- the summary ---------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["<!--more-->", "<!-- more -->", "<!-- PELICAN_END_SUMMARY -->"])
def test_a_summary_marker_ends_the_summary(marker: str) -> None:
    """Without a subtitle the summary is the text before the marker."""
    body = f"First *part*, with [a link](/x).\n\n{marker}\n\nThe rest of the story.\n"
    content = render_article(article(body), FEEDS).content
    assert content.summary == "First part, with a link."
    assert "The rest of the story." in (content.html or "")


def test_pelican_begin_and_end_markers_bound_the_summary() -> None:
    """The summary is what lies between Pelican's two markers."""
    body = (
        "Kicker.\n\n<!-- PELICAN_BEGIN_SUMMARY -->\n\nThe summary.\n\n"
        "<!-- PELICAN_END_SUMMARY -->\n\nThe rest.\n"
    )
    assert render_article(article(body), FEEDS).content.summary == "The summary."


def test_a_marker_in_code_is_no_marker_and_a_subtitle_wins() -> None:
    """`<!--more-->` in code is text; a subtitle is the summary whatever the body says."""
    body = "`<!--more-->` is how.\n\nSecond paragraph.\n"
    assert render_article(article(body), FEEDS).content.summary == (
        "<!--more--> is how. Second paragraph."
    )
    marked = "Before.\n\n<!--more-->\n\nAfter.\n"
    assert render_article(article(marked, subtitle="The deck"), FEEDS).content.summary == (
        "The deck"
    )


# -- the base of relative links ------------------------------------------------------------


def test_a_url_in_the_front_matter_is_the_base_of_relative_links() -> None:
    """Relative links resolve against the article's `url`, not its file's place."""
    config = load_config('[site]\ntitle = "News"\nurl = "https://news.example/"\n')
    raw = (
        b"---\ntitle: Story\npublished: 2024-03-01T00:00:00Z\nsection: News\n"
        b"url: /custom/place/\n---\n[next](next/) and ![p](p.jpg)\n"
    )
    parsed = parse_article(raw, "story.md", config)
    assert parsed.article is not None
    assert parsed.article.url == "https://news.example/custom/place/"
    root = lxml.html.fragment_fromstring(
        render_article(parsed.article, FEEDS).content.html or "", create_parent="div"
    )
    assert [a.get("href") for a in root.iter("a")] == ["https://news.example/custom/place/next/"]
    assert [i.get("src") for i in root.iter("img")] == ["https://news.example/custom/place/p.jpg"]


# -- hardening -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<div/>" * (MAX_DEPTH + 5),
        "<div>" * (MAX_DEPTH + 5) + "deep",
        "<b><i>" * (MAX_DEPTH + 5) + "deep",
        "> " * (MAX_DEPTH + 5) + "deep\n",
    ],
)
def test_html_nested_too_deep_is_published_as_text_with_a_warning(body: str) -> None:
    """Past MAX_DEPTH levels the content is text, and a warning says so."""
    rendered = render_article(article(body), FEEDS)
    assert rendered.flattened
    assert any("nests more than" in p.message for p in rendered.problems)
    root = lxml.html.fragment_fromstring(rendered.content.html or "", create_parent="div")
    assert {element.tag for element in root.iter()} <= {"div", "p"}


def test_an_unclosed_tag_of_many_attributes_is_rendered() -> None:
    """The body that took 32 s (`<div <a <a …`, 48 KB) renders, and what follows it
    never turns into markup."""
    rendered = render_article(article("<div " + "<a " * 16000), FEEDS)
    assert not rendered.flattened
    assert rendered.content.html is not None


def test_ordinary_nesting_is_not_flattened() -> None:
    """Lists and quotes a few levels deep, and many sibling paragraphs, stay HTML."""
    body = "\n\n".join(["para"] * 500) + "\n\n" + "> > > - a\n>   - b\n"
    assert not render_article(article(body), FEEDS).flattened


XML_FORBIDDEN = st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x1b", "\ufffe", "\uffff"])
PIECES = st.sampled_from([
    "&#x1b;", "&#0;", "&#xFFFE;", "*", "`", "[^n]", "[^n]: ", "www.a.example/", "\n\n", "<b>",
    "{{<", ">}}", '<iframe src="', '">', "| a |\n|---|\n", "<!--more-->", "~~", "- [ ] ", "text",
])  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(XML_FORBIDDEN, PIECES), max_size=30), st.booleans())
def test_no_character_xml_forbids_reaches_any_field(pieces: list[str], deck: bool) -> None:
    """Whatever the body and subtitle hold, the summary and the HTML carry none of them."""
    body = "".join(pieces)
    item = article(body, **({"subtitle": "deck &#x1b; \x1b" + body[:20]} if deck else {}))
    for feeds in (FEEDS, FeedsConfig(content=ContentMode.SUMMARY)):
        content = render_article(item, feeds).content
        assert not FORBIDDEN.search(content.summary)
        assert not FORBIDDEN.search(content.html or "")


# -- the API -------------------------------------------------------------------------------


def test_render_content_keeps_its_two_values() -> None:
    """build.py's call: (content, flattened), with the Markdown options as a keyword."""
    content, flattened = render_content(article("~~x~~"), FEEDS, "~~x~~")
    assert "<del>x</del>" in (content.html or "")
    assert not flattened
    content, _ = render_content(article(""), FEEDS, "~~x~~", markdown=off("strikethrough"))
    assert "<del>" not in (content.html or "")


def test_body_first_line_counts_the_front_matter() -> None:
    """The body of a file whose front matter takes three lines starts on line 4."""
    text = "---\ntitle: A\n---\nBody\n"
    assert body_first_line(text, "Body\n") == 4


@given(st.text(alphabet=st.one_of(
    st.sampled_from("\x00\x01\x08\t\n\x0b\x0c\r\x0e\x1f\x7f\x85\ud800\udfff\ufffd\ufffe\uffff"),
    st.characters(),
)))  # fmt: skip
def test_xml_text_removes_just_what_xml_forbids(text: str) -> None:
    """The quick test of the bytes agrees with the expression, surrogates and all."""
    from feedpub.content import xml_text

    assert xml_text(text) == FORBIDDEN.sub("", text)
