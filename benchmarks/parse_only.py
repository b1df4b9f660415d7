"""Time parsing alone: every article file of a corpus, read once into memory, then parsed.

What it measures: the median, over ``--runs`` runs, of the wall time that
:func:`feedpub.parse.parse_article` takes over every file (bodies kept, as a
cold build with archives parses them), and the same for the work a build's
parsing step does per file (:func:`feedpub.load._parse_file`: read, parse,
card), in one process, and for :func:`feedpub.load.load_articles` with
``--jobs`` worker processes. Reading the files is done once, before timing, for
the first measure; the others read them as a build does (from the page cache).

Run from the repository root, with feedpub installed::

    python benchmarks/parse_only.py /tmp/feedpub-bench/10000/corpus
    python benchmarks/parse_only.py /tmp/feedpub-bench/100000/corpus --runs 3 --jobs 2
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from feedpub.config import read_config
from feedpub.load import _parse_file, article_files, load_articles
from feedpub.parse import parse_article

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--config", type=Path, default=Path("feedpub.toml"))
    args = parser.parse_args()
    config = read_config(args.config, optional=True)
    files = article_files(args.corpus)
    raws = [(file, Path(file.path).read_bytes()) for file in files]
    timings: dict[str, list[float]] = {"parse_article": [], "_parse_file": [], "load_articles": []}
    for _ in range(args.runs):
        gc.collect()
        start = time.perf_counter()
        for file, raw in raws:
            parse_article(raw, file.path, config, file.source, now=NOW)
        timings["parse_article"].append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        for file in files:
            _parse_file(file, None, config, 1 << 30, False, now=NOW, cards=True)
        timings["_parse_file"].append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        load_articles(args.corpus, config, files=files, jobs=args.jobs, now=NOW, cards=True)
        timings["load_articles"].append(time.perf_counter() - start)
    print(f"{len(files)} files, {args.runs} runs, medians:")
    for name, values in timings.items():
        median = statistics.median(values)
        jobs = f" (--jobs {args.jobs})" if name == "load_articles" else ""
        print(f"  {name}{jobs}: {median:.3f} s, {median / len(files) * 1e6:.1f} µs a file")


if __name__ == "__main__":
    main()
