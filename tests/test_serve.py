"""`feedpub serve`: a real server on 127.0.0.1, asked by real HTTP clients."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from conftest import build_site, read_feed, run, write_article

from feedpub.config import load_config
from feedpub.delivery.serve import Server, Settings, Watcher, accepts_gzip, resolve

CONFIG = """
[site]
title = "Serve Test"
url = "https://news.example/"
feeds_url = "https://cdn.news.example/feeds/"

[websub]
hubs = ["https://hub.example/", "https://other-hub.example/publish"]

[serve]
max_age = 120
"""

ARTICLE = """
title: {title}
section: World
topics: [Trade, 東アジア]
published: 2021-03-30T09:15:00-04:00
"""

Response = tuple[int, http.client.HTTPMessage, bytes]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built site plus hand-made files: an index, other types, dotfiles and symlinks."""
    root = tmp_path_factory.mktemp("serve-site")
    write_article(root / "articles", "first.md", ARTICLE.format(title="First"))
    (root / "feedpub.toml").write_text(CONFIG, encoding="utf-8")
    result = build_site(root / "articles", root / "feeds", root / "feedpub.toml", "--no-ping")
    assert result.exit_code == 0, result.output
    feeds = root / "feeds"
    (feeds / "index.html").write_text("<!doctype html><title>Feeds</title>\n", encoding="utf-8")
    (feeds / "index.opml").write_text('<opml version="2.0"/>\n', encoding="utf-8")
    (feeds / "notes.txt").write_text("plain text\n", encoding="utf-8")
    (feeds / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (feeds / "sections" / "index.html").write_text("<p>sections</p>\n", encoding="utf-8")
    (feeds / ".hidden").mkdir()
    (feeds / ".hidden" / "secret.txt").write_text("hidden\n", encoding="utf-8")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.atom").write_text("<secret/>\n", encoding="utf-8")
    (feeds / "escape.atom").symlink_to(outside / "secret.atom")
    (feeds / "outside-dir").symlink_to(outside, target_is_directory=True)
    (feeds / "state-link.atom").symlink_to(feeds / ".feedpub-state")
    (feeds / "hidden-dir").symlink_to(feeds / ".hidden", target_is_directory=True)
    (feeds / "alias.atom").symlink_to("all.atom")  # inside the folder: allowed
    return root


def start(root: Path, settings: Settings) -> Iterator[Server]:
    """A server on a free port of 127.0.0.1, in a thread, until the test is done."""
    server = Server(("127.0.0.1", 0), root, settings)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[Server]:
    """The site's feeds served with its configuration (two hubs, max_age 120)."""
    config = load_config((site / "feedpub.toml").read_text(encoding="utf-8"))
    yield from start(site / "feeds", Settings.of(config))


def get(server: Server, target: str, method: str = "GET", **headers: str) -> Response:
    """One request on a fresh connection: status, headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        connection.request(
            method, target, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def etag_of(data: bytes, suffix: str = "") -> str:
    return f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}{suffix}"'


# -- media types and headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "content_type"),
    [
        ("/all.atom", "application/atom+xml; charset=utf-8"),
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/all.json", "application/feed+json; charset=utf-8"),
        ("/index.opml", "text/x-opml; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/notes.txt", "text/plain; charset=utf-8"),
        ("/logo.png", "image/png"),
    ],
)
def test_each_format_has_its_media_type(server: Server, target: str, content_type: str) -> None:
    """Feeds, indexes and other files carry their media type; text says charset=utf-8."""
    status, headers, _ = get(server, target)
    assert status == 200
    assert headers["Content-Type"] == content_type


def test_a_feed_carries_every_header(server: Server, site: Path) -> None:
    """Strong ETag of the bytes, Last-Modified of the mtime, max-age, Vary, CORS, length."""
    path = site / "feeds" / "all.atom"
    status, headers, body = get(server, "/all.atom")
    assert status == 200
    assert body == path.read_bytes()
    assert headers["ETag"] == etag_of(body)
    assert not headers["ETag"].startswith("W/")
    assert headers["Last-Modified"] == formatdate(path.stat().st_mtime, usegmt=True)
    assert headers["Cache-Control"] == "max-age=120"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Content-Encoding"] is None


@pytest.mark.parametrize("target", ["/all.atom", "/all.rss", "/all.json", "/index.opml"])
def test_feeds_allow_every_origin(server: Server, target: str) -> None:
    """Web readers fetch feeds across origins."""
    assert get(server, target)[1]["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("target", ["/index.html", "/notes.txt", "/logo.png"])
def test_other_documents_carry_no_cors_header(server: Server, target: str) -> None:
    """CORS is for feeds; pages and images are not opened to other origins."""
    assert get(server, target)[1]["Access-Control-Allow-Origin"] is None


def test_a_binary_file_is_not_compressed_and_does_not_vary(server: Server) -> None:
    """An image is sent as it is, whatever the client accepts."""
    status, headers, body = get(server, "/logo.png", Accept_Encoding="gzip")
    assert status == 200
    assert headers["Content-Encoding"] is None
    assert headers["Vary"] is None
    assert body.startswith(b"\x89PNG")


def test_websub_links_name_each_hub_and_the_feeds_own_self(server: Server, site: Path) -> None:
    """With hubs configured, Link carries rel=hub for each and rel=self as the feed says it."""
    path = site / "feeds" / "topics" / "東アジア.atom"
    own_self = next(link.href for link in read_feed(path).feed.links if link.rel == "self")
    assert (
        own_self
        == "https://cdn.news.example/feeds/topics/%E6%9D%B1%E3%82%A2%E3%82%B8%E3%82%A2.atom"
    )
    _, headers, _ = get(server, "/topics/%E6%9D%B1%E3%82%A2%E3%82%B8%E3%82%A2.atom")
    assert headers.get_all("Link") == [
        '<https://hub.example/>; rel="hub"',
        '<https://other-hub.example/publish>; rel="hub"',
        f'<{own_self}>; rel="self"',
    ]
    assert get(server, "/index.html")[1]["Link"] is None


def test_the_json_feeds_self_link_is_its_feed_url(server: Server, site: Path) -> None:
    """JSON Feed names itself in `feed_url`: the Link rel=self header says the same."""
    feed = json.loads((site / "feeds" / "all.json").read_bytes())
    _, headers, _ = get(server, "/all.json")
    assert f'<{feed["feed_url"]}>; rel="self"' in headers.get_all("Link")


def test_no_link_headers_without_hubs(site: Path) -> None:
    """No hub configured, no Link header."""
    for server in start(site / "feeds", Settings(max_age=300)):
        _, headers, _ = get(server, "/all.atom")
        assert headers["Link"] is None
        assert headers["Cache-Control"] == "max-age=300"


# -- gzip -------------------------------------------------------------------------------


def test_gzip_round_trip_with_its_own_etag(server: Server, site: Path) -> None:
    """Asked for gzip, the body decompresses to the file's bytes, under an ETag of its own."""
    original = (site / "feeds" / "all.rss").read_bytes()
    status, headers, body = get(server, "/all.rss", Accept_Encoding="gzip, deflate, br")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body) < len(original)
    assert gzip.decompress(body) == original
    assert headers["ETag"] == etag_of(original, "-gzip")
    assert headers["ETag"] != get(server, "/all.rss")[1]["ETag"]


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("GZIP;Q=0.5", True),
        ("br, gzip;q=0.8", True),
        ("*", True),
        ("*;q=0.5", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*;q=0", False),
        ("identity;q=1, gzip;q=0.5", False),
        ("deflate, br", False),
        ("gzip;q=nonsense", False),
        ("", False),
    ],
)
def test_accept_encoding_q_values(accept: str, gzipped: bool) -> None:
    """gzip is sent when its q-value (or that of `*`) is above 0 and not below identity's."""
    assert accepts_gzip(accept) is gzipped


