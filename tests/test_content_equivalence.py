"""The faster content pipeline renders every body exactly as the one it replaced.

tests/content_reference.py is feedpub.content as it was before its HTML pass
was made faster (a tokenizer piece per attribute, every tag written with its
attributes, every address rewritten even when only the summary's text was
wanted). Each generated body, a mix of Markdown and raw HTML chosen to reach the
branches of the HTML pass, is rendered by both in summary and in full mode,
with and without a subtitle, with short summaries (so that the cut is taken)
and with each extension off, and every result compared whole: content,
summary, flattened flag, warnings and their lines.
"""

from __future__ import annotations

from datetime import UTC, datetime

import content_reference
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.content import render_article
from feedpub.model import Article, ContentMode, FeedsConfig, Image, MarkdownConfig

WHEN = datetime(2024, 3, 1, tzinfo=UTC)

PIECES = [
    # Markdown
    "*emphasis*", "**strong**", "~~struck~~", "`code`", "```py\nprint(1) <b>\n```",
    "    indented <i>code</i>", "# Heading", "## Sub *heading*", "> quoted", "- item", "1. first",
    "- [ ] task", "- [x] done", "| a | b |\n|---|---|\n| c | *d* |", "---", "text", "more words",
    "[link](/path/)", "[rel](../up/)", "[abs](https://example.com/a?b=1&c=2)", "[ref][r]",
    "[r]: http://example.org/ref", "[^1]", "[^1]: A note with [a link](x.html).", "[^n b]",
    "[^n b]: odd label", "![img](pic.png)", "![alt *x*](https://cdn.example/p.jpg \"title\")",
    "<https://auto.example/x>", "https://bare.example/path.", "www.example.org/w",
    "me@mail.example", "WWW.UPPER.example/x", "İstanbul www.tr.example",  # İ lowers into two
    "a_b_c", "\\*not\\*", "line  \nbreak",
    # entities
    "&amp;", "&lt;b&gt;", "&notit;", "&#x1b;", "&#128;", "&copy", "&nbsp;", "&quot;",
    # summary markers
    "<!--more-->", "<!-- PELICAN_BEGIN_SUMMARY -->", "<!-- PELICAN_END_SUMMARY -->",
    # raw HTML
    "<div>", "</div>", "<p>", "</p>", "<span>", "</span>", "<b>", "</b>", "<i>", "</i>",
    "<a>", "</a>", "<ol>", "</ol>", "<li>", "</li>", "<table>", "</table>", "<tr>", "<td>",
    "<h1>", "</h1>", "<br>", "<hr/>", "<pre>", "</pre>", "<code>", "</code>",
    '<b title="t1">', '<b title="t2">', '<b title="t3">', '<b title="t4">', "<b><b><b><b>",
    '<a href="../rel">', '<a href="#fn-1">', '<a href="#1">', '<a href="javascript:x()">',
    '<a href="{{ url }}">', "<A HREF='/Up'>", "<a href=bare title='q'>", '<a href="x"title="y">',
    '<a  href="x" >', '<p class="x" id="y">', '<div id="1" class="footnote-definition">',
    '<div class="footnote-definition" id="n%20b">', '<code class="language-py extra">',
    '<img src="i.png" srcset="a.png 1x, b.png 2x" alt="A">', '<img src="{{ x }}">',
    '<td colspan="2" style="x">', '<q cite="/c">', '<time datetime="2024">', "<my-tag>",
    "<custom-el attr='1'>", "<input type=\"checkbox\" checked>", '<input type="checkbox">',
    "<script>alert(1)</script>", "<script>", "<style>p{}</style>", "<style>",
    '<iframe src="https://video.example/1"></iframe>', "<iframe src='//v.example/2'>",
    "<title>T</title>", "<title>", "<textarea>", "<xmp>", "<plaintext>", "<noembed>",
    '<video src="v.mp4"></video>', "<video><source src=\"s.webm\"></video>", '<audio src="">',
    '<object data="https://obj.example/o"><embed src="e.swf"></object>', '<embed src="x">',
    "<svg><text>s</text></svg>", "<svg>", "<math><mi>x</mi></math>", "<template>t</template>",
    "<noscript>n</noscript>", "<!-- comment -->", "<!-->", "<!--->", "<!-- open", "<!bogus>",
    "<?php x ?>", "</ nope>", "</>", "< notag", "<a", "<b title=\"open", "<3", "a<b",
    '<b title="x &amp; y">', '<b title="a<b">', "{{< shortcode >}}", "{{% inner %}}",
    "{% tag %}", "{{ value }}", "<DIV>", "</DIV>", "<Em>", "</eM>", "<p/>", "<br/>",
]  # fmt: skip
SEPARATORS = ["", " ", "\n", "\n\n", "\n\n  "]

