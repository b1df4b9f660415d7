"""How long `feedpub.content.render_article` takes an article, in summary and in full mode.

Every article of a corpus folder (as benchmarks/corpus.py writes them) is parsed
once, then rendered `--repeat` times in each mode; the script prints the median
time per article of each mode (the median over the repeats of the mean over
the corpus) and the median of the per-article times.

Summary mode renders each article as the archive cards do (load._carded): the
feeds' content in summary mode and no subtitle, so the summary is taken from
the body. Full mode renders each article as it is, for a feed in full mode.

With `--check`, every article is rendered by the code as it was before the
HTML pass was made faster (tests/content_reference.py) too, in both modes, and
the script exits 1 if any content, summary, flattened flag or warning differs.

Run from the repository root::

    python benchmarks/content_speed.py /tmp/feedpub-bench/10000/corpus
    python benchmarks/content_speed.py /tmp/feedpub-bench/10000/corpus --check --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from feedpub.config import default_config
from feedpub.content import Rendered, render_article
from feedpub.model import Article, ContentMode, FeedsConfig
from feedpub.parse import parse_article

Render = Callable[..., Rendered]


def load(folder: Path, limit: int | None) -> list[Article]:
    """The corpus's articles, parsed with their bodies."""
    config = default_config()
    articles = []
    for path in sorted(folder.rglob("*.md"))[:limit]:
        parsed = parse_article(path.read_bytes(), str(path), config, str(path.relative_to(folder)))
        if parsed.article is not None:
            articles.append(parsed.article)
    return articles


def cases(articles: list[Article]) -> dict[str, list[tuple[Article, FeedsConfig]]]:
    summary = FeedsConfig(content=ContentMode.SUMMARY)
    full = FeedsConfig(content=ContentMode.FULL)
    return {
        "summary": [(replace(article, subtitle=None), summary) for article in articles],
        "full": [(article, full) for article in articles],
    }


def timed(render: Render, work: list[tuple[Article, FeedsConfig]]) -> list[float]:
    times = []
    for article, feeds in work:
        start = time.perf_counter()
        render(article, feeds)
        times.append(time.perf_counter() - start)
    return times


def reference() -> Render:
    """render_article as it was before the HTML pass was made faster."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import content_reference  # type: ignore[import-not-found]

    render: Render = content_reference.render_article
    return render


def check(work: dict[str, list[tuple[Article, FeedsConfig]]]) -> int:
    old_render = reference()
    differences = 0
    for mode, pairs in work.items():
        for article, feeds in pairs:
            new = render_article(article, feeds)
            old = old_render(article, feeds)
            if tuple(new) != tuple(old):
                differences += 1
                print(f"{mode}: {article.path}: differs", file=sys.stderr)
        print(f"{mode}: {len(pairs)} articles compared with the reference")
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="a folder of articles")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each mode (default 5)")
    parser.add_argument("--limit", type=int, help="only the first LIMIT articles")
    parser.add_argument("--check", action="store_true", help="compare with the reference")
    parser.add_argument(
        "--compare", action="store_true", help="time the reference too, runs interleaved"
    )
    options = parser.parse_args()
    articles = load(options.corpus, options.limit)
    work = cases(articles)
    if options.check and check(work):
        return 1
    print(f"{len(articles)} articles from {options.corpus}")
    renders: dict[str, Render] = {"now": render_article}
    if options.compare:
        renders = {"reference": reference(), **renders}
    for mode, pairs in work.items():
        means: dict[str, list[float]] = {name: [] for name in renders}
        medians: dict[str, list[float]] = {name: [] for name in renders}
        for render in renders.values():
            timed(render, pairs[:200])  # warm the caches
        for _ in range(options.repeat):
            for name, render in renders.items():
                times = timed(render, pairs)
                means[name].append(statistics.fmean(times))
                medians[name].append(statistics.median(times))
        for name in renders:
            print(
                f"{mode:>8} {name:>9}: {statistics.median(means[name]) * 1e6:7.1f} µs an article "
                f"(mean), {statistics.median(medians[name]) * 1e6:7.1f} µs (median article); "
                f"runs: {' '.join(f'{mean * 1e6:.0f}' for mean in means[name])}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