def test_gzip_refused_by_q_zero_over_http(server: Server) -> None:
    """`gzip;q=0` gets the plain bytes, still with Vary."""
    _, headers, body = get(server, "/all.atom", Accept_Encoding="gzip;q=0, identity")
    assert headers["Content-Encoding"] is None
    assert headers["Vary"] == "Accept-Encoding"
    assert body.startswith(b"<?xml")


# -- conditional requests ---------------------------------------------------------------


def test_if_none_match_gives_304_with_the_validators_and_no_body(server: Server) -> None:
    """A matching ETag: 304, no body, the same ETag, Cache-Control, Vary and CORS."""
    _, full, _ = get(server, "/all.atom")
    status, headers, body = get(server, "/all.atom", If_None_Match=full["ETag"])
    assert (status, body) == (304, b"")
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Access-Control-Allow-Origin"):
        assert headers[name] == full[name], name
    assert headers["Content-Length"] is None


@pytest.mark.parametrize(
    "form",
    ["{etag}", "W/{etag}", '"other", {etag}', '"a,b", W/"c" ,{etag}', "*"],
)
def test_if_none_match_lists_weak_tags_and_star(server: Server, form: str) -> None:
    """Lists, weak comparison (W/ ignored) and `*` all match (RFC 9110 §13.1.2)."""
    etag = get(server, "/all.atom")[1]["ETag"]
    assert get(server, "/all.atom", If_None_Match=form.format(etag=etag))[0] == 304


