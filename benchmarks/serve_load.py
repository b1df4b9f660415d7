"""Load on `feedpub serve`: requests per second and latency at 50 concurrent clients.

Builds a synthetic site (benchmarks/corpus.py, 200 articles by default), starts
`feedpub serve -q` on 127.0.0.1 in a child process, and runs three scenarios against
its `all.atom` (50 full-content entries):

- full GET, no coding (200 with the whole document);
- full GET with `Accept-Encoding: gzip` (200, the gzip variant);
- conditional GET with the current ETag in `If-None-Match` (304, no body).

Each scenario runs with a Python client (a pool of threads, one persistent
http.client connection each) and, where `wrk` is installed, with wrk too (a client
that costs the server's cores far less). Every run is bounded in requests and in
seconds; any error (a connection failure, an unexpected status, a short body) is
counted and makes the script exit 1. Only 127.0.0.1 is ever contacted.

    python benchmarks/serve_load.py [--clients 50] [--requests 20000] [--seconds 15]
                                    [--articles 200] [--markdown RESULTS-delivery.md]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"  # the only address this script sends to
DOCUMENT = "/all.atom"


@dataclass(frozen=True)
class Scenario:
    name: str
    headers: dict[str, str]
    status: int


@dataclass(frozen=True)
class Result:
    scenario: str
    client: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    body_bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def build_site(folder: Path, articles: int) -> Path:
    """A corpus of `articles` built into folder/feeds with feedpub build."""
    corpus = folder / "articles"
    subprocess.run(
        [sys.executable, str(HERE / "corpus.py"), str(corpus), str(articles)], check=True
    )
    feeds = folder / "feeds"
    subprocess.run(
        [sys.executable, "-m", "feedpub", "build", "--articles", str(corpus), "--out", str(feeds),
         "--now", "2026-01-01T00:00:00Z", "-q"],
        check=True, cwd=folder,
    )  # fmt: skip
    return feeds


def start_server(feeds: Path) -> tuple[subprocess.Popen[str], int]:
    """`feedpub serve -q` on a free port of 127.0.0.1; its process and port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "serve", "--host", HOST, "--port", "0", "--out",
         str(feeds), "-q"],
        stderr=subprocess.PIPE, text=True, cwd=feeds.parent,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        process.kill()
        raise SystemExit(f"serve did not start: {line!r}")
    return process, int(match.group(1))


