"""An article's body → the HTML and the plain-text summary that its feed entries carry.

Markdown is rendered as CommonMark by pyromark (pulldown-cmark, with every
extension off), raw HTML included, then sanitised by nh3 with an
allow-list. While sanitising, every link and image address is made
absolute against the article's own address, as feed readers show content
away from the page it came from.
"""

from __future__ import annotations

import functools
import html
import re
from urllib.parse import urljoin, urlsplit

import nh3
import pyromark

from .frontmatter import FORBIDDEN
from .model import Article, Content, ContentMode, FeedsConfig
from .urls import absolute, quote_iri

_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
    "ol": {"start", "reversed"}, "li": {"value"}, "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers"}, "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"}, "colgroup": {"span"},
}  # fmt: skip
_REMOVED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "template",
    "noscript",
    "svg",
    "math",
}
_SCHEMES = {"http", "https", "mailto"}
MAX_DEPTH = 100
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")
_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"]
)  # fmt: skip
_OPENING_TAG = re.compile(r"""<[A-Za-z][A-Za-z0-9]*(?:\s+[^\s"'>/=]+(?:="[^"]*")?)*\s*/?>""")
_ADDRESS = re.compile(r'(\s)(href|src|cite|srcset)="([^"]*)"')
_BLOCK_BOUNDARY = re.compile(
    r"</?(?:p|br|li|h[1-6]|blockquote|div|figure|figcaption|tr|td|th|pre|dd|dt|hr)\b"
)
_MARKDOWN = pyromark.Markdown(options=pyromark.Options(0))  # CommonMark; raw HTML goes to nh3


def render_content(
    article: Article, feeds: FeedsConfig, body: str | None = None
) -> tuple[Content, bool]:
    """The entry's summary (the deck, else the body's start) and, in full mode, its HTML.

    `body` is the article's Markdown when the article was loaded without it.
    HTML nested deeper than MAX_DEPTH (no real article is; a hostile one would
    make the sanitiser take minutes) is published as plain text instead: the
    second value says so.
    """
    rendered = markdown_to_html(article.body if body is None else body)
    flattened = nesting(rendered) > MAX_DEPTH
    if flattened:
        rendered = _as_paragraphs(rendered)
    body = sanitise(rendered, article.url)
    summary = xml_text(article.subtitle or plain_summary(body, feeds.summary_length))
    if feeds.content is ContentMode.SUMMARY:
        return Content(summary, None), flattened
    return Content(summary, xml_text(figure(article) + body)), flattened


def nesting(fragment: str) -> int:
    """How deep the elements of an HTML fragment nest (void elements ignored), in one pass."""
    depth = deepest = 0
    for match in _TAG.finditer(fragment):
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            depth = max(depth - 1, 0)
        elif name not in _VOID and not match.group(3):
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _as_paragraphs(fragment: str) -> str:
    """The text of an HTML fragment, escaped, one paragraph per block."""
    text = html.unescape(_TAG.sub("\n", fragment))
    blocks = [" ".join(block.split()) for block in text.split("\n")]
    return "".join(f"<p>{html.escape(block)}</p>" for block in blocks if block)


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (a character reference such as
    ``&#x1b;`` in the Markdown can bring one back after the article was cleaned)."""
    return FORBIDDEN.sub("", text)


def markdown_to_html(text: str) -> str:
    """CommonMark → HTML, raw HTML kept (it is sanitised next)."""
    return _MARKDOWN.html(text)


def sanitise(fragment: str, base: str) -> str:
    """Allow-listed HTML with every address made absolute against `base`.

    The sanitiser writes every attribute as name="value", so its output's tags
    are read here with a regular expression, in one pass, and the addresses in
    them rewritten.
    """
    cleaned = str(_cleaner().clean(fragment))

    def tag(match: re.Match[str]) -> str:
        return _ADDRESS.sub(lambda found: _address(found, base), match.group())

    return _OPENING_TAG.sub(tag, cleaned)


def _address(match: re.Match[str], base: str) -> str:
    space, name, value = match.groups()
    value = html.unescape(value)
    rewritten = _srcset(value, base) if name == "srcset" else absolute(value, base)
    if rewritten is None:
        return ""
    return f'{space}{name}="{html.escape(rewritten, quote=True)}"'


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """One sanitiser for the whole build (building one costs more than cleaning an article)."""
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags=_REMOVED_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


@functools.cache
def _text_cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(tags=set(), clean_content_tags=_REMOVED_WITH_CONTENT)


def _srcset(value: str, base: str) -> str | None:
    candidates = []
    for candidate in value.split(","):
        parts = candidate.split()
        if not parts:
            continue
        address = urljoin(base, parts[0])
        if urlsplit(address).scheme not in {"http", "https"}:
            continue
        candidates.append(" ".join([quote_iri(address), *parts[1:]]))
    return ", ".join(candidates) or None


def figure(article: Article) -> str:
    """The lead image, its caption and credit, as the first thing in the content."""
    image = article.image
    if image is None:
        return ""
    alt = html.escape(image.caption or "", quote=True)
    parts = [f'<figure><img src="{html.escape(image.url, quote=True)}" alt="{alt}">']
    lines = []
    if image.caption:
        lines.append(html.escape(image.caption, quote=False))
    if image.credit:
        lines.append(f"<small>Credit: {html.escape(image.credit, quote=False)}</small>")
    if lines:
        parts.append(f"<figcaption>{' '.join(lines)}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def plain_summary(fragment: str, length: int) -> str:
    """The start of an HTML fragment as plain text, cut at a word, at most `length` characters."""
    spaced = _BLOCK_BOUNDARY.sub(lambda match: " " + match.group(), fragment)
    text = " ".join(html.unescape(_text_cleaner().clean(spaced)).split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"
