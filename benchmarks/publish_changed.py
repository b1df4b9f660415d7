"""How much a publish costs when little changed: time and S3 requests against SeaweedFS.

    .venv/bin/python benchmarks/publish_changed.py [--documents 2000]

Makes a folder of N documents (feed-sized, 20 KB each, in feedpub's layout),
starts SeaweedFS on loopback (tests/peers.py), and times four publishes: the
first (everything uploaded), one with nothing changed, one with one document
changed, one with one document removed. It also times the alternative of
asking the store about every object (one HEAD each) to show what the listing
and the manifest save.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from peers import ACCESS_KEY, BUCKET, SECRET_KEY, start_seaweedfs, stop

from feedpub.config import default_config
from feedpub.delivery.s3 import publish
from feedpub.model import PublishConfig


def make_folder(out: Path, documents: int) -> list[Path]:
    paths = []
    for number in range(documents):
        kind = ("archive/all", "sections", "topics")[number % 3]
        path = out / kind / f"doc-{number:05d}.{('atom', 'rss', 'json')[number % 3]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((f"<entry>{number}</entry>\n" * 1000).encode()[:20_000])
        paths.append(path)
    (out / "index.html").write_text("<html></html>\n")
    (out / ".feedpub-state").write_bytes(b"never uploaded")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "store").mkdir()
        store = start_seaweedfs(root / "store")
        try:
            out = root / "feeds"
            paths = make_folder(out, args.documents)
            config = default_config()
            config = type(config)(
                site=config.site,
                publish=PublishConfig(url=f"s3://{BUCKET}/bench/", endpoint_url=store.endpoint,
                                      region="us-east-1"),
            )  # fmt: skip
            print(f"{args.documents + 1} documents, SeaweedFS on loopback")
            print("| publish | uploaded | deleted | requests | seconds |")
            print("| --- | ---: | ---: | ---: | ---: |")

            def timed(label: str) -> None:
                started = time.perf_counter()
                result = publish(out, config)
                seconds = time.perf_counter() - started
                print(f"| {label} | {len(result.uploaded)} | {len(result.deleted)} | "
                      f"{result.requests} | {seconds:.3f} |")  # fmt: skip

            timed("first (all new)")
            timed("nothing changed")
            paths[len(paths) // 2].write_bytes(b"<entry>changed</entry>\n")
            timed("one document changed")
            paths[1].unlink()
            timed("one document removed")
            timed("nothing changed, again")

            client = store.client()
            started = time.perf_counter()
            for path in paths[2:]:
                client.head_object(Bucket=BUCKET, Key="bench/" + path.relative_to(out).as_posix())
            seconds = time.perf_counter() - started
            print(f"| alternative: one HEAD per object | - | - | {len(paths) - 2} | "
                  f"{seconds:.3f} |")  # fmt: skip
        finally:
            stop(store.process)


if __name__ == "__main__":
    main()