def test_if_none_match_wins_over_if_modified_since(server: Server) -> None:
    """An ETag that does not match means 200, even with a Last-Modified that would give 304."""
    _, full, _ = get(server, "/all.atom")
    status, _, body = get(
        server, "/all.atom", If_None_Match='"stale"', If_Modified_Since=full["Last-Modified"]
    )
    assert status == 200
    assert body


def test_etag_is_per_encoding(server: Server) -> None:
    """The plain ETag does not validate the gzip variant, and the gzip one does."""
    plain = get(server, "/all.atom")[1]["ETag"]
    coded = get(server, "/all.atom", Accept_Encoding="gzip")[1]["ETag"]
    assert coded == plain[:-1] + '-gzip"'
    assert get(server, "/all.atom", Accept_Encoding="gzip", If_None_Match=plain)[0] == 200
    assert get(server, "/all.atom", Accept_Encoding="gzip", If_None_Match=coded)[0] == 304
    assert get(server, "/all.atom", If_None_Match=coded)[0] == 200


@pytest.mark.parametrize(("offset", "status"), [(0, 304), (3600, 200), (-1, 200), (-3600, 200)])
def test_if_modified_since(server: Server, site: Path, offset: int, status: int) -> None:
    """Equal to Last-Modified: 304; earlier: 200; later than the server's clock (the document
    was just built): not a valid date, ignored, 200."""
    mtime = int((site / "feeds" / "all.atom").stat().st_mtime)
    since = formatdate(mtime + offset, usegmt=True)
    assert get(server, "/all.atom", If_Modified_Since=since)[0] == status


def test_an_unreadable_if_modified_since_is_ignored(server: Server) -> None:
    """A date that is not an HTTP date gets the document."""
    assert get(server, "/all.atom", If_Modified_Since="yesterday")[0] == 200


# -- methods ----------------------------------------------------------------------------


def test_head_sends_the_headers_of_get_and_no_body(server: Server) -> None:
    """HEAD: GET's headers, Content-Length included, and no body on a kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        connection.request("HEAD", "/all.atom", headers={"Accept-Encoding": "gzip"})
        head = connection.getresponse()
        assert head.read() == b""
        connection.request("GET", "/all.atom", headers={"Accept-Encoding": "gzip"})
        full = connection.getresponse()  # garbled if HEAD had sent a body
        body = full.read()
    finally:
        connection.close()
    assert head.status == full.status == 200
    assert {k: v for k, v in head.headers.items() if k != "Date"} == {
        k: v for k, v in full.headers.items() if k != "Date"
    }
    assert int(head.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_405_with_allow(server: Server, method: str) -> None:
    """Only GET and HEAD; anything else is 405 naming them."""
    status, headers, _ = get(server, "/all.atom", method)
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


# -- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/.feedpub-state",
        "/.feedpub-cache",
        "/.feedpub.lock",
        "/%2efeedpub-state",
        "/.hidden/secret.txt",
        "/sections/../.feedpub-state",
        "/../outside/secret.atom",
        "/%2e%2e/outside/secret.atom",
        "/%2E%2E/outside/secret.atom",
        "/sections/%2e%2e/%2e%2e/outside/secret.atom",
        "/..%2foutside%2fsecret.atom",
        "/sections%2f..%2f..%2foutside%2fsecret.atom",
        "/..%5coutside%5csecret.atom",
        "/..\\outside\\secret.atom",
        "/all.atom%00",
        "/%00",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/%C0%AE%C0%AE/outside/secret.atom",
        "/escape.atom",
        "/outside-dir/secret.atom",
        "/state-link.atom",
        "/hidden-dir/secret.txt",
        "/all.atom/",
        "/missing.atom",
        "etc/passwd",
        "http://127.0.0.1/../outside/secret.atom",
    ],
)
def test_dotfiles_escapes_and_missing_files_are_all_the_same_404(
    server: Server, target: str
) -> None:
    """Nothing outside the folder or behind a dot is served, and the 404 tells nothing."""
    status, headers, body = get(server, target)
    assert status == 404
    assert body == b"404 Not Found\n"
    assert headers["ETag"] is None


def test_a_symlink_inside_the_folder_is_served(server: Server, site: Path) -> None:
    """A link that stays inside the folder is followed."""
    status, _, body = get(server, "/alias.atom")
    assert (status, body) == (200, (site / "feeds" / "all.atom").read_bytes())


def test_resolve_refuses_without_touching_the_disk(tmp_path: Path) -> None:
    """Decoded segments are judged before any path is joined: `%2f` makes no new segment."""
    root = os.path.realpath(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.atom").write_text("x")
    found = resolve(root, "/a/b.atom?x=1#top")
    assert found is not None
    assert getattr(found, "name", None) == "a/b.atom"
    assert resolve(root, "/a%2fb.atom") is None


def test_the_root_and_folders_serve_their_index(server: Server, site: Path) -> None:
    """`/` and `/sections/` serve index.html; a folder without one is 404."""
    assert get(server, "/")[2] == (site / "feeds" / "index.html").read_bytes()
    status, headers, body = get(server, "/sections/")
    assert (status, body) == (200, b"<p>sections</p>\n")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert get(server, "/topics/")[0] == 404


def test_a_folder_without_its_slash_is_redirected(server: Server) -> None:
    """As static servers do, so that the index's relative links resolve."""
    status, headers, _ = get(server, "/sections?x=1")
    assert status == 301
    assert headers["Location"] == "/sections/?x=1"


