"""Benchmark the CommonMark renderers that feedpub could use.

What it measures
----------------
A deterministic Markdown news article of about 1,000 words (paragraphs,
emphasis, absolute and relative links, an autolink, a blockquote, a list, an
inline image, a heading, raw inline HTML such as ``<em>`` and a raw HTML
``<figure>`` block) is rendered by each renderer that can be imported:

* cmarkgfm, ``cmarkgfm.markdown_to_html(text)``: the default, "safe" mode,
  which replaces raw HTML with ``<!-- raw HTML omitted -->``;
* cmarkgfm, ``cmarkgfm.markdown_to_html(text, Options.CMARK_OPT_UNSAFE)``:
  raw HTML passes through;
* pyromark (pulldown-cmark), ``pyromark.html(text)``: the default
  ``options=pyromark.Options(0)`` turns every extension off, which gives plain
  CommonMark;
* markdown-it-py, ``MarkdownIt("commonmark").render(text)``: the parser is
  built once, outside the timed code.

Renderers that cannot be imported are skipped with a note.

GFM conformance (``--gfm-spec GIT_DIR``)
----------------------------------------
With the git directory of a github/cmark-gfm checkout (the spec is CC-BY-SA
4.0 and is read from there at run time, never committed here; the search
tool's ``fetch github:github/cmark-gfm`` brings one), every example of
``test/spec.txt`` marked with an extension (``table``, ``strikethrough``,
``autolink``, ``tagfilter``, and the task-list examples marked ``disabled``)
and every example of ``test/extensions.txt`` (by section: tables,
strikethroughs, autolinks, the tag filter, footnotes, interop, task lists) is
rendered with each renderer's GFM options, and the output is compared with
the expected HTML once both are canonicalised (whitespace, character
references, attribute order; ``<input ... />`` read as ``<input ...>``). The
GFM variants measured:

* cmarkgfm, ``github_flavored_markdown_to_html`` with unsafe and footnotes;
* pyromark with tables, strikethrough, task lists and footnotes (what
  pulldown-cmark has);
* pyromark, then feedpub's autolinks (linkify-it-py on text outside code and
  links) and GFM's tag filter: what feedpub renders before its sanitiser;
* markdown-it-py ``gfm-like`` with linkify, and the footnote and task-list
  plugins of mdit-py-plugins.

The GFM variants are also timed on the article above.

    python benchmarks/markdown_renderers.py --gfm-spec /path/to/cmark-gfm/.git

For each renderer the script reports:

1. the median (and the fastest) wall-clock time of one render, in
   milliseconds, measured with ``timeit`` over many repeats;
2. whether raw inline HTML and raw block HTML reach the output (feedpub
   sanitises the HTML with nh3 afterwards, so passing it through is fine);
3. whether the outputs agree once whitespace is normalised, and where they
   differ. A difference that disappears once the HTML is canonicalised
   (character references decoded and re-escaped, attributes sorted) is
   reported as cosmetic: ``"`` versus ``&quot;`` in text, for instance.

How to run it
-------------
From the repository root, with the renderers installed::

    python benchmarks/markdown_renderers.py
    python benchmarks/markdown_renderers.py --repeat 101 --min-time 0.05
    python benchmarks/markdown_renderers.py --show-article

The timings depend on the machine and its load; compare them with each other
rather than with figures taken elsewhere.
"""

from __future__ import annotations

import argparse
import difflib
import html
import importlib
import importlib.metadata
import platform
import re
import statistics
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

RenderFunc = Callable[[str], str]

# Snippets of the article's raw HTML; a renderer passes raw HTML through when
# they appear unchanged in its output.
RAW_INLINE_MARKERS: tuple[str, ...] = (
    '<em lang="fr">',
    '<abbr title="Environment Agency">',
)
RAW_BLOCK_MARKERS: tuple[str, ...] = (
    '<figure class="lead-image">',
    "<figcaption>",
)


@dataclass(frozen=True)
class Renderer:
    """A renderer variant: a display name, the exact call, and the callable."""

    name: str
    api: str
    render: RenderFunc


@dataclass(frozen=True)
class Timing:
    """Per-render timings of one renderer, in milliseconds."""

    median_ms: float
    min_ms: float
    number: int
    repeat: int