piece = st.one_of(
    st.sampled_from(PIECES),
    st.text(alphabet="ab <>/=\"'&;#*_[]()!-:.@\n", max_size=12),
)
markdown_bodies = st.lists(st.tuples(piece, st.sampled_from(SEPARATORS)), max_size=40).map(
    lambda parts: "".join(text + separator for text, separator in parts)
)
# One HTML block (a line that starts with a block tag, no blank line): the renderer passes it
# through whole, so the HTML pass and the sanitiser see misnested and implied tags as written.
HTML_PIECES = [piece for piece in PIECES if piece.startswith(("<", "&"))]
# Tags whose nesting the parser repairs (implied end tags, foster parenting, the adoption
# agency and its limit of three like formatting elements), and text between them.
STRUCTURE = (
    [
        f"<{slash}{name}>"
        for name in (
            "p",
            "div",
            "ol",
            "ul",
            "li",
            "table",
            "tr",
            "td",
            "th",
            "tbody",
            "caption",
            "b",
            "i",
            "a",
            "em",
            "h1",
            "pre",
            "blockquote",
            "dl",
            "dt",
            "dd",
            "figure",
            "span",
            "code",
            "sup",
        )
        for slash in ("", "/")
    ]
    + ["p<ol>", "t<table>", "u<ul>", "d<dl>", "<p>w"]
    + ['<a href="x">', '<b title="t1">', '<b title="t2">', "<br>", "<hr>", "a", "b c", " ", "\n"]
)
html_bodies = st.tuples(
    st.sampled_from(["<div>", "<p>", "<table>", "<ol>", "<b>", "<pre>"]),
    st.lists(
        st.one_of(*[st.sampled_from(STRUCTURE)] * 3, st.sampled_from(HTML_PIECES)),
        max_size=30,
    ),
    st.sampled_from(["", "\n\nafter *that*", "\n\n<!--more-->\n\nrest"]),
).map(lambda parts: parts[0] + "".join(parts[1]).replace("\n", " ") + parts[2])
bodies = st.one_of(markdown_bodies, html_bodies)
markdowns = st.sampled_from(
    [
        MarkdownConfig(),
        MarkdownConfig(autolinks=False),
        MarkdownConfig(footnotes=False, tables=False),
        MarkdownConfig(tasklists=False, strikethrough=False),
    ]
)


def article(body: str, subtitle: str | None, image: bool) -> Article:
    return Article(
        path="story.md", id="tag:news.example,2024-03-01:story", slug="story", title="Story",
        section="News", topics=(), published=WHEN, updated=WHEN, authors=(), body=body,
        url="https://news.example/2024/story/", subtitle=subtitle,
        image=Image("https://news.example/i.jpg", "A <caption>", "Credit") if image else None,
    )  # fmt: skip


def same(body: str, feeds: FeedsConfig, markdown: MarkdownConfig, **fields: object) -> None:
    entry = article(body, fields.get("subtitle"), bool(fields.get("image")))  # type: ignore[arg-type]
    first_line = int(fields.get("first_line", 1))  # type: ignore[call-overload]
    new = render_article(entry, feeds, markdown=markdown, first_line=first_line)
    old = content_reference.render_article(entry, feeds, markdown=markdown, first_line=first_line)
    assert new == old


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies,
    mode=st.sampled_from(ContentMode),
    length=st.sampled_from([1, 12, 40, 300]),
    markdown=markdowns,
    subtitle=st.sampled_from([None, "", "A deck"]),
    image=st.booleans(),
)
def test_render_is_unchanged(
    body: str,
    mode: ContentMode,
    length: int,
    markdown: MarkdownConfig,
    subtitle: str | None,
    image: bool,
) -> None:
    feeds = FeedsConfig(content=mode, summary_length=length)
    same(body, feeds, markdown, subtitle=subtitle, image=image, first_line=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=html_bodies, length=st.sampled_from([12, 300]))
def test_summary_of_html_is_unchanged(body: str, length: int) -> None:
    """The summary-only path (no attributes written, no addresses rewritten) over raw HTML
    that the parser repairs."""
    same(body, FeedsConfig(content=ContentMode.SUMMARY, summary_length=length), MarkdownConfig())