# -- documents replaced while served -----------------------------------------------------


def test_a_document_replaced_by_rename_is_never_torn(tmp_path: Path) -> None:
    """While a writer swaps two versions in by rename, each response is one whole version."""
    versions = [b"<a>" + b"a" * 400_000 + b"</a>", b"<b>" + b"b" * 300_000 + b"</b>"]
    target = tmp_path / "doc.atom"
    target.write_bytes(versions[0])
    done = threading.Event()

    def writer() -> None:
        turn = 0
        while not done.is_set() and turn < 2_000:
            temporary = tmp_path / f".doc.{turn}.tmp"
            temporary.write_bytes(versions[turn % 2])
            os.replace(temporary, target)
            turn += 1

    thread = threading.Thread(target=writer)
    for server in start(tmp_path, Settings()):
        thread.start()
        try:
            for _ in range(60):
                status, headers, body = get(server, "/doc.atom")
                assert status == 200
                assert body in versions
                assert headers["ETag"] == etag_of(body)
                assert headers["Content-Length"] == str(len(body))
        finally:
            done.set()
            thread.join(10)


def test_a_rewritten_document_is_served_anew(tmp_path: Path) -> None:
    """A file replaced with the same size gets its new bytes and a new ETag (no stale cache)."""
    (tmp_path / "doc.rss").write_bytes(b"<rss>one</rss>")
    for server in start(tmp_path, Settings()):
        first = get(server, "/doc.rss")
        temporary = tmp_path / ".doc.tmp"
        temporary.write_bytes(b"<rss>two</rss>")
        os.replace(temporary, tmp_path / "doc.rss")
        second = get(server, "/doc.rss")
        assert (first[2], second[2]) == (b"<rss>one</rss>", b"<rss>two</rss>")
        assert first[1]["ETag"] != second[1]["ETag"]
        assert get(server, "/doc.rss", If_None_Match=first[1]["ETag"])[0] == 200


# -- curl -------------------------------------------------------------------------------


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    executable = shutil.which("curl")
    if executable is None:
        pytest.skip("curl is not installed: the same checks ran with http.client")
    return subprocess.run([executable, "-sS", *args], capture_output=True, timeout=20, check=True)


def test_curl_compressed_get_and_conditional_get(server: Server, site: Path) -> None:
    """curl --compressed gets the file's bytes; sending back its ETag gets 304."""
    url = f"{server.url}all.atom"
    result = curl("--compressed", "-D", "-", "-o", "/dev/null", url)
    head = result.stdout.decode("latin-1").lower()
    assert "content-encoding: gzip" in head
    assert "vary: accept-encoding" in head
    assert "content-type: application/atom+xml; charset=utf-8" in head
    body = curl("--compressed", url).stdout
    assert body == (site / "feeds" / "all.atom").read_bytes()
    etag = next(
        line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("etag:")
    )
    code = curl(
        "--compressed", "-H", f"If-None-Match: {etag}", "-o", "/dev/null", "-w", "%{http_code}", url
    )
    assert code.stdout == b"304"


def test_curl_path_as_is_cannot_climb_out(server: Server) -> None:
    """curl sends `..` as typed with --path-as-is: 404."""
    url = f"{server.url}../outside/secret.atom"
    code = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", url)
    assert code.stdout == b"404"


# -- the command ------------------------------------------------------------------------


