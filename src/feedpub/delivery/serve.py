"""`feedpub serve`: the output folder, answered as a static web server would.

For preview and small sites; production serving belongs to a static server or an
object store (the README gives the matching nginx lines). What each response carries:

- the media type of its format with ``charset=utf-8`` (:data:`MEDIA_TYPES`);
- a strong ``ETag`` of its bytes, one per content coding (the gzip variant's ends
  in ``-gzip``), and ``Last-Modified`` from the file's mtime;
- ``304`` for a matching ``If-None-Match`` (weak comparison, lists, ``*``), which
  wins over ``If-Modified-Since`` (RFC 9110 §13.2.2);
- gzip when ``Accept-Encoding`` asks for it, ``Vary: Accept-Encoding`` on every
  compressible type; ``Cache-Control: max-age``; CORS and WebSub ``Link`` headers
  on feeds.

Only ``GET`` and ``HEAD`` are allowed (405 otherwise). A path that names a dotfile
(the build state, the cache, the lock) or leads outside the folder, through ``..``,
encoded slashes, backslashes, NUL or a symbolic link, is 404, told apart from a
missing file by nothing.

A document is opened once and read whole from that descriptor, its size and mtime
taken from the same descriptor: a build replaces files by rename, so a reader
always gets one whole version. Documents are kept in memory, keyed by the
descriptor's stat (device, inode, size, mtime, ctime), so an unchanged file costs an
``open`` and an ``fstat`` and nothing else.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import socket
import stat
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..errors import UsageError
from ..layout import FEED_SUFFIXES, MEDIA_TYPES
from ..urls import quote_iri

if TYPE_CHECKING:
    from ..model import Config

# Web readers fetch these across origins: CORS allows them to.
CORS_SUFFIXES = frozenset({*FEED_SUFFIXES, ".opml"})
# WebSub topics: the documents that carry rel="hub" themselves.
HUB_SUFFIXES = frozenset(FEED_SUFFIXES)
ALLOW = "GET, HEAD"
CACHE_BYTES = 64 * 1024 * 1024  # documents kept in memory, all told
CACHE_DOCUMENT_BYTES = 8 * 1024 * 1024  # a larger file is read on every request
_TEXTUAL = frozenset({"application/json", "application/xml", "application/javascript"})
_ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')
_FORBIDDEN_IN_NAME = ("/", "\\", "\0")


@dataclass(frozen=True, slots=True)
class Settings:
    """What the configuration says about serving; replaced whole when it changes."""

    max_age: int = 300
    hubs: tuple[str, ...] = ()
    feeds_url: str = ""

    @classmethod
    def of(cls, config: Config) -> Settings:
        """The settings of a loaded configuration."""
        return cls(config.serve.max_age, config.websub.hubs, config.site.feeds_url)


def media_type(name: str) -> tuple[str, bool]:
    """The Content-Type of a file name, and whether the type is text worth compressing."""
    suffix = os.path.splitext(name)[1].lower()
    kind = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    textual = (
        kind.startswith("text/")
        or kind in _TEXTUAL
        or kind.endswith(("+xml", "+json"))
        or suffix in MEDIA_TYPES
    )
    return (f"{kind}; charset=utf-8" if textual else kind), textual


# -- paths ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A request path that names a file inside the folder."""

    path: str  # real path of the file
    name: str  # its path under the folder, "/"-separated, decoded


@dataclass(frozen=True, slots=True)
class Redirect:
    """A folder asked for without its closing slash: where it lives."""

    location: str


def resolve(root: str, target: str) -> Found | Redirect | None:
    """The file a request target names under `root` (a real path), or None for a 404.

    Each segment is percent-decoded on its own, so `%2f` cannot make a new one; a
    segment that is empty, starts with `.` (dotfiles, `.`, `..`) or holds `/`, `\\`
    or NUL refuses the request. The real path, symbolic links resolved, must lie
    inside `root` and have no dotfile on its way there.
    """
    if not target.startswith("/"):
        return None
    raw = target.split("#", 1)[0]
    raw, _, query = raw.partition("?")
    parts = raw.split("/")[1:]
    trailing = parts[-1] == ""
    if trailing:
        parts.pop()
    names = _names(parts)
    real = None if names is None else _inside(root, os.path.join(root, *names))
    if names is None or real is None:
        return None
    if os.path.isdir(real):
        if names and not trailing:
            return Redirect(raw + "/" + (f"?{query}" if query else ""))
        real = _inside(root, os.path.join(real, "index.html"))
        if real is None:
            return None
        names.append("index.html")
    elif trailing:
        return None
    return Found(real, "/".join(names))


def _names(parts: list[str]) -> list[str] | None:
    names: list[str] = []
    for part in parts:
        try:
            name = unquote(part, errors="strict")
        except UnicodeDecodeError:
            return None
        if not name or name.startswith(".") or any(c in name for c in _FORBIDDEN_IN_NAME):
            return None
        names.append(name)
    return names


