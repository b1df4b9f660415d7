"""WebSub: tell each hub which feeds changed, and keep the pings that failed for the next run.

A ping is one form-encoded ``POST`` to one hub with ``hub.mode=publish`` and
``hub.url`` and ``hub.topic`` both set to one feed's ``self`` address; any
``2xx`` answer is success. Pings go out concurrently, each with a timeout,
and a hub that cannot be reached at all is not tried again for the rest of
the run (its remaining pings wait for the next one, rather than each waiting
out its own timeout).

The pings not yet acknowledged live in ``<out>/.feedpub-pings.json`` (a
dotfile: never served, never uploaded), written atomically, readable by its
owner only, and only under the output folder's lock. They are recorded
*before* they are sent, so a run killed while sending leaves them for the
next run: a hub may hear of one change twice, never not at all.

Archive pages (``archive/…``) are never pinged: readers subscribe to the
feeds, and an archive page's address is reached through them.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, layout
from ..layout import FEED_SUFFIXES
from ..model import Config
from ..store import PRIVATE, LocalStore, atomic_write

PINGS_FILE = ".feedpub-pings.json"
ARCHIVE_FOLDER = layout.ARCHIVE_FOLDER + "/"
TIMEOUT = 10.0  # seconds a hub has to answer one ping
WORKERS = 16  # pings in flight at once
_VERSION = 1


@dataclass(frozen=True, slots=True, order=True)
class Ping:
    """One hub to be told that one feed changed."""

    hub: str
    topic: str


@dataclass(frozen=True, slots=True)
class Failure:
    """A ping the hub did not acknowledge, and why."""

    ping: Ping
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.ping.hub}: error: hub.topic: {self.ping.topic!r} not notified: {self.reason}; "
            "the next run sends it again"
        )


@dataclass(frozen=True, slots=True)
class Notified:
    """What a round of pings did: sent, failed, and left pending for the next run."""

    sent: tuple[Ping, ...] = ()
    failed: tuple[Failure, ...] = ()
    pending: tuple[Ping, ...] = ()


def is_feed(name: str) -> bool:
    """True for a document readers subscribe to: a feed, not an archive page or an index."""
    return (
        name.endswith(FEED_SUFFIXES)
        and not name.startswith(ARCHIVE_FOLDER)
        and not any(part.startswith(".") for part in name.split("/"))
    )


def topic_url(feeds_url: str, name: str) -> str:
    """The `self` address of the document at `name` (relative to the output folder)."""
    return feeds_url.rstrip("/") + "/" + urllib.parse.quote(name)


def pings_for(config: Config, changed: Iterable[str]) -> list[Ping]:
    """One ping per configured hub and changed feed, in a stable order."""
    topics = [topic_url(config.site.feeds_url, name) for name in sorted(changed) if is_feed(name)]
    return [Ping(hub, topic) for hub in config.websub.hubs for topic in topics]


def notify(
    out: Path, config: Config, changed: Collection[str], *, send: bool = True, wait: float = 60.0,
    timeout: float = TIMEOUT,
) -> Notified:  # fmt: skip
    """Ping every hub for every changed feed, and send again what an earlier run could not.

    `changed` names the documents (relative to `out`) now where readers fetch
    them. With `send` false nothing is sent or recorded and what is pending stays.
    """
    hubs = set(config.websub.hubs)
    if not hubs and not (out / PINGS_FILE).exists():
        return Notified()
    new = pings_for(config, changed) if send else []
    with LocalStore(out).locked(wait):
        known = read_pending(out)
        pending = [ping for ping in known if ping.hub in hubs]  # a hub removed from the config
        todo = sorted(set(pending) | set(new))
        if not send:
            if pending != known:
                write_pending(out, pending)
            return Notified(pending=tuple(pending))
        write_pending(out, todo)  # before sending: a run killed meanwhile leaves them pending
    failures = send_all(todo, timeout)
    failed = {failure.ping for failure in failures}
    sent = [ping for ping in todo if ping not in failed]
    with LocalStore(out).locked(wait):
        done = set(sent)
        left = [ping for ping in read_pending(out) if ping not in done]  # others may have come
        write_pending(out, left)
    return Notified(tuple(sent), tuple(failures), tuple(left))


def read_pending(out: Path) -> list[Ping]:
    """The pings an earlier run could not send (none when the file is missing or unreadable)."""
    try:
        data = json.loads((out / PINGS_FILE).read_bytes())
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return []
    records = data.get("pending")
    if not isinstance(records, list):
        return []
    return [
        Ping(hub, topic)
        for record in records
        if isinstance(record, list) and len(record) == 2
        for hub, topic in [record]
        if isinstance(hub, str) and isinstance(topic, str)
    ]


def write_pending(out: Path, pings: Iterable[Ping]) -> None:
    """Record the pings still to send; remove the file when there are none. Hold the lock."""
    records = [[ping.hub, ping.topic] for ping in sorted(set(pings))]
    path = out / PINGS_FILE
    if not records:
        path.unlink(missing_ok=True)
        return
    text = json.dumps({"version": _VERSION, "pending": records}, indent=1) + "\n"
    atomic_write(path, text.encode(), PRIVATE)


class _Unreachable(Exception):
    """The hub did not answer at all: its other pings are not tried in this run."""


def send_all(pings: list[Ping], timeout: float = TIMEOUT) -> list[Failure]:
    """Send every ping concurrently; the failures, in the order of `pings`."""
    if not pings:
        return []
    down: dict[str, str] = {}
    guard = threading.Lock()

    def attempt(ping: Ping) -> Failure | None:
        with guard:
            reason = down.get(ping.hub)
        if reason is not None:
            return Failure(ping, f"not sent, the hub could not be reached ({reason})")
        try:
            send_one(ping, timeout)
        except _Unreachable as error:
            with guard:
                down.setdefault(ping.hub, str(error))
            return Failure(ping, str(error))
        except _Refused as error:
            return Failure(ping, str(error))
        return None

    from concurrent.futures import ThreadPoolExecutor  # here: a build with no hub skips it

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(pings))) as pool:
        results = list(pool.map(attempt, pings))
    return [result for result in results if result is not None]


class _Refused(Exception):
    """The hub answered, but not with a 2xx."""


def send_one(ping: Ping, timeout: float = TIMEOUT) -> None:
    """POST one ping; raise with the reason when the hub does not acknowledge it."""
    import urllib.error  # here: http.client and its kin cost a build with no hub 30 ms
    import urllib.request

    body = urllib.parse.urlencode(
        {"hub.mode": "publish", "hub.url": ping.topic, "hub.topic": ping.topic}
    ).encode()
    request = urllib.request.Request(
        ping.hub,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": f"feedpub/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise _Refused(f"the hub answered {error.code} {error.reason}".rstrip()) from None
    except TimeoutError:
        raise _Unreachable(f"no answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise _Unreachable(f"no answer within {timeout:g} s") from None
        raise _Unreachable(f"cannot connect: {reason}") from None
    if not 200 <= status < 300:
        raise _Refused(f"the hub answered {status}")