# --------------------------------------------------------------------------
# The article
# --------------------------------------------------------------------------

_SUBJECTS: tuple[str, ...] = (
    "The council",
    "Residents on the east bank",
    "Engineers from the water authority",
    "The mayor's office",
    "Local shopkeepers",
    "A spokesperson for the rail operator",
    "Volunteers at the community centre",
    "The regional weather service",
)
_VERBS: tuple[str, ...] = (
    "said on Tuesday that",
    "warned that",
    "confirmed that",
    "told reporters that",
    "argued that",
    "estimated that",
)
_CLAIMS: tuple[str, ...] = (
    "the temporary barriers had held through the night",
    "repairs to the footbridge would take at least six weeks",
    "insurance claims were already running into the *hundreds*",
    "the pumping station was operating at **full capacity**",
    "school buses would follow the northern diversion until further notice",
    "the river level had fallen by 40 cm since the peak on Sunday",
    "the cost of the clean-up was still impossible to estimate",
    "nobody had been seriously hurt, which was 'nothing short of lucky'",
)
_TAILS: tuple[str, ...] = (
    "according to figures published this morning",
    "although the details are still being checked",
    "in a statement posted to the [council website](/council/statements)",
    "as the [earlier report](../2024/03/river-rises.html) predicted",
    "a claim that the opposition disputed",
    'citing data from the [river gauge](https://example.org/gauges/7 "Gauge 7")',
)


def _sentence(i: int) -> str:
    """Return the i-th filler sentence; the choice is a fixed function of i."""
    subject = _SUBJECTS[i % len(_SUBJECTS)]
    verb = _VERBS[(i * 5 + 1) % len(_VERBS)]
    claim = _CLAIMS[(i * 3 + 2) % len(_CLAIMS)]
    tail = _TAILS[(i * 7 + 3) % len(_TAILS)]
    return f"{subject} {verb} {claim}, {tail}."


def _filler_paragraph(start: int, sentences: int = 4) -> str:
    return " ".join(_sentence(i) for i in range(start, start + sentences))


def build_article(target_words: int = 1000) -> str:
    """Build a deterministic Markdown news article of about target_words."""
    head = [
        "# River Aire floods: town counts the cost as waters recede",
        "*By Jane Doe, Environment Correspondent* · [Follow our live coverage](/live/floods)",
        (
            "Flood water that swept through the lower town over the weekend began "
            'to recede on Monday, and officials said the "worst is over" for '
            "now. More than 300 homes were evacuated, and the "
            '<abbr title="Environment Agency">EA</abbr> kept three severe flood '
            "warnings in place along the valley. It felt, one resident said, "
            'like <em lang="fr">déjà vu</em> after the floods of 2015.'
        ),
        (
            '<figure class="lead-image">\n'
            '  <img src="/media/2024/aire-bridge.jpg" alt="The flooded bridge">\n'
            "  <figcaption>The old bridge on Sunday evening.</figcaption>\n"
            "</figure>"
        ),
        (
            "The bridge, built in 1821, was closed to traffic at 6 a.m. on "
            "Sunday. Photographs shared with this newspaper show water lapping at "
            "the parapet ![A swollen river](images/aire-river.jpg "
            '"The Aire at its peak") as crews worked to clear debris from the '
            "arches. Full details are on the [road closures page](./closures) "
            "and at <https://example.org/travel?area=aire&mode=all>."
        ),
        (
            "> We had about twenty minutes' warning. By the time we had moved "
            "the\n> photographs upstairs, the water was already at the door.\n>\n"
            "> — Margaret Hill, 74, a resident of Canal Street"
        ),
        "## What happens next",
        "The council has published a recovery plan. Its priorities are:",
        (
            "- pumping out basements on **Canal Street** and *Mill Lane*;\n"
            "- reopening the primary school by Thursday;\n"
            "- inspecting the [footbridge](../infrastructure/footbridge) and the "
            "old bridge;\n"
            "- a drop-in centre for people who need "
            '[temporary housing](/help/housing "Help with housing").'
        ),
        (
            "Insurers said claims should be made as soon as possible, with "
            "photographs of the damage. R&D firms on the business park said "
            "their servers, housed on upper floors, had not been affected; one "
            'manager called the flood defences "a false economy" and said '
            "that the town had been 'left to fend for itself'."
        ),
    ]
    tail = [
        "## Background",
        (
            "The valley has flooded three times in ten years. A 2016 review "
            "recommended raising the walls by `1.2 m`, a scheme that was "
            "approved but never fully funded. The review is available in the "
            '[archive](/archive/2016/flood-review "Flood review, 2016").'
        ),
        (
            "*Additional reporting by John Smith.* "
            "[Send us your story](mailto:news@example.org) or read "
            "[more local news](../../local/)."
        ),
    ]

    def words(blocks: Sequence[str]) -> int:
        return sum(len(block.split()) for block in blocks)

    body: list[str] = []
    start = 0
    while words([*head, *body, *tail]) < target_words:
        body.append(_filler_paragraph(start))
        start += 4
    return "\n\n".join([*head, *body, *tail]) + "\n"


