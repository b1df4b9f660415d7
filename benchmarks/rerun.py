"""Time the two reruns a cron job makes most: nothing changed, and every file touched.

Two feedpub commands (``--before``, an older version, and ``--after``) build
the same corpus into output folders of their own; their runs are interleaved
(before, after, before, after, …) so that the machine's load weighs on both
alike, and the median and the spread of each are printed.

- ``nochange``: a rerun with no file changed (the output folder built and
  settled beforehand);
- ``touch``: a rerun after every article file was touched (``os.utime``: new
  times, same bytes). Touching changes the corpus's times: give a copy of a
  benchmark corpus, never one that others time at the same moment.

feedpub distrusts a stat taken within 2 s of a build's start (the racily-clean
rule), so every timed run starts at least 2.5 s after the last change. Waits
are not timed. Run from the repository root::

    cp -a /tmp/feedpub-bench/100000/corpus /tmp/rerun/corpus
    python benchmarks/rerun.py --corpus /tmp/rerun/corpus --work /tmp/rerun \\
        --before /work/main/.venv/bin/feedpub --after .venv/bin/feedpub --runs 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

NOW = "2026-01-01T00:00:00Z"
SETTLE = 2.5  # seconds after a change before a timed build (RACY_NS is 2 s)


def build(feedpub: str, corpus: Path, out: Path) -> float:
    """One `feedpub build -q`, its wall time."""
    command = [feedpub, "build", "--articles", str(corpus), "--out", str(out), "--now", NOW, "-q"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def touch(corpus: Path) -> float:
    """Touch every article file; the moment it was done."""
    for folder, _, names in os.walk(corpus):
        for name in names:
            os.utime(os.path.join(folder, name))
    return time.monotonic()


def settle(since: float) -> None:
    time.sleep(max(0.0, since + SETTLE - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="output folders go here")
    parser.add_argument("--before", required=True, help="the feedpub command to compare with")
    parser.add_argument("--after", required=True, help="the feedpub command measured")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=["nochange", "touch"])
    arguments = parser.parse_args()
    tools = {"before": arguments.before, "after": arguments.after}
    outs = {name: arguments.work / f"out-{name}" for name in tools}
    changed = time.monotonic()
    for name, feedpub in tools.items():  # built (cold when new) and settled, not timed
        build(feedpub, arguments.corpus, outs[name])
    settle(changed)
    for name, feedpub in tools.items():
        build(feedpub, arguments.corpus, outs[name])
    times: dict[tuple[str, str], list[float]] = {}
    for scenario in arguments.scenarios:
        for run in range(arguments.runs):
            changed = touch(arguments.corpus) if scenario == "touch" else time.monotonic() - SETTLE
            settle(changed)
            order = list(tools) if run % 2 == 0 else list(reversed(tools))
            for name in order:
                took = build(tools[name], arguments.corpus, outs[name])
                times.setdefault((scenario, name), []).append(took)
                print(f"{scenario} {name} run {run + 1}: {took:.3f} s", file=sys.stderr)
    print("| scenario | feedpub | median | min | max | runs |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for (scenario, name), values in times.items():
        print(
            f"| {scenario} | {name} | {statistics.median(values):.3f} s | {min(values):.3f} s "
            f"| {max(values):.3f} s | {len(values)} |"
        )


if __name__ == "__main__":
    main()