def test_serve_announces_itself_and_stops_cleanly_on_ctrl_c(site: Path) -> None:
    """One `Serving … at http://…/` line; Ctrl-C ends it with exit 0 and no traceback."""
    command = [sys.executable, "-m", "feedpub", "serve", "--port", "0", "--out", "feeds", "-q"]
    with subprocess.Popen(command, cwd=site, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            assert line.startswith("Serving feeds at http://127.0.0.1:"), line
            port = int(line.rsplit(":", 1)[1].strip(" /\n"))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/all.atom")
            assert connection.getresponse().headers["Cache-Control"] == "max-age=120"
            connection.close()
            process.send_signal(signal.SIGINT)
            # a serve that does not stop is killed: the test fails, the suite does not hang
            deadline = threading.Timer(30, process.kill)
            deadline.start()
            try:
                rest = process.stderr.read()
            finally:
                deadline.cancel()
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert "Traceback" not in rest
    assert rest == "feedpub: stopped\n"


def test_serve_without_the_output_folder_is_a_usage_error(tmp_path: Path) -> None:
    """Nothing to serve: exit 2, naming the folder."""
    result = run("serve", "--out", tmp_path / "nowhere", "--port", "0")
    assert result.exit_code == 2
    assert "nowhere: the output folder does not exist" in result.output


def test_serve_on_a_port_in_use_is_a_usage_error(site: Path) -> None:
    """A port already taken: exit 2 and the reason, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--out", site / "feeds", "--port", str(port))
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_watch_without_watchfiles_says_what_to_install(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--watch needs the serve extra; without it, exit 2 and the pip command."""
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    result = run("serve", "--watch", "--articles", site / "articles", "--out", site / "feeds")
    assert result.exit_code == 2
    assert "pip install 'feedpub[serve]'" in result.output


# -- watching ---------------------------------------------------------------------------


def test_watch_rebuilds_when_an_article_changes(tmp_path: Path) -> None:
    """An edited article is in the served feed shortly after, through `feedpub build`'s path."""
    from feedpub.cli import _serve_rebuild

    articles, out, config = tmp_path / "articles", tmp_path / "feeds", tmp_path / "feedpub.toml"
    write_article(articles, "first.md", ARTICLE.format(title="Before"))
    config.write_text(CONFIG, encoding="utf-8")
    assert _serve_rebuild(articles, out, config) is not None
    rebuilt = threading.Event()

    def rebuild() -> None:
        _serve_rebuild(articles, out, config)
        rebuilt.set()

    watcher = Watcher(articles, config, rebuild, debounce_ms=50, settle=0.05)
    watcher.start()
    try:
        for server in start(out, Settings()):
            assert b"Before" in get(server, "/all.atom")[2]
            for _attempt in range(3):  # a change made before the watch is set up goes unseen
                write_article(articles, "first.md", ARTICLE.format(title="After"))
                if rebuilt.wait(1):
                    break
            assert rebuilt.is_set(), "no rebuild within 3 s"
            assert b"After" in get(server, "/all.atom")[2]
    finally:
        watcher.stop()


def test_a_failed_rebuild_prints_its_problem_and_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken configuration: the error is printed, nothing raised, the old feeds stay."""
    from feedpub.cli import _serve_rebuild

    config = tmp_path / "feedpub.toml"
    config.write_text("[site]\ntittle = 'x'\n", encoding="utf-8")
    write_article(tmp_path / "articles", "first.md", ARTICLE.format(title="First"))
    assert _serve_rebuild(tmp_path / "articles", tmp_path / "feeds", config) is None
    assert "tittle" in capsys.readouterr().err
    assert not (tmp_path / "feeds").exists()


def test_connections_beyond_the_limit_wait_and_threads_stay_bounded(site: Path) -> None:
    """With max_connections held by idle clients, the server starts no more threads; a client
    beyond the limit is answered once a slot frees."""
    import time

    from feedpub.delivery.serve import Server as Serving

    class Small(Serving):
        max_connections = 4

    server = Small(("127.0.0.1", 0), site / "feeds", Settings.of(load_config("")))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = server.server_address[1]
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
    try:
        for connection in idle:
            connection.sendall(b"GET /all.atom HTTP/1.1\r\n")  # headers never finished
        time.sleep(0.3)
        assert threading.active_count() - before <= 4
        for connection in idle[:4]:
            connection.close()
        waiting = socket.create_connection(("127.0.0.1", port), timeout=10)
        waiting.sendall(b"HEAD /all.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        idle[4].close()
        idle[5].close()
        assert waiting.recv(64).startswith(b"HTTP/1.1 200")
        waiting.close()
    finally:
        for connection in idle:
            connection.close()
        server.shutdown()
        server.server_close()
        thread.join(5)