# --------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------


def load_renderers() -> tuple[list[Renderer], list[str]]:
    """Return the importable renderer variants, and notes about missing ones."""
    renderers: list[Renderer] = []
    notes: list[str] = []

    try:
        cmarkgfm = importlib.import_module("cmarkgfm")
    except ImportError as exc:
        notes.append(f"cmarkgfm skipped: {exc}")
    else:
        unsafe: int = cmarkgfm.Options.CMARK_OPT_UNSAFE
        to_html: RenderFunc = cmarkgfm.markdown_to_html
        renderers.append(
            Renderer(
                "cmarkgfm (safe)",
                "cmarkgfm.markdown_to_html(text)",
                to_html,
            )
        )
        renderers.append(
            Renderer(
                "cmarkgfm (unsafe)",
                "cmarkgfm.markdown_to_html(text, Options.CMARK_OPT_UNSAFE)",
                lambda text: cmarkgfm.markdown_to_html(text, unsafe),
            )
        )

    try:
        pyromark = importlib.import_module("pyromark")
    except ImportError as exc:
        notes.append(f"pyromark skipped: {exc}")
    else:
        # Options(0) is pyromark's default: no extensions, plain CommonMark.
        commonmark_only = pyromark.Options(0)
        renderers.append(
            Renderer(
                "pyromark",
                "pyromark.html(text, options=pyromark.Options(0))",
                lambda text: pyromark.html(text, options=commonmark_only),
            )
        )

    try:
        markdown_it = importlib.import_module("markdown_it")
    except ImportError as exc:
        notes.append(f"markdown-it-py skipped: {exc}")
    else:
        parser = markdown_it.MarkdownIt("commonmark")
        renderers.append(
            Renderer(
                "markdown-it-py",
                'MarkdownIt("commonmark").render(text)',
                parser.render,
            )
        )

    return renderers, notes