def _inside(root: str, path: str) -> str | None:
    real = os.path.realpath(path)
    if real == root:
        return real
    if not real.startswith(root + os.sep):
        return None
    if any(part.startswith(".") for part in real[len(root) + 1 :].split(os.sep)):
        return None
    return real


# -- documents --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Document:
    """One file's bytes as read from one descriptor, with what its responses need."""

    body: bytes
    etag: str
    gzipped: bytes | None  # None: not a compressible type
    gzip_etag: str
    content_type: str
    last_modified: str  # HTTP date
    mtime: int  # whole seconds, as Last-Modified says


class Documents:
    """Files read whole from one descriptor each, kept while their stat is unchanged."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self._limit = limit
        self._size = 0
        self._kept: OrderedDict[tuple[int, ...], Document] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, path: str) -> Document | None:
        """The document at `path`, or None when it is not a regular file one can open."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        with open(descriptor, "rb", closefd=True) as file:
            before = os.fstat(descriptor)
            if not stat.S_ISREG(before.st_mode):
                return None
            key = _identity(before)
            with self._lock:
                document = self._kept.get(key)
                if document is not None:
                    self._kept.move_to_end(key)
                    return document
            body = file.read()
            document = _document(path, body, before)
            if _identity(os.fstat(descriptor)) == key:  # not changed in place while read
                self._keep(key, document)
            return document

    def _keep(self, key: tuple[int, ...], document: Document) -> None:
        size = len(document.body) + len(document.gzipped or b"")
        if size > CACHE_DOCUMENT_BYTES:
            return
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = document
            self._size += size
            while self._size > self._limit:
                _, dropped = self._kept.popitem(last=False)
                self._size -= len(dropped.body) + len(dropped.gzipped or b"")