def python_client(
    port: int, scenario: Scenario, clients: int, requests: int, seconds: float
) -> Result:
    """`clients` threads, each with one kept-alive connection, until `requests` or `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    body_bytes = [0] * clients
    remaining = [requests]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    start_line = threading.Barrier(clients + 1)

    def take() -> bool:
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        start_line.wait()
        while time.perf_counter() < deadline and take():
            began = time.perf_counter()
            try:
                connection.request("GET", DOCUMENT, headers=scenario.headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != scenario.status:
                    errors[index] += 1
                body_bytes[index] = len(body)
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=10)
                continue
            latencies[index].append(time.perf_counter() - began)
        connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(latency for per_client in latencies for latency in per_client)
    return Result(
        scenario.name, "python", len(every), sum(errors), elapsed,
        1000 * _percentile(every, 50), 1000 * _percentile(every, 99), max(body_bytes),
    )  # fmt: skip


def wrk_client(wrk: str, port: int, scenario: Scenario, clients: int, seconds: float) -> Result:
    """wrk for `seconds` with `clients` connections on 2 threads; its latency percentiles."""
    headers = [
        item for name, value in scenario.headers.items() for item in ("-H", f"{name}: {value}")
    ]
    # wrk counts non-2xx/3xx responses, socket errors and timeouts; a 304 is a success to it
    command = [wrk, "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "5s", *headers, f"http://{HOST}:{port}{DOCUMENT}"]  # fmt: skip
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", output).group(1))  # type: ignore[union-attr]
    duration = re.search(r"requests in ([\d.]+)(m?s)", output)
    assert duration is not None
    elapsed = float(duration.group(1)) / (1000 if duration.group(2) == "ms" else 1)
    errors = 0
    for pattern in (
        r"Non-2xx or 3xx responses: (\d+)",
        r"connect (\d+), read (\d+), write (\d+), timeout (\d+)",
    ):
        found = re.search(pattern, output)
        if found:
            errors += sum(int(group) for group in found.groups())
    return Result(
        scenario.name, "wrk", requests, errors, elapsed,
        _wrk_ms(output, "50%"), _wrk_ms(output, "99%"), 0,
    )  # fmt: skip


def _wrk_ms(output: str, label: str) -> float:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if not found:
        return float("nan")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return float(found.group(1)) * scale


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(percent / 100 * len(values)) - 1))
    return values[index]


def current_etag(port: int, gzip: bool) -> str:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request("GET", DOCUMENT, headers={"Accept-Encoding": "gzip"} if gzip else {})
    response = connection.getresponse()
    response.read()
    connection.close()
    etag = response.headers["ETag"]
    assert etag, "no ETag"
    return etag


def markdown(results: list[Result], args: argparse.Namespace, document: Path) -> str:
    size = document.stat().st_size
    digest = hashlib.blake2b(document.read_bytes(), digest_size=4).hexdigest()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE,
        check=False,
    ).stdout.strip()  # fmt: skip
    lines = [
        "",
        "# feedpub serve under load",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `python benchmarks/serve_load.py "
        f"--clients {args.clients} --requests {args.requests} --seconds {args.seconds} "
        f"--articles {args.articles}`, commit {commit or '?'}, Python {platform.python_version()}, "
        f"`nproc` {os.cpu_count()}; client and server on the same machine, 127.0.0.1.",
        "",
        f"Document: `{DOCUMENT}` of a {args.articles}-article synthetic corpus, {size:,} bytes "
        f"(blake2b-32 {digest}), 50 full-content entries. The server is `feedpub serve -q` "
        "(ThreadingHTTPServer, one thread per connection, keep-alive) in its own process; "
        f"{args.clients} clients, each on one persistent connection. Python client: threads with "
        "http.client in one process (its own GIL), at most `--requests` requests or `--seconds` "
        "seconds; wrk: 2 threads for `--seconds` seconds.",
        "",
        "| scenario | client | requests | errors | seconds | requests/s | p50 ms | p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(
            f"| {result.scenario} | {result.client} | {result.requests:,} | {result.errors} | "
            f"{result.seconds:.2f} | {result.rps:,.0f} | {result.p50_ms:.2f} | "
            f"{result.p99_ms:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000, help="per scenario and client")
    parser.add_argument("--seconds", type=float, default=15.0, help="at most, per run")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--no-wrk", action="store_true", help="the Python client only")
    parser.add_argument("--markdown", type=Path, help="append the results to this file")
    args = parser.parse_args()
    wrk = None if args.no_wrk else shutil.which("wrk")

    with tempfile.TemporaryDirectory(prefix="feedpub-serve-load-") as temporary:
        feeds = build_site(Path(temporary), args.articles)
        process, port = start_server(feeds)
        try:
            scenarios = [
                Scenario("full GET", {}, 200),
                Scenario("full GET, gzip", {"Accept-Encoding": "gzip"}, 200),
                Scenario(
                    "conditional GET (304)",
                    {"Accept-Encoding": "gzip", "If-None-Match": current_etag(port, gzip=True)},
                    304,
                ),
            ]
            results: list[Result] = []
            for scenario in scenarios:
                python_client(port, scenario, args.clients, 500, 5)  # warm up
                results.append(
                    python_client(port, scenario, args.clients, args.requests, args.seconds)
                )
                print(results[-1], file=sys.stderr)
                if wrk:
                    results.append(wrk_client(wrk, port, scenario, args.clients, args.seconds))
                    print(results[-1], file=sys.stderr)
        finally:
            process.terminate()
            process.wait(10)
        text = markdown(results, args, feeds / "all.atom")
    print(text)
    if args.markdown:
        with args.markdown.open("a", encoding="utf-8") as file:
            file.write(text)
    if any(result.errors for result in results):
        raise SystemExit("errors under load: see the table")


if __name__ == "__main__":
    main()
