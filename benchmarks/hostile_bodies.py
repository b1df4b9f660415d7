"""How the time to render one article's body grows with its size, for hostile bodies.

Each shape below is built at several sizes, rendered by feedpub's content
pipeline (``feedpub.content.render_article``: Markdown, the HTML pass, the
sanitiser, the summary), and timed. For each shape the script prints the time
at each size and the ratio of the time at the largest size to the time at the
smallest, beside the ratio of the sizes: time linear in size keeps the two
ratios close; a quadratic shape shows a time ratio near the square of the size
ratio. A shape whose time ratio exceeds three times the size ratio is flagged,
and the script then exits 1.

Run from the repository root::

    python benchmarks/hostile_bodies.py
    python benchmarks/hostile_bodies.py --sizes 12000 48000 192000 --repeat 3

No unit test asserts a time; this script is where time is looked at.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from feedpub.content import render_article
from feedpub.model import Article, FeedsConfig


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * (size // len(unit) + 1)


def _nested_lists(size: int) -> str:
    lines = []
    total = 0
    depth = 0
    while total < size:
        line = "  " * (depth % 200) + "- item\n"
        lines.append(line)
        total += len(line)
        depth += 1
    return "".join(lines)


SHAPES: dict[str, Callable[[int], str]] = {
    "unclosed tags (<div <a <a …)": lambda size: "<div " + _repeat("<a ")(size),
    "unclosed tags inline (x <a <a …)": lambda size: "x " + _repeat("<a ")(size),
    "deep nesting (<div>…)": _repeat("<div>"),
    "deep self-closed nesting (<div/>…)": _repeat("<div/>"),
    "deep inline nesting (<b><i>…)": _repeat("<b><i>"),
    "long attribute value": lambda size: '<div title="' + "a" * size + '">x</div>',
    "unterminated attribute value": lambda size: '<div title="' + "a<b " * (size // 4),
    "many quotes in a tag": lambda size: "<div " + _repeat("a=\"' ")(size),
    "many backticks": _repeat("`"),
    "backtick runs of growing length": lambda size: " ".join(
        "`" * (i % 300 + 1) for i in range(size // 150)
    ),
    "run of *": _repeat("*"),
    "run of _": _repeat("_"),
    "run of [": _repeat("["),
    "alternating *_": _repeat("*_"),
    "link openers [a](": _repeat("[a]("),
    "blockquotes >>>>": lambda size: ">" * size + " x\n",
    "nested lists": _nested_lists,
    "template openers {{": _repeat("{{ "),
    "template pairs {{ x }}": _repeat("{{ x }} "),
    "shortcodes {{< x >}}": _repeat("{{< x >}} "),
    "bare URLs": _repeat("see https://example.org/a/b and www.example.com. "),
    "dots and letters (linkify)": _repeat("a."),
    "at signs (linkify)": _repeat("a@b."),
    "comments <!--": _repeat("<!-- "),
    "footnotes": lambda size: "".join(f"x[^{i}]\n\n[^{i}]: note\n\n" for i in range(size // 24)),
    "table rows": lambda size: "| a | b |\n|---|---|\n" + _repeat("| x | y |\n")(size),
    "embeds": _repeat('<iframe src="https://v.example/e"></iframe>\n'),
    "tag-filtered titles": _repeat("<title>"),
    "more markers": _repeat("<!--more-->\n\ntext\n\n"),
}


def article(body: str) -> Article:
    """An article that carries `body` and nothing else of note."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    return Article(
        path="hostile.md", id="tag:news.example,2024-01-01:hostile", slug="hostile",
        title="Hostile", section="News", topics=(), published=when, updated=when,
        url="https://news.example/2024/01/hostile/", authors=(), body=body,
    )  # fmt: skip


def seconds(body: str, repeat: int) -> float:
    """The fastest of `repeat` renders of `body`."""
    best = float("inf")
    item = article(body)
    feeds = FeedsConfig()
    for _ in range(repeat):
        start = time.perf_counter()
        render_article(item, feeds)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Time every shape at every size; exit 1 if one grows faster than linearly."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_000, 48_000, 192_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="time only the shapes whose name contains this")
    args = parser.parse_args(argv)
    sizes: list[int] = sorted(args.sizes)
    size_ratio = sizes[-1] / sizes[0]
    header = "  ".join(f"{size:>10,}" for size in sizes)
    print(f"{'shape':<40}{header}  time ratio (size ratio {size_ratio:.0f})", flush=True)
    flagged = []
    for name, build in SHAPES.items():
        if args.only and args.only not in name:
            continue
        times = [seconds(build(size)[:size], args.repeat) for size in sizes]
        ratio = times[-1] / max(times[0], 1e-6)
        cells = "  ".join(f"{t * 1000:>8.1f}ms" for t in times)
        flag = ratio > 3 * size_ratio and times[-1] > 0.05
        mark = "  <- faster than linear" if flag else ""
        print(f"{name:<40}{cells}  {ratio:6.1f}{mark}", flush=True)
        if flag:
            flagged.append(name)
    if flagged:
        print(f"\ngrowing faster than linearly: {', '.join(flagged)}")
        return 1
    print("\nevery shape grows about linearly")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