def _identity(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _document(path: str, body: bytes, status: os.stat_result) -> Document:
    content_type, textual = media_type(path)
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if textual else None
    return Document(
        body=body,
        etag=f'"{digest}"',
        gzipped=gzipped,
        gzip_etag=f'"{digest}-gzip"',
        content_type=content_type,
        last_modified=formatdate(status.st_mtime, usegmt=True),
        mtime=int(status.st_mtime),
    )


# -- request headers --------------------------------------------------------------------


def accepts_gzip(header: str | None) -> bool:
    """Whether an `Accept-Encoding` value accepts gzip at least as well as no coding.

    RFC 9110 §12.5.3: q-values, `*` for any coding not named, q=0 for "not acceptable".
    """
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, _, parameters = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    weight = 0.0
        weights[coding] = weight
    star = weights.get("*", 0.0)
    gzip_weight = weights.get("gzip", weights.get("x-gzip", star))
    identity = weights.get("identity", star)  # unnamed, identity is acceptable, not preferred
    return gzip_weight > 0 and gzip_weight >= identity


def none_match(header: str, etag: str) -> bool:
    """Whether `If-None-Match` matches `etag`: `*`, or any tag by weak comparison."""
    if header.strip() == "*":
        return True
    opaque = etag.strip('"')
    return any(tag == opaque for tag in _ENTITY_TAG.findall(header))


def modified_since(header: str, mtime: int) -> bool:
    """False when `If-Modified-Since` is a valid date at or after `mtime`."""
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return True
    if since.tzinfo is None or since.timestamp() > time.time():
        return True  # a date later than the server's clock is not valid (RFC 7232 §3.3)
    return mtime > since.timestamp()


# -- the server -------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the folder; any other method is 405."""

    server: Server
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    disable_nagle_algorithm = True  # headers and body leave in separate writes
    timeout = 30  # seconds an idle kept-alive connection holds its thread

    def version_string(self) -> str:
        """The Server header: the program, no versions."""
        return "feedpub"

    def do_GET(self) -> None:
        """A document, or 304 when the client's copy is current."""
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        """The headers GET would send, no body."""
        self._answer(with_body=False)

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every other method: 405 with Allow (http.server would answer 501)."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, with_body=True, allow=ALLOW)

    def _answer(self, *, with_body: bool) -> None:
        found = resolve(self.server.root, self.path)
        if isinstance(found, Redirect):
            self._plain(HTTPStatus.MOVED_PERMANENTLY, with_body=with_body, location=found.location)
            return
        document = None if found is None else self.server.documents.read(found.path)
        if found is None or document is None:
            self._plain(HTTPStatus.NOT_FOUND, with_body=with_body)
            return
        coded = document.gzipped is not None and accepts_gzip(self.headers["Accept-Encoding"])
        etag = document.gzip_etag if coded else document.etag
        headers = self._headers(found.name, document, etag)
        if not self._modified(document, etag):
            self._send(HTTPStatus.NOT_MODIFIED, headers)
            return
        body = document.gzipped if coded and document.gzipped is not None else document.body
        headers.append(("Content-Type", document.content_type))
        if coded:
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        self._send(HTTPStatus.OK, headers, body if with_body else b"")

    def _modified(self, document: Document, etag: str) -> bool:
        none_matches = self.headers.get_all("If-None-Match")
        if none_matches:
            return not none_match(",".join(none_matches), etag)
        since = self.headers["If-Modified-Since"]
        return since is None or modified_since(since, document.mtime)

    def _headers(self, name: str, document: Document, etag: str) -> list[tuple[str, str]]:
        settings = self.server.settings
        suffix = os.path.splitext(name)[1].lower()
        headers = [
            ("ETag", etag),
            ("Last-Modified", document.last_modified),
            ("Cache-Control", f"max-age={settings.max_age}"),
        ]
        if document.gzipped is not None:
            headers.append(("Vary", "Accept-Encoding"))
        if suffix in CORS_SUFFIXES:
            headers.append(("Access-Control-Allow-Origin", "*"))
        if settings.hubs and suffix in HUB_SUFFIXES:
            headers.extend(("Link", f'<{hub}>; rel="hub"') for hub in settings.hubs)
            headers.append(("Link", f'<{quote_iri(settings.feeds_url + name)}>; rel="self"'))
        return headers

    def _plain(
        self,
        status: HTTPStatus,
        *,
        with_body: bool,
        allow: str | None = None,
        location: str | None = None,
    ) -> None:
        body = f"{status.value} {status.phrase}\n".encode("ascii")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        if allow:
            headers.append(("Allow", allow))
        if location:
            headers.append(("Location", location))
        self._send(status, headers, body if with_body else b"")

    def _send(self, status: HTTPStatus, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """One line per request on stderr, unless the server is quiet."""
        if self.server.log:
            super().log_message(format, *args)


class Server(ThreadingHTTPServer):
    """A thread per connection, answering from one folder."""

    daemon_threads = True
    request_queue_size = 128  # 50 clients connecting at once must not overflow the backlog
    max_connections = 128  # threads at once; further connections wait in the backlog

    def __init__(
        self, address: tuple[str, int], root: Path, settings: Settings, *, log: bool = False
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.root = os.path.realpath(root)
        self.settings = settings
        self.documents = Documents()
        self.log = log
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Start a thread for the connection once one of `max_connections` is free: a crowd of
        slow clients makes later ones wait, never the server run out of threads."""
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def url(self) -> str:
        """Where the server listens, as a browser would be told."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is no error; anything else is one line, no traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        print(f"feedpub: error: serving {client_address[0]}: {error!r}", file=sys.stderr)


# -- watching ---------------------------------------------------------------------------


class Watcher:
    """Calls `rebuild` once changes to the articles or the configuration settle.

    Two watchfiles watchers: the articles folder at any depth, and the configuration
    file's folder at its top only (so a configuration beside the output folder does
    not see the build's own writes). A rebuild starts once no change has come for
    `settle` seconds; changes that come during a rebuild cause one more.
    """

    def __init__(
        self,
        articles: Path,
        config: Path,
        rebuild: Callable[[], None],
        *,
        debounce_ms: int = 200,
        settle: float = 0.1,
    ) -> None:
        """Raises UsageError when watchfiles (feedpub[serve]) is not installed."""
        try:
            import watchfiles
        except ImportError:
            raise UsageError(
                "--watch needs the watchfiles package: pip install 'feedpub[serve]'"
            ) from None
        self._watchfiles: Any = watchfiles
        self._articles = articles
        self._config = config
        self._rebuild = rebuild
        self._debounce = debounce_ms
        self._settle = settle
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start watching, each watcher and the rebuilds in a thread of their own."""
        watchfiles = self._watchfiles
        config_name = self._config.name
        watches: list[tuple[Path, bool, Callable[[Any, str], bool] | None]] = [
            (self._articles, True, watchfiles.DefaultFilter()),
            (
                self._config.parent,
                False,
                lambda _change, path: os.path.basename(path) == config_name,
            ),
        ]
        for path, recursive, accept in watches:
            thread = threading.Thread(
                target=self._watch, args=(watchfiles.watch, path, recursive, accept), daemon=True
            )
            self._threads.append(thread)
        self._threads.append(threading.Thread(target=self._build_loop, daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop watching; a rebuild under way is left to finish in its thread."""
        self._stop.set()
        self._changed.set()

    def _watch(
        self,
        watch: Callable[..., Any],
        path: Path,
        recursive: bool,
        accept: Callable[[Any, str], bool] | None,
    ) -> None:
        for _changes in watch(
            path,
            watch_filter=accept,
            debounce=self._debounce,
            step=20,
            stop_event=self._stop,
            recursive=recursive,
            raise_interrupt=False,
        ):
            self._changed.set()

    def _build_loop(self) -> None:
        while True:
            self._changed.wait()
            if self._stop.is_set():
                return
            self._changed.clear()
            while self._changed.wait(self._settle):  # not settled yet
                if self._stop.is_set():
                    return
                self._changed.clear()
            try:
                self._rebuild()
            except Exception as error:  # a failed rebuild must not stop serving
                print(f"feedpub: error: rebuild failed: {error!r}", file=sys.stderr)