def package_versions() -> dict[str, str]:
    """Return the installed versions of the renderer packages."""
    versions: dict[str, str] = {}
    for dist in ("cmarkgfm", "pyromark", "markdown-it-py"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def time_renderer(render: RenderFunc, text: str, *, repeat: int, min_time: float) -> Timing:
    """Time one renderer: the median and the fastest of `repeat` runs.

    Each run calls the renderer `number` times in a loop, with `number` chosen
    so that a run lasts at least `min_time` seconds.
    """
    timer = timeit.Timer(lambda: render(text))
    timer.timeit(number=3)  # warm-up: caches, lazy initialisation
    number = 1
    while True:
        if timer.timeit(number=number) >= min_time:
            break
        number *= 2
    runs = [total / number * 1000.0 for total in timer.repeat(repeat, number)]
    return Timing(statistics.median(runs), min(runs), number, repeat)


# --------------------------------------------------------------------------
# Comparing outputs
# --------------------------------------------------------------------------


def normalise_whitespace(markup: str) -> str:
    """Collapse runs of whitespace and drop whitespace between tags."""
    collapsed = re.sub(r"\s+", " ", markup).strip()
    return re.sub(r">\s+<", "><", collapsed)


class _Canonicaliser(HTMLParser):
    """Re-serialise HTML so that equivalent spellings compare equal."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], end: str) -> None:
        rendered = "".join(
            f' {key}="{html.escape(value)}"' if value is not None else f" {key}"
            for key, value in sorted(attrs)
        )
        self.parts.append(f"<{tag}{rendered}{end}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, " /")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.parts.append(html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        self.parts.append(f"<!--{data}-->")


def canonicalise(markup: str) -> str:
    """Whitespace-normalise HTML and canonicalise references and attributes."""
    parser = _Canonicaliser()
    parser.feed(markup)
    parser.close()
    return normalise_whitespace("".join(parser.parts))


_TOKEN = re.compile(r"<[^>]*>|[^<\s]+|\s+")


def describe_difference(
    reference: str, other: str, *, max_changes: int = 4, context: int = 40
) -> list[str]:
    """Return a few lines showing where two normalised outputs differ.

    The outputs are compared as sequences of tags, words and spaces; each
    change is shown with `context` characters of the reference around it.
    """
    ref_tokens = _TOKEN.findall(reference)
    other_tokens = _TOKEN.findall(other)
    matcher = difflib.SequenceMatcher(None, ref_tokens, other_tokens, autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    lines: list[str] = []
    for _, i1, i2, j1, j2 in changes[:max_changes]:
        before = "".join(ref_tokens[:i1])[-context:]
        after = "".join(ref_tokens[i2:])[:context]
        old = "".join(ref_tokens[i1:i2])
        new = "".join(other_tokens[j1:j2])
        lines.append(f"...{before}[-{old}-]{{+{new}+}}{after}...")
    if len(changes) > max_changes:
        lines.append(f"... and {len(changes) - max_changes} more changes")
    return lines


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    rule = "  ".join("-" * width for width in widths)
    body = [line.format(*row) for row in rows]
    return "\n".join([line.format(*headers), rule, *body])


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def report(
    renderers: Sequence[Renderer],
    notes: Sequence[str],
    article: str,
    *,
    repeat: int,
    min_time: float,
) -> None:
    """Render, time and compare; print the results."""
    print(f"Python {platform.python_version()} on {platform.platform()}")
    for dist, version in package_versions().items():
        print(f"  {dist}: {version}")
    for note in notes:
        print(f"  note: {note}")
    print(
        f"Article: {len(article.split())} words, {len(article)} characters, "
        f"{len(article.encode())} bytes UTF-8"
    )
    if not renderers:
        print("No renderer could be imported; nothing to do.")
        return

    outputs = {renderer.name: renderer.render(article) for renderer in renderers}

    print(f"\nTiming: median and fastest of {repeat} runs, per render")
    timings = {
        renderer.name: time_renderer(renderer.render, article, repeat=repeat, min_time=min_time)
        for renderer in renderers
    }
    fastest = min(timing.median_ms for timing in timings.values())
    rows = [
        [
            renderer.name,
            f"{timings[renderer.name].median_ms:.4f}",
            f"{timings[renderer.name].min_ms:.4f}",
            f"{timings[renderer.name].median_ms / fastest:.1f}x",
            str(timings[renderer.name].number),
            renderer.api,
        ]
        for renderer in renderers
    ]
    print(
        _table(
            ["renderer", "median ms", "min ms", "vs fastest", "loops/run", "call"],
            rows,
        )
    )

    print("\nRaw HTML in the output (nh3 sanitises it afterwards)")
    rows = []
    for renderer in renderers:
        output = outputs[renderer.name]
        rows.append(
            [
                renderer.name,
                _yes_no(all(marker in output for marker in RAW_INLINE_MARKERS)),
                _yes_no(all(marker in output for marker in RAW_BLOCK_MARKERS)),
                _yes_no("raw HTML omitted" in output),
            ]
        )
    print(_table(["renderer", "inline kept", "block kept", "'omitted' comments"], rows))

    print("\nOutput agreement (whitespace normalised)")
    reference = renderers[-1] if len(renderers) > 1 else renderers[0]
    print(f"  reference: {reference.name}")
    reference_norm = normalise_whitespace(outputs[reference.name])
    reference_canon = canonicalise(outputs[reference.name])
    for renderer in renderers:
        if renderer is reference:
            continue
        output = outputs[renderer.name]
        if normalise_whitespace(output) == reference_norm:
            print(f"  {renderer.name}: identical")
            continue
        if canonicalise(output) == reference_canon:
            verdict = (
                "differs in spelling only (identical once character references "
                "and attributes are canonicalised)"
            )
        else:
            verdict = "differs"
        print(f"  {renderer.name}: {verdict}")
        for line in describe_difference(reference_norm, normalise_whitespace(output)):
            print(f"      {line}")


# --------------------------------------------------------------------------
# GFM conformance
# --------------------------------------------------------------------------

_FENCE = "`" * 32
_SPEC_KINDS = {"table": "table", "strikethrough": "strikethrough", "autolink": "autolink",
               "tagfilter": "tagfilter", "disabled": "tasklist"}  # fmt: skip
_SECTION_KINDS = {"Tables": "table", "Strikethroughs": "strikethrough", "Autolinks": "autolink",
                  "HTML tag filter": "tagfilter", "Footnotes": "footnotes", "Interop": "interop",
                  "Task lists": "tasklist"}  # fmt: skip


@dataclass(frozen=True)
class Example:
    """One spec example: which extension it shows, its Markdown, the HTML expected."""

    kind: str
    markdown: str
    html: str


def spec_examples(text: str, *, from_sections: bool) -> list[Example]:
    """The examples of a cmark-gfm spec file (``→`` stands for a tab)."""
    examples: list[Example] = []
    section = ""
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:].strip()
        if not line.startswith(_FENCE + " example"):
            index += 1
            continue
        tags = line[len(_FENCE) + len(" example") :].split()
        markdown: list[str] = []
        expected: list[str] = []
        index += 1
        while lines[index] != ".":
            markdown.append(lines[index])
            index += 1
        index += 1
        while not lines[index].startswith(_FENCE):
            expected.append(lines[index])
            index += 1
        index += 1
        if from_sections:
            kind = _SECTION_KINDS.get(section)
        else:
            kind = next((_SPEC_KINDS[tag] for tag in tags if tag in _SPEC_KINDS), None)
        if kind is None:
            continue
        source = "\n".join(markdown).replace("→", "\t") + "\n"
        examples.append(Example(kind, source, "\n".join(expected).replace("→", "\t") + "\n"))
    return examples


def load_gfm_examples(git_dir: str) -> list[Example]:
    """The extension examples of cmark-gfm's spec.txt and extensions.txt, read from git."""
    import subprocess

    def show(path: str) -> str:
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip

    return [
        *spec_examples(show("test/spec.txt"), from_sections=False),
        *spec_examples(show("test/extensions.txt"), from_sections=True),
    ]


def load_gfm_renderers() -> tuple[list[Renderer], list[str]]:
    """The GFM variants that can be imported."""
    renderers: list[Renderer] = []
    notes: list[str] = []
    try:
        cmarkgfm = importlib.import_module("cmarkgfm")
    except ImportError as exc:
        notes.append(f"cmarkgfm skipped: {exc}")
    else:
        options = cmarkgfm.cmark.Options
        flags = options.CMARK_OPT_UNSAFE | options.CMARK_OPT_FOOTNOTES
        renderers.append(Renderer(
            "cmarkgfm GFM", "github_flavored_markdown_to_html(text, UNSAFE | FOOTNOTES)",
            lambda text: cmarkgfm.github_flavored_markdown_to_html(text, options=flags),
        ))  # fmt: skip
    try:
        pyromark = importlib.import_module("pyromark")
    except ImportError as exc:
        notes.append(f"pyromark skipped: {exc}")
    else:
        names = ("ENABLE_TABLES", "ENABLE_STRIKETHROUGH", "ENABLE_TASKLISTS", "ENABLE_FOOTNOTES")
        gfm = pyromark.Options(0)
        for name in names:
            gfm |= getattr(pyromark.Options, name)
        parser = pyromark.Markdown(options=gfm)
        renderers.append(Renderer(
            "pyromark GFM options", "Markdown(options=TABLES|STRIKETHROUGH|TASKLISTS|FOOTNOTES)",
            parser.html,
        ))  # fmt: skip
        try:
            content = importlib.import_module("feedpub.content")
        except ImportError as exc:
            notes.append(f"feedpub's autolinks skipped: {exc}")
        else:
            renderers.append(Renderer(
                "pyromark + feedpub autolinks and tag filter",
                "parser.html(text), then linkify-it-py on text outside code and links",
                lambda text: _feedpub_pass(content, parser.html(text)),
            ))  # fmt: skip
    try:
        markdown_it = importlib.import_module("markdown_it")
        footnote = importlib.import_module("mdit_py_plugins.footnote")
        tasklists = importlib.import_module("mdit_py_plugins.tasklists")
        importlib.import_module("linkify_it")
    except ImportError as exc:
        notes.append(f"markdown-it-py GFM skipped: {exc}")
    else:
        md = markdown_it.MarkdownIt("gfm-like", {"linkify": True})
        md.use(footnote.footnote_plugin).use(tasklists.tasklists_plugin)
        renderers.append(Renderer(
            "markdown-it-py gfm-like", 'MarkdownIt("gfm-like", linkify) + footnote, tasklists',
            md.render,
        ))  # fmt: skip
    return renderers, notes


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_FILTERED = re.compile(
    r"<(?=/?(?:title|textarea|style|xmp|iframe|noembed|noframes|script|plaintext)[\s/>])", re.I
)


def _feedpub_pass(content: object, rendered: str) -> str:
    """feedpub's autolinks (its own function) and GFM's tag filter, on raw renderer output."""
    linkify = getattr(content, "_linkify")  # noqa: B009
    out = []
    inside = 0
    for piece in _TAG_OR_TEXT.split(_FILTERED.sub("&lt;", rendered)):
        if piece.startswith("<"):
            name = re.match(r"</?([a-zA-Z0-9]+)", piece)
            if name and name.group(1).lower() in {"a", "code", "pre"}:
                inside += -1 if piece.startswith("</") else 1
            out.append(piece)
        else:
            out.append(linkify(piece) if piece and inside <= 0 else piece)
    return "".join(out)


def _gfm_canonical(markup: str) -> str:
    return canonicalise(re.sub(r"\s*/>", ">", markup))


def gfm_report(renderers: Sequence[Renderer], examples: Sequence[Example], article: str,
               *, repeat: int, min_time: float) -> None:  # fmt: skip
    """Print, for each GFM variant, the examples it passes by extension, and its speed."""
    kinds = sorted({example.kind for example in examples})
    counts = {kind: sum(example.kind == kind for example in examples) for kind in kinds}
    rows = []
    for renderer in renderers:
        passed = dict.fromkeys(kinds, 0)
        for example in examples:
            try:
                output = renderer.render(example.markdown)
            except Exception:
                continue
            if _gfm_canonical(output) == _gfm_canonical(example.html):
                passed[example.kind] += 1
        timing = time_renderer(renderer.render, article, repeat=repeat, min_time=min_time)
        total = sum(passed.values())
        rows.append([renderer.name, *(f"{passed[k]}/{counts[k]}" for k in kinds),
                     f"{total}/{len(examples)}", f"{timing.median_ms:.3f}"])  # fmt: skip
    print(f"\nGFM conformance: {len(examples)} extension examples of cmark-gfm's spec")
    print(_table(["renderer", *kinds, "all", "article median ms"], rows))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=1000, help="article length (default 1000)")
    parser.add_argument("--repeat", type=int, default=51, help="timed runs per renderer (51)")
    parser.add_argument(
        "--min-time",
        type=float,
        default=0.02,
        help="minimum seconds per timed run; sets the loop count (0.02)",
    )
    parser.add_argument("--show-article", action="store_true", help="print the Markdown and exit")
    parser.add_argument("--gfm-spec", metavar="GIT_DIR", help="cmark-gfm's git directory")
    args = parser.parse_args(argv)

    article = build_article(args.words)
    if args.show_article:
        print(article)
        return
    renderers, notes = load_renderers()
    report(renderers, notes, article, repeat=args.repeat, min_time=args.min_time)
    if args.gfm_spec:
        gfm, gfm_notes = load_gfm_renderers()
        for note in gfm_notes:
            print(f"  note: {note}")
        examples = load_gfm_examples(args.gfm_spec)
        gfm_report(gfm, examples, article, repeat=args.repeat, min_time=args.min_time)


if __name__ == "__main__":
    main()
