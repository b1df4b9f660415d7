"""An archive card's summary, read from the Markdown's HTML when the body has none of its
own, is the summary the whole pipeline gives (render_article), for every body."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_content_equivalence import PIECES, SEPARATORS, article, bodies, markdowns

from feedpub.content import (
    MAX_DEPTH,
    SUMMARY_HTML_PER_CHARACTER,
    _text_of,
    markdown_to_html,
    render_article,
    summary_of,
)
from feedpub.model import ContentMode, FeedsConfig, MarkdownConfig

# Markdown with no `<` at all: the bodies the short path takes, with what could make its
# text differ from the sanitised HTML's (entities, escapes, code, tables, images, nesting).
PLAIN = [piece for piece in PIECES if "<" not in piece] + [
    "> > > deep quote", "* a\n  * b\n    * c", "1) one\n2) two", "Setext\n===", "Sub\n---",
    "```\n& < > \" ' code\n```", "`a > b & c`", "![a > b & \"c\"](p.png)", "[a > b](x \"t > u\")",
    "***bold italic***", "\\<not a tag\\>", "5 > 3 & 2 < 4", "&#60;b&#62;", "&#0;", "\t tab",
    "&amp;copy", "x&copy y", "a\u00a0b", "\u2028", "é ü 東京", "| x |\n|---|\n| > y |",
]  # fmt: skip
plain_bodies = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(PLAIN), st.text(alphabet="ab >/=\"'&;#*_[]()!-:.@\n`|\\")),
        st.sampled_from(SEPARATORS),
    ),
    max_size=40,
).map(lambda parts: "".join(text + separator for text, separator in parts))
LENGTHS = st.sampled_from([10, 40, 300, 5000])


def _reference(body: str, length: int, options: MarkdownConfig, mode: ContentMode) -> str:
    feeds = FeedsConfig(content=mode, summary_length=length)
    entry = article(body, None, False)
    return render_article(entry, feeds, markdown=options, short=False).content.summary


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(plain_bodies, bodies), LENGTHS, markdowns, st.sampled_from(ContentMode))
def test_the_short_path_gives_the_pipeline_s_summary(
    body: str, length: int, options: MarkdownConfig, mode: ContentMode
) -> None:
    feeds = FeedsConfig(content=mode, summary_length=length)
    fast = summary_of(article(body, None, False), feeds, markdown=options)
    assert fast == _reference(body, length, options, mode)


@pytest.mark.parametrize(
    "body",
    [
        "> " * (MAX_DEPTH + 5) + "too deep",  # flattened by the pipeline: the long path
        "> " * (MAX_DEPTH // 2 - 2) + "deep, but not too deep",
        "word " * 20_000,
        "*a* " * 30_000,  # more tags than MAX_TAGS
        "",
    ],
)
def test_deep_and_large_bodies(body: str) -> None:
    feeds = FeedsConfig(summary_length=300)
    fast = summary_of(article(body, None, False), feeds)
    assert fast == _reference(body, 300, MarkdownConfig(), feeds.content)


def test_a_deck_is_the_summary() -> None:
    feeds = FeedsConfig()
    assert summary_of(article("Body text.", "The deck & more", False), feeds) == "The deck & more"


# Bodies whose HTML is markup for about three characters in four (a link among a few
# words), so that the text of the HTML read first is about as long as the summary.
DENSE = [
    "\n\n".join(
        " ".join(["w" * (n % 5 + 1)] * (n % words) + [f'[l{n}](https://example.com/{n} "t")'])
        for n in range(150)
    )
    for words in (6, 7, 8, 10)
] + [
    "\n\n".join(
        " ".join(f"*e{n}* **s{n}** `c&{n}`" for n in range(k, k + 7)) for k in range(0, 300, 7)
    ),
]


@pytest.mark.parametrize("body", DENSE)
def test_every_length_near_where_the_first_html_read_runs_out(body: str) -> None:
    rendered = markdown_to_html(body)
    near = 0  # lengths whose first HTML read holds just about the summary's text
    for length in range(20, 160):
        feeds = FeedsConfig(summary_length=length)
        fast = summary_of(article(body, None, False), feeds)
        assert fast == _reference(body, length, MarkdownConfig(), feeds.content), length
        end = rendered.find("<", SUMMARY_HTML_PER_CHARACTER * length)
        near += end != -1 and length - 5 < len(_text_of(rendered[:end])) <= length + 5
    assert near, "no length puts the end of the first read near the summary's end"
