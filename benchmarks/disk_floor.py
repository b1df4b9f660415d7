"""What the disk alone costs a build that rewrites many documents.

Writes FILES documents of SIZE bytes into a scratch folder, then rewrites every one of them
RUNS times the way feedpub's store does (each staged in a temporary file beside it, one sync
of everything, then each renamed over its document) and prints the median of each step.
Nothing is rendered: this is the floor under a rerun that changes that many documents.

At 100,000 articles, editing 1% of them rewrites about 3,200 archive pages of 75-80 kB:

    python benchmarks/disk_floor.py --files 3200 --size 80000 --folder /tmp/feedpub-bench
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from feedpub.store import _commit, _staged


def rewrite(documents: list[Path], data: bytes) -> tuple[float, float]:
    """Stage a new version of every document, then commit them; (stage, commit) seconds."""
    start = time.perf_counter()
    staged = [(_staged(path, data), path) for path in documents]
    staging = time.perf_counter() - start
    start = time.perf_counter()
    _commit(staged)
    return staging, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=3200, help="documents rewritten each run")
    parser.add_argument("--size", type=int, default=80_000, help="bytes of each document")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-folder", type=int, default=2000,
                        help="documents in each folder")  # fmt: skip
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the scratch folder is made: on the output's disk")  # fmt: skip
    arguments = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="feedpub-disk-floor-", dir=arguments.folder))
    try:
        documents = []
        for number in range(arguments.files):
            folder = scratch / str(number // arguments.per_folder)
            folder.mkdir(exist_ok=True)
            documents.append(folder / f"{number}.atom")
        for path in documents:
            path.write_bytes(os.urandom(arguments.size))
        os.sync()
        stages, commits = [], []
        for _ in range(arguments.runs):
            time.sleep(1.0)  # the disk settles between runs
            staging, committing = rewrite(documents, os.urandom(arguments.size))
            stages.append(staging)
            commits.append(committing)
        stage, commit = statistics.median(stages), statistics.median(commits)
        print(f"{arguments.files} documents of {arguments.size:,} bytes, medians of "
              f"{arguments.runs}: stage {stage:.3f} s, sync and rename {commit:.3f} s, "
              f"total {stage + commit:.3f} s "
              f"({(stage + commit) / arguments.files * 1e3:.3f} ms a document)")  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