@pytest.mark.parametrize("mode", list(ContentMode))
@pytest.mark.parametrize(
    "body",
    [
        "<div>" * 150 + "deep" + "</div>" * 150,  # flattened
        "<b>x</b>" * 50_001,  # more tags than MAX_TAGS
        "intro\n\n<!--more-->\n\n" + "<div>" * 150 + "rest",
        "<!-- PELICAN_BEGIN_SUMMARY -->" + "<span>" * 120 + "<!-- PELICAN_END_SUMMARY -->",
        '<b title="1"><b title="2"><b title="3"><b title="4"><p>para <ol>list</ol></p>',
        "<table>fostered<tr><td>cell</td></tr></table> after <b>bold<p>split</b> end",
    ],
)
def test_edge_bodies_are_unchanged(body: str, mode: ContentMode) -> None:
    same(body, FeedsConfig(content=mode, summary_length=40), MarkdownConfig())


# Markdown with no `<`: bodies that may skip the HTML pass (content._renderers_own), with
# what would make the pass change their markup: bare addresses in text (and one written as
# an entity), template code in an address, odd classes on code, `>` in a title.
PLAIN_PIECES = [piece for piece in PIECES if "<" not in piece] + [
    "see https://bare.example/x", "www.example.org", "write to me@mail.example", "me&#64;x.example",
    "a://b", "[t](https://example.com/r)", "[t](/a \"x > y\")", "![i](/p.png \"a > b\")",
    "[t](%7B%7Burl%7D%7D)", "![i](%7b%25x%25%7d)", "[t](/a?q=%7B%7B)", "```c++\nx\n```",
    "```py{x}\ny\n```", "``` \"q\"\nz\n```", "```a&b\nw\n```", "~~~language-py\nv\n~~~",
    "| l | c | r |\n|:--|:-:|--:|\n| 1 | 2 | 3 |", "> > quote *in* quote", "***x***",
    "[![img](/i.png)](https://example.com/)", "`code with https://x.example`", "1. a\n   1. b",
]  # fmt: skip
plain_bodies = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(PLAIN_PIECES),
            st.text(alphabet="ab >/=\"'&;#*_[]()!-:.@\n", max_size=12),
        ),
        st.sampled_from(SEPARATORS),
    ),
    max_size=30,
).map(lambda parts: "".join(text + separator for text, separator in parts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=plain_bodies,
    mode=st.sampled_from(ContentMode),
    length=st.sampled_from([1, 12, 40, 300]),
    markdown=markdowns,
)
def test_plain_markdown_renders_as_the_whole_pipeline_renders_it(
    body: str, mode: ContentMode, length: int, markdown: MarkdownConfig
) -> None:
    """The short way (no HTML pass, the summary read from the renderer's HTML) gives what the
    whole pipeline gives and what the reference gave, whole: HTML, summary and warnings."""
    feeds = FeedsConfig(content=mode, summary_length=length)
    entry = article(body, None, False)
    new = render_article(entry, feeds, markdown=markdown)
    assert new == render_article(entry, feeds, markdown=markdown, short=False)
    assert new == content_reference.render_article(entry, feeds, markdown=markdown)


LONG_WAY = [
    "see https://bare.example/x now", "mail me@mail.example", "go to www.example.org",
    "at me&#64;mail.example", "[t](%7B%7Burl%7D%7D)", "![i](%7b%25x%25%7d)",
    "```py{x}\ny\n```", "```a&b\nw\n```", "a <b>tag</b>", "{{ value }}", "[^1]\n\n[^1]: n",
    "- [ ] task", "> " * 60 + "deep",
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "short"),
    [
        ('Plain *text* with [a link](https://example.com/r "a > b") and `code`.', True),
        ("```c++\nx\n```\n\n| l | r |\n|:--|--:|\n| 1 | 2 |\n\n![i](/p.png)", True),
        ("`https://in.code.example` and [www.in.link.example](/x)", False),
        *((body, False) for body in LONG_WAY),
    ],
)
def test_which_bodies_take_the_short_way(body: str, short: bool) -> None:
    from feedpub.content import _renderers_own, markdown_to_html

    rendered = markdown_to_html(body)
    assert (_renderers_own(body, rendered, rendered.count("<"), MarkdownConfig()) is not None) \
        is short  # fmt: skip
    for mode in ContentMode:
        same(body, FeedsConfig(content=mode, summary_length=40), MarkdownConfig())
