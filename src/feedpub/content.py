"""An article's body → the HTML and the plain-text summary that its feed entries carry.

The pipeline, each step linear in the size of the body:

1. Markdown is rendered as GitHub renders it (GFM) by pyromark (pulldown-cmark):
   tables, strikethrough, task lists and footnotes, each of which `[markdown]`
   can turn off, raw HTML included. Template code another tool would have
   expanded (``{{< >}}``, ``{{% %}}``, ``{% %}``, ``{{ }}``) is found first,
   outside code, kept as text and reported.
2. The rendered HTML is read by :func:`_prepare`, a small HTML tokenizer of
   our own that writes every tag again in one normal form, so that the
   sanitiser's HTML5 parser reads the document exactly as this pass did. On the
   way it applies GFM's tag filter, links the bare URLs (linkify-it-py; GFM's
   autolink extension), turns task-list checkboxes into ☐/☑, keeps
   ``language-*`` classes on code, prefixes footnote ids with the entry's own
   prefix, replaces embeds with links to what they embedded, and measures how
   deep the elements nest. Markup only the renderer wrote, from a body of plain
   Markdown, with nothing in it for this pass to change (most articles), skips it
   (:func:`_renderers_own`), and its summary is read from the start of that markup.
3. nh3 sanitises with an allow-list, and every link and image address is made
   absolute against the article's own address, as feed readers show content
   away from the page it came from (a footnote link stays a link inside the
   entry).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import html
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

import linkify_it
import nh3
import pyromark

from .errors import Problem, Severity
from .frontmatter import FORBIDDEN, xml_clean
from .model import Article, Content, ContentMode, FeedsConfig, MarkdownConfig
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
    "code": {"class"},  # only `language-*`: _prepare drops every other class
    "div": {"id"},  # only a footnote's: the address pass drops every other id
}  # fmt: skip
# Removed with everything inside them. _prepare removes them itself, up to their
# end tag, so that one left open cannot swallow the rest of the body.
_REMOVED_WITH_CONTENT = frozenset(
    ["script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"]
)
# GFM's tag filter: these are shown as text. An HTML5 parser reads what follows
# each of them as its text (RCDATA, RAWTEXT, PLAINTEXT), so one left open would
# turn the rest of the body into text.
_FILTERED = frozenset(
    ["title", "textarea", "style", "xmp", "iframe", "noembed", "noframes", "script", "plaintext"]
)
# Embeds the sanitiser removes: each leaves a link to what it embedded.
_EMBEDS = {"iframe": "src", "video": "src", "audio": "src", "source": "src", "embed": "src",
           "object": "data"}  # fmt: skip
_SCHEMES = {"http", "https", "mailto"}
MAX_DEPTH = 100
_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"]
)  # fmt: skip
# Tags that close an open <p>, or an open element of their own name: enough of
# HTML5's implied end tags that the depth counted is never far above the parser's.
_CLOSES_P = frozenset(
    ["address", "article", "aside", "blockquote", "details", "div", "dl", "figure", "footer",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "ol", "p", "pre", "section", "table",
     "ul"]
)  # fmt: skip
_NO_SELF_NESTING = frozenset(["p", "li", "dt", "dd", "tr", "td", "th", "a", "option"])
_NO_LINKS_INSIDE = frozenset(["a", "code", "pre"])

# A start tag with attributes, as the sanitiser writes them (one with none has no address).
_OPENING_TAG = re.compile(r"""<[A-Za-z][A-Za-z0-9]*(?:\s+[^\s"'>/=]+(?:="[^"]*")?)+\s*/?>""")
_ADDRESS = re.compile(r'(\s)(href|src|cite|srcset|id)="([^"]*)"')
_BLOCK_BOUNDARY = re.compile(
    r"</?(?:p|br|li|h[1-6]|blockquote|div|figure|figcaption|tr|td|th|pre|dd|dt|hr)\b"
)
_TEMPLATED = re.compile(r"\{\{|\{%|%7B%7B|%7B%25", re.IGNORECASE)
_LINK_HINT = re.compile(r"://|www\.|@", re.IGNORECASE)
_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]+\Z")
_FOOTNOTE_DEFINITION = re.compile(r'<div class="footnote-definition" id="([^"]*)"')
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]+\Z")
# The summary markers: Jekyll's, WordPress's and Hugo's `<!--more-->`, and Pelican's.
_SUMMARY_END = re.compile(r"<!--\s*(?:more|PELICAN_END_SUMMARY)\s*-->", re.IGNORECASE)
_SUMMARY_BEGIN = re.compile(r"<!--\s*PELICAN_BEGIN_SUMMARY\s*-->", re.IGNORECASE)

# The tokenizer's pieces: each is anchored where the last one stopped, none
# backtracks more than a run of spaces, and none crosses a `<`, so a tag that
# never ends costs only the distance to the next `<`.
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*+")
_ATTRIBUTE = re.compile(
    r"""[\s/]*+(?:([^\s/<>][^\s/<>=]*+)(?:\s*+=\s*+(?:"([^"<]*+)"|'([^'<]*+)'|([^\s<>"'][^\s<>]*+)))?)?"""
)
# The form nearly every tag the renderer writes has: a lower-case name, then only
# lower-case names with double-quoted values after white space. A tag of this form is read
# by these two expressions exactly as the pieces above read it; any other by the pieces.
_PLAIN_TAG = re.compile(r"""<(/?)([a-z][a-z0-9]*+)((?:\s++[a-z][a-z0-9-]*+="[^"<]*+")*+)>""")
_PLAIN_ATTRIBUTE = re.compile(r'([a-z][a-z0-9-]*+)="([^"<]*+)"')


# The HTML an entry may carry. Each document repeats it and every relative link grows by its
# article's address, so a hostile body could otherwise multiply its size many times over in
# the output; a real article renders to a few times its Markdown at most.
MAX_CONTENT = 8 * 1024 * 1024


# Tags a body may have and still be read as HTML: a real article has a few thousand; past
# this, reading each one (about 10 µs) would cost a hostile body far more than a second a
# megabyte, so the body is published as text.
MAX_TAGS = 50_000
_ANY_TAG = re.compile(r"<[^<>]*+>")  # possessive, and it stops at the next `<`: linear


class Rendered(NamedTuple):
    """An entry's content, whether its HTML was flattened to text, and what was wrong."""

    content: Content
    flattened: bool
    problems: tuple[Problem, ...]


def render_content(
    article: Article,
    feeds: FeedsConfig,
    body: str | None = None,
    *,
    markdown: MarkdownConfig | None = None,
) -> tuple[Content, bool]:
    """The entry's summary and, in full mode, its HTML; and whether it was flattened.

    Kept for callers that do not take the warnings; see :func:`render_article`.
    """
    rendered = render_article(article, feeds, body, markdown=markdown)
    return rendered.content, rendered.flattened


def render_article(
    article: Article,
    feeds: FeedsConfig,
    body: str | None = None,
    *,
    markdown: MarkdownConfig | None = None,
    first_line: int = 1,
    short: bool = True,
) -> Rendered:
    """The entry's summary (the deck, else the body's start) and, in full mode, its HTML.

    `body` is the article's Markdown when the article was loaded without it;
    `first_line` is the line of the file on which the body starts (see
    :func:`body_first_line`), so that each warning names its line in the file.
    HTML nested deeper than MAX_DEPTH (no real article is; a hostile one would
    make the sanitiser take minutes) is published as plain text instead, with a
    warning, and `flattened` says so.

    A body whose HTML is the Markdown renderer's own markup with nothing for the
    HTML pass to change (see :func:`_renderers_own`: most articles) skips that
    pass, and its summary is read from the start of that HTML. `short=False`
    takes the whole pipeline whatever the body: what the short way must equal.
    """
    options = markdown or MarkdownConfig()
    text = original = article.body if body is None else body
    report = _Report(article.path, text, first_line)
    text = _mark_templates(text, options, report)
    text = _defuse_raw_blocks(text, options)
    rendered = markdown_to_html(text, options)
    base = article.url
    prefix = footnote_prefix(article.id)
    tags = rendered.count("<")
    # Only the summary's text is wanted: the HTML pass writes no attributes and the
    # sanitiser's output keeps its addresses as they are, neither of which changes any text.
    text_only = feeds.content is ContentMode.SUMMARY
    own = _renderers_own(original, rendered, tags, options) if short else None
    prepared = (
        _Prepared(rendered, own)  # nothing for the HTML pass to change: sanitised as it is
        if own is not None
        else None
        if tags > MAX_TAGS
        else _prepare(rendered, base, prefix, options, report, text_only=text_only)
    )
    flattened = prepared is None or prepared.depth > MAX_DEPTH
    if prepared is None:
        report.add(f"the body has more than {MAX_TAGS:,} HTML tags ({tags:,}); published as "
                   "plain text", 0)  # fmt: skip
    elif flattened:
        report.add(
            f"the body nests more than {MAX_DEPTH} levels of HTML; published as plain text", 0
        )
    cleaned = None  # the sanitised HTML, made only when it is wanted

    def clean() -> str:
        if prepared is None or flattened:
            return _text_paragraphs(rendered)
        return _sanitised(prepared.html) if text_only else sanitise(prepared.html, base, prefix)

    if article.subtitle:
        summary = article.subtitle
    elif own is not None:  # its text is the rendered HTML's: read only as much as is cut
        summary = _rendered_summary(rendered, feeds.summary_length)
    else:
        marked = _marked_summary(rendered, base, prefix, options)
        if marked is None:
            cleaned = clean()
            summary = plain_summary(cleaned, feeds.summary_length)
        else:
            summary = marked
    summary = xml_text(summary)
    if text_only:
        return Rendered(Content(summary, None), flattened, report.problems())
    if cleaned is None:
        cleaned = clean()
    html = xml_text(figure(article) + cleaned)
    if len(html) > MAX_CONTENT:
        report.add(
            f"the body renders to {len(html):,} characters of HTML, more than {MAX_CONTENT:,}; "
            "published with its summary only",
            0,
        )
        return Rendered(Content(summary, None), flattened, report.problems())
    return Rendered(Content(summary, html), flattened, report.problems())


def _renderers_own(body: str, rendered: str, tags: int, options: MarkdownConfig) -> int | None:
    """How deep `rendered` nests when it is markup only the Markdown renderer wrote (from
    `body`) that the HTML pass would pass on unchanged but for what the sanitiser does
    alike (the form of a tag, an attribute it drops); None when the pass must read it.

    Such markup comes from a body with no HTML, template code, footnote or task (see
    :func:`_plain_markdown`), and is balanced, with every `<` the start of a tag. What the
    pass would still change is looked for: an address holding template code, a class on
    code that is not one `language-*`, and (with autolinks) text that may hold a bare
    address; and the markup nests no deeper than summary_of's short path allows.
    """
    if (
        tags > MAX_TAGS or not _plain_markdown(body)
        or (("{" in rendered or "%" in rendered) and _TEMPLATED.search(rendered))
        or rendered.count(' class="') != len(_LANGUAGE_CLASS.findall(rendered))
        or (options.autolinks and _hint_in_text(rendered))
    ):  # fmt: skip
        return None
    depth = _depth_within(rendered, tags)
    return depth if depth <= MAX_DEPTH // 2 else None


# The only class the renderer writes from a body of plain Markdown, when the pass keeps it.
_LANGUAGE_CLASS = re.compile(r'<code class="language-[A-Za-z0-9_+#.-]+">')


def _hints_in(fragment: str) -> Callable[[int, int], bool]:
    """Whether :data:`_LINK_HINT` finds a hint between two places of `fragment`, told by
    searches in C of the fragment lowered (the expression, case-blind, reads a character at
    a time: an article's text took it about ten times as long)."""
    lowered = fragment.lower()
    if len(lowered) != len(fragment):  # a letter lowered into two: places would move
        return lambda start, end: _LINK_HINT.search(fragment, start, end) is not None
    find = lowered.find
    return lambda start, end: (
        find("://", start, end) >= 0 or find("@", start, end) >= 0
        or find("www.", start, end) >= 0
    )  # fmt: skip


def _hint_in_text(rendered: str) -> bool:
    """True when a bare address may start in the text of the renderer's markup: what
    :data:`_LINK_HINT` finds (each found by a search in C, many times faster than the
    expression) outside a tag (one is open when the last `<` before it is after the last
    `>`). A `>` in an attribute's value only makes a hint in that tag count as text: the
    long way, never a link missed."""
    lowered = rendered.lower()
    if len(lowered) != len(rendered):  # a letter lowered into two: positions would move
        return True
    for needle in ("://", "www.", "@"):
        at = lowered.find(needle)
        while at >= 0:
            if rendered.rfind("<", 0, at) <= rendered.rfind(">", 0, at):
                return True
            at = lowered.find(needle, at + 1)
    return False


def summary_of(article: Article, feeds: FeedsConfig, *, markdown: MarkdownConfig | None = None
               ) -> str:  # fmt: skip
    """The entry's summary, as :func:`render_article` gives it, for an archive page.

    A body with no HTML of its own, no template code, no footnote and no task (most
    articles) renders to markup that only the Markdown renderer wrote: balanced, with
    nothing for the HTML pass or the sanitiser to change in its text, so its text is
    read from the Markdown's HTML directly (a fifth of the time). Any other body is
    rendered in full, and its summary taken from that.
    """
    if article.subtitle:
        return xml_text(article.subtitle)
    options = markdown or MarkdownConfig()
    body = article.body
    if _plain_markdown(body):
        rendered = markdown_to_html(body, options)
        tags = rendered.count("<")
        if tags <= MAX_TAGS and _depth_within(rendered, tags) <= MAX_DEPTH // 2:
            return xml_text(_rendered_summary(rendered, feeds.summary_length))
    summary_only = replace(feeds, content=ContentMode.SUMMARY)
    return render_article(article, summary_only, markdown=options).content.summary


# What takes a body off summary_of's short path: raw HTML (and autolinks, markers,
# comments), template code, footnotes and task list items: `<`, `{{`, `{%`, `[^`, `[ ]`,
# `[x]`, `[X]`. Three searches that each start with one character are many times faster
# than one expression with all seven.
_TEMPLATE_MARK = re.compile(r"\{[{%]")
_NOTE_OR_TASK = re.compile(r"\[(?:\^|[ xX]\])")
_TAG_OR_CLOSE = re.compile(r"<(/?[a-z][a-z0-9]*)")
# The void elements the Markdown renderer writes (the sanitiser's _VOID has more).
_RENDERED_VOID = frozenset(["br", "hr", "img", "input", "col", "wbr", "source"])


def _plain_markdown(body: str) -> bool:
    """True when `body` holds none of the marks that take it off the short path."""
    # Each check leads with a search for one character, which is memchr's: a search for two
    # ("{{") walks the string in a slower loop (an article: 13 against 0.1 µs).
    return (
        "<" not in body
        and ("{" not in body or not _TEMPLATE_MARK.search(body))
        and not _NOTE_OR_TASK.search(body)
    )


def _depth_within(rendered: str, tags: int) -> int:
    """:func:`_depth` of the renderer's markup, or a bound no deeper than half the limit
    when it has at most MAX_DEPTH `tags` (each `<` starts one): balanced, it holds at most
    `tags` // 2 pairs, so it nests no deeper than that, and is not read."""
    return tags // 2 if tags <= MAX_DEPTH else _depth(rendered)


def _depth(rendered: str) -> int:
    """How deep the Markdown renderer's (balanced) elements nest: the highest running sum
    of +1 per opening tag, -1 per closing tag and 0 per void element."""
    names = _TAG_OR_CLOSE.findall(rendered)
    steps = {
        name: -1 if name[0] == "/" else 0 if name in _RENDERED_VOID else 1 for name in set(names)
    }
    return max(0, max(itertools.accumulate(map(steps.__getitem__, names)), default=0))


def _text_of(rendered: str) -> str:
    """The text of the Markdown renderer's HTML, blocks apart, white space collapsed."""
    spaced = _BLOCK_BOUNDARY.sub(lambda match: " " + match.group(), rendered)
    return " ".join(html.unescape(_ANY_TAG.sub("", spaced)).split())


def _rendered_summary(rendered: str, length: int) -> str:
    """The text of `rendered` cut to `length`, read from as little of it as will do.

    The renderer writes every `&` as the start of a whole reference, so the text of the
    HTML before any `<` is the start of the whole HTML's text; once that start is longer
    than `length`, the cut falls inside it and is the whole text's cut.
    """
    end = rendered.find("<", SUMMARY_HTML_PER_CHARACTER * length)
    if end != -1:
        text = _text_of(rendered[:end])
        if len(text) > length:
            return _cut(text, length)
    return _cut(_text_of(rendered), length)


# Characters of HTML read for each character of summary before the whole is read: prose
# with a link in every sentence has about twice as much markup as text.
SUMMARY_HTML_PER_CHARACTER = 4


def body_first_line(text: str, body: str) -> int:
    """The line of `text` (an article file's decoded text) on which its `body` starts."""
    return text.count("\n", 0, len(text) - len(body)) + 1


def footnote_prefix(article_id: str) -> str:
    """What the ids of one entry's footnotes start with: unique to the entry, stable."""
    return "fn-" + hashlib.blake2b(article_id.encode(), digest_size=4).hexdigest() + "-"


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (a character reference such as
    ``&#x1b;`` in the Markdown can bring one back after the article was cleaned). Text
    that holds none, nearly all, is told by its UTF-8 bytes, tested in C (an article's HTML
    here: 16 against 50–70 µs for the expression; a surrogate cannot be encoded)."""
    try:
        if xml_clean(text.encode()):
            return text
    except UnicodeEncodeError:
        pass
    return FORBIDDEN.sub("", text)


@functools.cache
def _parser(options: MarkdownConfig) -> pyromark.Markdown:
    return pyromark.Markdown(options=_pyromark_options(options))


def _pyromark_options(options: MarkdownConfig) -> pyromark.Options:
    flags = pyromark.Options(0)
    if options.tables:
        flags |= pyromark.Options.ENABLE_TABLES
    if options.strikethrough:
        flags |= pyromark.Options.ENABLE_STRIKETHROUGH
    if options.tasklists:
        flags |= pyromark.Options.ENABLE_TASKLISTS
    if options.footnotes:
        flags |= pyromark.Options.ENABLE_FOOTNOTES
    return flags


def markdown_to_html(text: str, options: MarkdownConfig | None = None) -> str:
    """GFM (without its autolinks and tag filter, which :func:`_prepare` applies) → HTML,
    raw HTML kept (it is sanitised next)."""
    return _parser(options or MarkdownConfig()).html(text)


# --------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------


@dataclass
class _Report:
    """The warnings of one body, each kind once, with the first line it was seen on."""

    path: str
    body: str
    first_line: int
    _found: dict[str, tuple[str, int | None, int]] = field(default_factory=dict)
    _missing: set[str] = field(default_factory=set)

    def add(self, message: str, line: int | None, kind: str | None = None, count: int = 1) -> None:
        """Record a warning (`line` counted from the body's first line, 0 for none)."""
        key = kind or message
        known = self._found.get(key)
        if known is None:
            self._found[key] = (message, line, count)
        elif count:
            self._found[key] = (known[0], known[1], known[2] + count)

    def line_of(self, needle: str, start: int = 0) -> tuple[int, int]:
        """The body line of the first `needle` (any case) at or after `start`, and where."""
        at = -1 if needle in self._missing else self._lowered.find(needle, start)
        if at < 0:
            self._missing.add(needle)
            return 0, start
        return bisect.bisect_right(self._line_starts, at), at + len(needle)

    @functools.cached_property
    def _lowered(self) -> str:
        return self.body.lower()

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        """Where each line of the body starts: a line number is one bisection away (counting
        the newlines before each of many embeds made a body's time quadratic)."""
        return [0, *(match.end() for match in re.finditer("\n", self.body))]

    def problems(self) -> tuple[Problem, ...]:
        found = []
        for message, line, count in self._found.values():
            text = message if count == 1 else f"{message} (and {count - 1} more like it)"
            where = None if not line else self.first_line + line - 1
            found.append(Problem(self.path, text, line=where, severity=Severity.WARNING))
        return tuple(found)


def _quoted(value: str, limit: int = 60) -> str:
    value = " ".join(value.split())
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


# --------------------------------------------------------------------------
# Template code
# --------------------------------------------------------------------------

_TEMPLATE_OPENER = re.compile(rb"\{[{%]")
_TEMPLATE_CLOSERS = {b"{{<": b">}}", b"{{%": b"%}}", b"{%": b"%}", b"{{": b"}}"}


def _template_spans(data: bytes) -> list[tuple[int, int]]:
    """Where template code is, as byte ranges, in one pass (a closer missing once is missing
    for every later opener too, so none is looked for twice)."""
    spans: list[tuple[int, int]] = []
    missing: set[bytes] = set()
    position = 0
    while (found := _TEMPLATE_OPENER.search(data, position)) is not None:
        at = found.start()
        opener = data[at : at + 3]  # a shortcode's (`{{<`, `{{%`), else the first two bytes
        if opener not in _TEMPLATE_CLOSERS:
            opener = data[at : at + 2]
        closer = _TEMPLATE_CLOSERS[opener]
        end = -1 if closer in missing else data.find(closer, at + len(opener))
        if end < 0:
            missing.add(closer)
            position = at + 1
            continue
        spans.append((at, end + len(closer)))
        position = end + len(closer)
    return spans


def _mark_templates(text: str, options: MarkdownConfig, report: _Report) -> str:
    """`text` with the `<` and `>` of its shortcodes outside code escaped (so they stay text),
    the first piece of template code outside code reported with its line."""
    if "{" not in text or ("{{" not in text and "{%" not in text):
        return text
    data = text.encode()
    spans = _template_spans(data)
    if not spans:
        return text
    code = _code_ranges(text, options)
    starts = [start for start, _ in code]
    outside = []
    for start, end in spans:
        index = bisect.bisect_right(starts, start) - 1
        if index < 0 or code[index][1] <= start:
            outside.append((start, end))
    if not outside:
        return text
    first_start, first_end = outside[0]
    piece = data[first_start:first_end].decode(errors="replace")
    report.add(
        f"template code that another tool would have expanded is left as text: {_quoted(piece)}",
        data.count(b"\n", 0, first_start) + 1,
        kind="template",
    )
    report.add("", None, kind="template", count=len(outside) - 1)
    parts = []
    last = 0
    for start, end in outside:
        if data.startswith(b"{{<", start):
            parts += [data[last:start], b"{{&lt;", data[start + 3 : end - 3], b"&gt;}}"]
            last = end
    parts.append(data[last:])
    return b"".join(parts).decode()


# CommonMark's HTML blocks that end only at their end tag: one never closed would take
# the rest of the body as raw HTML (then text, once GFM's tag filter has shown it).
_RAW_BLOCK_START = re.compile(r"^ {0,3}<(script|style|textarea|pre)(?=[\s>]|$)", re.I | re.M)


def _defuse_raw_blocks(text: str, options: MarkdownConfig) -> str:
    """`text` with the `<` of each such block start that is never closed, outside code,
    written `&lt;`, so that the block is a paragraph and the Markdown after it renders."""
    if "<" not in text:
        return text
    lowered = text.lower()
    unclosed = []
    missing: set[str] = set()
    for found in _RAW_BLOCK_START.finditer(text):
        closer = "</" + found.group(1).lower()
        if closer in missing or lowered.find(closer, found.end()) < 0:
            missing.add(closer)
            unclosed.append(found.end(1) - len(found.group(1)) - 1)
    if not unclosed:
        return text
    data = text.encode()
    code = _code_ranges(text, options)
    starts = [start for start, _ in code]
    parts = []
    last = offset = previous = 0
    for at in unclosed:
        offset += len(text[previous:at].encode())
        previous = at
        index = bisect.bisect_right(starts, offset) - 1
        if index >= 0 and code[index][1] > offset:
            continue
        parts += [data[last:offset], b"&lt;"]
        last = offset + 1
    parts.append(data[last:])
    return b"".join(parts).decode()


def _code_ranges(text: str, options: MarkdownConfig) -> list[tuple[int, int]]:
    """The byte ranges of the code spans and code blocks of `text`, in order."""
    ranges = []
    flags = _pyromark_options(options)
    for event, where in pyromark.events_with_range(text, options=flags):
        if isinstance(event, dict):
            if "Code" in event:
                ranges.append((where["start"], where["end"]))
                continue
            start = event.get("Start")
            if isinstance(start, dict) and "CodeBlock" in start:
                ranges.append((where["start"], where["end"]))
    ranges.sort()
    return ranges


# --------------------------------------------------------------------------
# The HTML pass before the sanitiser
# --------------------------------------------------------------------------


class _Prepared(NamedTuple):
    html: str
    depth: int


class _Tag(NamedTuple):
    name: str
    closing: bool
    attributes: dict[str, str]
    end: int  # just after the `>`


def _read_tag(fragment: str, at: int) -> _Tag | None:
    """The tag that starts at `fragment[at] == "<"`, or None if it is not one that ends.

    Attribute names and values may not hold `<`: a tag that would is no tag,
    and is shown as text. Values are decoded; the first of two same names wins.
    """
    plain = _PLAIN_TAG.match(fragment, at)
    if plain is not None:
        return _plain_tag(plain)
    closing = fragment.startswith("/", at + 1)
    name = _TAG_NAME.match(fragment, at + 2 if closing else at + 1)
    if name is None:
        return None
    attributes: dict[str, str] = {}
    position = name.end()
    size = len(fragment)
    while position < size:
        if fragment[position] == ">":
            return _Tag(name.group().lower(), closing, attributes, position + 1)
        found = _ATTRIBUTE.match(fragment, position)
        if found is None or found.end() == position:  # a `<`, or a quote that never closes
            return None
        key = found.group(1)
        if key is not None:
            key = key.lower()
            if key not in attributes:
                raw = found.group(2) or found.group(3) or found.group(4) or ""
                attributes[key] = html.unescape(raw)
        position = found.end()
    return None


def _plain_tag(found: re.Match[str]) -> _Tag:
    """The tag `_PLAIN_TAG` matched."""
    slash, name, written = found.groups()
    attributes: dict[str, str] = {}
    if written:
        for key, raw in _PLAIN_ATTRIBUTE.findall(written):
            if key not in attributes:
                attributes[key] = html.unescape(raw)
    return _Tag(name, bool(slash), attributes, found.end())


def _write_tag(name: str, attributes: dict[str, str]) -> str:
    written = "".join(
        f' {key}="{html.escape(value, quote=True)}"'
        for key, value in attributes.items()
        if _ATTRIBUTE_NAME.match(key)
    )
    return f"<{name}{written}>"


_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.-]*\Z")


@functools.cache
def _linkifier() -> linkify_it.LinkifyIt:
    return linkify_it.LinkifyIt()


def _linkify(text: str) -> str:
    """Escaped text (as the renderer wrote it) with its bare URLs linked, as GFM links them:
    `http(s)://`, `www.` and e-mail addresses (not a bare `example.com`)."""
    if not _LINK_HINT.search(text):  # most text has none: 0.1 ms an article, not 2.4 ms
        return text
    plain = html.unescape(text)
    linkifier = _linkifier()
    if not linkifier.pretest(plain) or not linkifier.test(plain):
        return text
    parts = []
    last = 0
    for match in linkifier.match(plain) or []:
        if match.schema == "" and not match.raw.lower().startswith("www."):
            continue
        parts.append(html.escape(plain[last : match.index], quote=False))
        href = html.escape(match.url, quote=True)
        parts.append(f'<a href="{href}">{html.escape(match.raw, quote=False)}</a>')
        last = match.last_index
    if not parts:
        return text
    parts.append(html.escape(plain[last:], quote=False))
    return "".join(parts)


def _prepare(
    fragment: str,
    base: str,
    prefix: str,
    options: MarkdownConfig,
    report: _Report,
    *,
    text_only: bool = False,
) -> _Prepared:
    """Rendered HTML → the same HTML with every tag in one normal form (see the module's
    docstring), and how deep its elements nest. With `text_only` (HTML read only for its
    text) the tags that are kept are written without attributes: none of the tags kept is
    one whose attributes change how an HTML5 parser builds the tree, so the text is the same,
    as are the warnings."""
    preparer = _Preparer(fragment, base, prefix, options, report, text_only=text_only)
    try:
        preparer.run()
    except _TooDeep:  # the body is published as text: no need to read the rest
        return _Prepared("", MAX_DEPTH + 1)
    return _Prepared("".join(preparer.out), preparer.deepest)


class _TooDeep(Exception):
    """Elements nest deeper than MAX_DEPTH."""


class _Preparer:
    """One pass over rendered HTML: text, comments and tags, each read once."""

    def __init__(
        self,
        fragment: str,
        base: str,
        prefix: str,
        options: MarkdownConfig,
        report: _Report,
        *,
        text_only: bool = False,
    ) -> None:
        self.fragment = fragment
        self.base = base
        self.prefix = prefix
        self.autolinks = options.autolinks
        self.report = report
        self.text_only = text_only
        self.labels = (
            set()
            if text_only
            else {html.unescape(label) for label in _FOOTNOTE_DEFINITION.findall(fragment)}
        )
        self.out: list[str] = []
        self.stack: list[str] = []
        self.open_count: dict[str, int] = {}
        self.deepest = 0
        self.no_links = 0  # how many open elements forbid links inside them
        self.cursor: dict[str, int] = {}  # where in the body the next embed of each kind is
        self._lowered: str | None = None
        self.missing: set[str] = set()  # what was looked for after some point and not found

    def run(self) -> None:
        """What :meth:`text` and :meth:`markup` would do, with the commonest cases inline:
        text with nothing to link, and an allowed tag with no attributes."""
        fragment = self.fragment
        size = len(fragment)
        out = self.out
        find = fragment.find
        plain_tag = _PLAIN_TAG.match
        hint = _hints_in(fragment) if self.autolinks else None
        open_count = self.open_count
        text_only = self.text_only
        position = 0
        while position < size:
            at = find("<", position)
            if at < 0:
                at = size
            if at > position:
                if hint is not None and not self.no_links and hint(position, at):
                    out.append(_linkify(fragment[position:at]))
                else:
                    out.append(fragment[position:at])
                if at == size:
                    return
            found = plain_tag(fragment, at)
            if found is None:
                position = self.markup(at)
                continue
            name = found[2]
            if (found[3] and not text_only) or name not in _TAGS:
                position = self.tag(_plain_tag(found), at)
                continue
            if found[1]:
                if open_count.get(name):
                    self.pop(name)
                    out.append(f"</{name}>")
            else:
                out.append(f"<{name}>" if found[3] else found[0])
                if name not in _VOID:
                    self.push(name)
            position = found.end()

    def markup(self, at: int) -> int:
        """Handle what starts with the `<` at `at`; where to go on."""
        fragment = self.fragment
        if fragment.startswith("<!--", at):
            return self.comment_end(at)  # comments are dropped, as the sanitiser drops them
        if fragment.startswith(("<!", "<?"), at) or (
            fragment.startswith("</", at) and not _TAG_NAME.match(fragment, at + 2)
        ):
            end = fragment.find(">", at)  # a bogus comment, dropped as the parser drops it
            return len(fragment) if end < 0 else end + 1
        tag = _read_tag(fragment, at)
        if tag is None:
            self.out.append("&lt;")  # no tag: text, as GFM shows a `<` that starts none
            return at + 1
        return self.tag(tag, at)

    def tag(self, tag: _Tag, at: int) -> int:
        """Handle the tag read at `at`; where to go on."""
        fragment = self.fragment
        if tag.name in _FILTERED:  # GFM's tag filter: shown as text
            self.out.append(html.escape(fragment[at : tag.end], quote=False))
            if not tag.closing and tag.name in _EMBEDS:
                self.embed(tag)
            return tag.end
        if tag.closing:
            if tag.name in _TAGS and self.open_count.get(tag.name):  # else the parser ignores it
                self.pop(tag.name)
                self.out.append(f"</{tag.name}>")
            return tag.end
        return self.start_tag(tag)

    def comment_end(self, at: int) -> int:
        fragment = self.fragment
        if fragment.startswith(("<!-->", "<!--->"), at):
            return fragment.index(">", at) + 1
        ends = []
        for closer in ("-->", "--!>"):
            end = -1 if closer in self.missing else fragment.find(closer, at + 4)
            if end < 0:
                self.missing.add(closer)  # then none is later either: never looked for again
            else:
                ends.append(end + len(closer))
        return min(ends) if ends else len(self.fragment)

    def start_tag(self, tag: _Tag) -> int:
        name = tag.name
        if name in _EMBEDS:
            self.embed(tag)
        if name in _REMOVED_WITH_CONTENT:
            return self.skip_content(tag)
        if name == "input" and tag.attributes.get("type", "").lower() == "checkbox":
            self.out.append("☑" if "checked" in tag.attributes else "☐")
        elif name in _TAGS:  # any other is dropped, its content kept, as the sanitiser would
            if self.text_only:
                self.out.append(f"<{name}>")
            else:
                self.out.append(_write_tag(name, _attributes(tag, self.prefix, self.labels)))
            if name not in _VOID:
                self.push(name)
        return tag.end

    def skip_content(self, tag: _Tag) -> int:
        """After an element removed with its content: its end tag, or (if it has none) its
        start tag, so that one left open never swallows the rest."""
        if self._lowered is None:
            self._lowered = self.fragment.lower()
        closer = "</" + tag.name
        end = -1 if closer in self.missing else self._lowered.find(closer, tag.end)
        if end < 0:
            self.missing.add(closer)
            return tag.end
        if tag.name in _EMBEDS:  # the <embed> or <source> inside an <object>, say
            _embeds_within(self.fragment, tag.end, end, self.embed)
        close = self.fragment.find(">", end)
        return len(self.fragment) if close < 0 else close + 1

    def text(self, piece: str) -> None:
        if piece:
            self.out.append(_linkify(piece) if self.autolinks and not self.no_links else piece)

    def push(self, name: str) -> None:
        stack = self.stack
        if stack and (
            (name in _CLOSES_P and stack[-1] == "p")
            or (name in _NO_SELF_NESTING and stack[-1] == name)
        ):
            self.pop(stack[-1])
        stack.append(name)
        self.open_count[name] = self.open_count.get(name, 0) + 1
        self.deepest = max(self.deepest, len(stack))
        if self.deepest > MAX_DEPTH:
            raise _TooDeep
        if name in _NO_LINKS_INSIDE:
            self.no_links += 1

    def pop(self, name: str) -> None:
        """Close the innermost open `name` and all inside it (an end tag of none is ignored)."""
        if not self.open_count.get(name):
            return
        while self.stack:
            top = self.stack.pop()
            self.open_count[top] -= 1
            if top in _NO_LINKS_INSIDE:
                self.no_links -= 1
            if top == name:
                return

    def embed(self, tag: _Tag) -> None:
        report = self.report
        line, self.cursor[tag.name] = report.line_of("<" + tag.name, self.cursor.get(tag.name, 0))
        value = tag.attributes.get(_EMBEDS[tag.name], "").strip()
        if not value and tag.name in {"video", "audio"}:
            return  # its <source>s say what it plays
        link = _link_to(value, self.base) if value else None
        if link is None:
            report.add(f"removed an embedded {tag.name} that links to nothing usable", line)
            return
        report.add(
            f"removed an embedded {tag.name}; linked to what it embedded instead: {_quoted(link)}",
            line,
        )
        self.out.append(
            f'<a href="{html.escape(link, quote=True)}">{html.escape(link, quote=False)}</a>'
        )


def _embeds_within(fragment: str, start: int, end: int, embed: Callable[[_Tag], None]) -> None:
    """Link the embeds nested in a removed element (an <object>'s <embed>, say)."""
    position = start
    while True:
        at = fragment.find("<", position, end)
        if at < 0:
            return
        tag = _read_tag(fragment[:end], at)
        if tag is None:
            position = at + 1
            continue
        if not tag.closing and tag.name in _EMBEDS:
            embed(tag)
        position = tag.end


def _attributes(tag: _Tag, prefix: str, labels: set[str]) -> dict[str, str]:
    """A tag's attributes as the sanitiser should see them."""
    attributes = tag.attributes
    name = tag.name
    if name == "code":
        classes = attributes.get("class", "").split()
        kept = [value for value in classes if _LANGUAGE.match(value)][:1]
        attributes = {key: value for key, value in attributes.items() if key != "class"}
        if kept:
            attributes["class"] = kept[0]
    elif name == "a":
        href = attributes.get("href")
        if href is not None and _TEMPLATED.search(href):
            attributes = {key: value for key, value in attributes.items() if key != "href"}
        elif href is not None and href.startswith("#") and labels:
            label = unquote(href[1:])
            if label in labels:
                attributes = {**attributes, "href": "#" + _footnote_id(prefix, label)}
    elif name == "div" and "id" in attributes:
        label = attributes["id"]
        attributes = {key: value for key, value in attributes.items() if key != "id"}
        if attributes.get("class") == "footnote-definition" and label in labels:
            attributes["id"] = _footnote_id(prefix, label)
    elif name == "img" and any(
        _TEMPLATED.search(attributes.get(key, "")) for key in ("src", "srcset")
    ):
        attributes = {
            key: value for key, value in attributes.items() if key not in {"src", "srcset"}
        }
    # Only what the sanitiser keeps: it would drop the rest, at a cost that grows with their
    # number (a tag with 100,000 attributes took it 2 s).
    allowed = _ATTRIBUTES.get(name, _NONE) | _ATTRIBUTES["*"]
    return {key: value for key, value in attributes.items() if key in allowed}


_NONE: frozenset[str] = frozenset()


def _footnote_id(prefix: str, label: str) -> str:
    if _SAFE_ID.match(label):
        return prefix + label
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")
    return f"{prefix}{safe}-{hashlib.blake2b(label.encode(), digest_size=3).hexdigest()}"


def _link_to(value: str, base: str) -> str | None:
    """An embed's address, absolute, if it is a web address."""
    if _TEMPLATED.search(value):
        return None
    try:
        address = absolute(value, base)
    except ValueError:
        return None
    return address if urlsplit(address).scheme in {"http", "https"} else None


def _text_paragraphs(fragment: str) -> str:
    """The text of rendered HTML, escaped, a paragraph per line (the renderer puts each block
    on lines of its own). A tag is anything from a `<` to the next `>` with no `<` between:
    one pass, whatever the markup (a body published as text is one whose markup is too deep
    or too large to read as HTML). Escaped text in paragraphs needs no sanitiser."""
    text = html.unescape(_ANY_TAG.sub(" ", fragment))
    blocks = (" ".join(line.split()) for line in text.split("\n"))
    return "".join(f"<p>{html.escape(block)}</p>" for block in blocks if block)


def _marked_summary(rendered: str, base: str, prefix: str, options: MarkdownConfig) -> str | None:
    """The text before the body's summary marker (after Pelican's begin marker), if it has one."""
    end = _SUMMARY_END.search(rendered)
    begin = _SUMMARY_BEGIN.search(rendered)
    if end is None and begin is None:
        return None
    start = 0 if begin is None or (end is not None and begin.start() > end.start()) else begin.end()
    stop = len(rendered) if end is None else end.start()
    if end is None:
        return None if begin is None else _summary_text(rendered[start:], base, prefix, options)
    return _summary_text(rendered[start:stop], base, prefix, options)


def _summary_text(fragment: str, base: str, prefix: str, options: MarkdownConfig) -> str:
    report = _Report("", "", 1)
    if fragment.count("<") > MAX_TAGS:
        return plain_summary(_text_paragraphs(fragment), 1 << 30)
    prepared = _prepare(fragment, base, prefix, options, report, text_only=True)
    if prepared.depth > MAX_DEPTH:
        return plain_summary(_text_paragraphs(fragment), 1 << 30)
    return plain_summary(_sanitised(prepared.html), 1 << 30)


# --------------------------------------------------------------------------
# Sanitising and addresses
# --------------------------------------------------------------------------


def sanitise(fragment: str, base: str, prefix: str = "") -> str:
    """Allow-listed HTML with every address made absolute against `base`.

    The sanitiser writes every attribute as name="value", so its output's tags
    are read here with a regular expression, in one pass, and the addresses in
    them rewritten. A link to one of the entry's own footnotes (its id starts
    with `prefix`) stays a link within the entry; any other id is dropped.
    """
    cleaned = _sanitised(fragment)
    made: dict[str, str] = {}  # a tag as written → as rewritten: an article repeats its links

    def tag(match: re.Match[str]) -> str:
        written = match.group()
        rewritten = made.get(written)
        if rewritten is None:
            rewritten = made[written] = _ADDRESS.sub(address, written)
        return rewritten

    def address(found: re.Match[str]) -> str:
        return _address(found, base, prefix)

    return _OPENING_TAG.sub(tag, cleaned)


def _sanitised(fragment: str) -> str:
    """Allow-listed HTML, its addresses as they were: what :func:`sanitise` makes of
    `fragment` but for the attributes, enough for HTML read only for its text (the sanitiser
    writes every attribute value quoted, so rewriting one changes no text)."""
    return str(_cleaner().clean(fragment))


def _address(match: re.Match[str], base: str, prefix: str) -> str:
    space, name, value = match.groups()
    value = html.unescape(value)
    if name == "id":
        return match.group() if prefix and value.startswith(prefix) else ""
    if prefix and name == "href" and value.startswith("#" + prefix):
        return match.group()
    try:
        rewritten = _srcset(value, base) if name == "srcset" else absolute(value, base)
    except ValueError:
        rewritten = None
    if rewritten is None:
        return ""
    return f'{space}{name}="{html.escape(rewritten, quote=True)}"'


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """One sanitiser for the whole build (building one costs more than cleaning an article)."""
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


@functools.cache
def _text_cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(tags=set(), clean_content_tags=set(_REMOVED_WITH_CONTENT))


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
    return _cut(" ".join(html.unescape(_text_cleaner().clean(spaced)).split()), length)


def _cut(text: str, length: int) -> str:
    """`text` cut at a word, at most `length` characters, with an ellipsis when cut."""
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"
