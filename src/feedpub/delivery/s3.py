"""Object storage: the output folder → an S3-compatible bucket, changed objects only.

How a publish knows what the bucket holds
-----------------------------------------
feedpub keeps a manifest object beside the documents,
``<prefix>.feedpub-manifest.json``: for every object feedpub published, the MD5
of the bytes it uploaded and the ETag the store answered. One listing of the
prefix (one request per 1,000 objects) gives every object's current ETag. A
document is unchanged, and not uploaded, when its MD5 is the one recorded and
the object's ETag is still the one recorded (the ETag itself need not be an
MD5, so stores that encrypt with their own keys work too). At 2,001 documents
a publish with nothing changed costs 4 requests (0.4 s against SeaweedFS on
loopback), where a HEAD per object would cost 1,998 (2.8 s); see
benchmarks/RESULTS.md.

Ownership
---------
An object is feedpub's when the manifest names it, never by guess. An object
under the prefix that the manifest does not name is a stranger's and is never
overwritten or deleted: when a document would go where a stranger's object is,
the document is not uploaded and the publish reports it (exit 4).

Order, and a publish killed at any moment
-----------------------------------------
New objects before changed ones, and archive pages, then other files, then
feeds, then the indexes (``index.opml``, ``index.html``): a reader never finds
a link to an object not yet uploaded. Deletions come last. Before the first
upload the manifest records every object about to be written (its ETag
unknown); after each group of uploads and after the deletions it records what
the store answered. A publish killed anywhere leaves a manifest that names
every object it may have written, so the next publish uploads (again) what is
unconfirmed and deletes what is gone: the two runs together converge.

Dotfiles (the build state, the lock, the pending pings) are never uploaded.
Credentials come only from boto3's default chain (environment, ~/.aws, an
instance role) and appear in no message.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import layout
from ..errors import ConfigError, FeedpubError, UsageError
from ..model import Config, PublishConfig
from .websub import ARCHIVE_FOLDER, is_feed

MANIFEST = ".feedpub-manifest.json"
WORKERS = 16  # uploads in flight at once
CHECKPOINT = 500  # uploads between two manifest writes, so a killed first publish keeps most
_VERSION = 1
MEDIA_TYPES = {
    **{suffix: f"{kind}; charset=utf-8" for suffix, kind in layout.MEDIA_TYPES.items()},
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xsl": "application/xslt+xml; charset=utf-8",
}
DEFAULT_MEDIA_TYPE = "application/octet-stream"
INSTALL_HINT = "publishing needs boto3: pip install 'feedpub[s3]'"


class StoreError(FeedpubError):
    """The store could not be reached, or refused a request: exit 4, retried next time."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where documents go: a bucket, a key prefix, and the store that holds them."""

    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str | None
    cache_control: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def endpoint(self) -> str:
        """The store as messages name it."""
        if self.endpoint_url:
            return self.endpoint_url
        return f"AWS S3 ({self.region})" if self.region else "AWS S3"

    def key(self, name: str) -> str:
        return self.prefix + name


def target(publish: PublishConfig, source: str = "feedpub.toml") -> Target:
    """The bucket `publish.url` names; a configuration error when it names none."""
    if publish.url is None:
        raise ConfigError(
            f"{source}: publish.url: required to publish; "
            "expected an address such as 's3://bucket/prefix/'"
        )
    parts = urlsplit(publish.url)
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Target(parts.netloc, prefix, publish.endpoint_url, publish.region,
                  publish.cache_control)  # fmt: skip


def require_boto3() -> None:
    """Fail early, before anything is written, when boto3 is not installed."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


@dataclass(frozen=True, slots=True)
class Local:
    """One file of the output folder, as it would be uploaded."""

    name: str  # relative to the output folder, with '/'
    path: Path
    md5: str


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish did; names are relative to the output folder (and the prefix)."""

    target: Target
    uploaded: tuple[str, ...] = ()
    unchanged: int = 0
    deleted: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # a stranger's object is where these would go
    requests: int = 0


@dataclass(slots=True)
class _Entry:
    md5: str
    etag: str | None  # None: about to be uploaded, not yet confirmed


@dataclass(slots=True)
class _Manifest:
    cache_control: str | None = None
    objects: dict[str, _Entry] = field(default_factory=dict)

    def encode(self) -> bytes:
        objects = {name: [entry.md5, entry.etag] for name, entry in sorted(self.objects.items())}
        document = {"version": _VERSION, "cache_control": self.cache_control, "objects": objects}
        return json.dumps(document, indent=0, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> _Manifest:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("version") != _VERSION:
            raise ValueError("not a feedpub manifest of a known version")
        objects = {
            str(name): _Entry(str(md5), None if etag is None else str(etag))
            for name, (md5, etag) in document["objects"].items()
        }
        cache_control = document.get("cache_control")
        return cls(None if cache_control is None else str(cache_control), objects)


def media_type(name: str) -> str:
    """The Content-Type an object is uploaded with, from its name's extension."""
    return MEDIA_TYPES.get(os.path.splitext(name)[1].lower(), DEFAULT_MEDIA_TYPE)


def phase(name: str) -> int:
    """When a document goes up: archive pages, other files, feeds, then the indexes."""
    if name.startswith(ARCHIVE_FOLDER):
        return 0
    if name.rsplit("/", 1)[-1].startswith("index."):
        return 3
    return 2 if is_feed(name) else 1


def local_files(out: Path) -> list[Local]:
    """Every regular file under `out` but dotfiles and dot-folders, with its MD5."""
    found = []
    for folder, folders, files in os.walk(out):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            found.append(Local(path.relative_to(out).as_posix(), path, digest))
    return found


def publish(out: Path, config: Config, *, client: Any = None, source: str = "feedpub.toml") -> (
    Published
):  # fmt: skip
    """Upload what changed under `out` to the bucket, then delete what feedpub no longer writes.

    The caller holds the output folder's lock, so no build rewrites a file meanwhile.
    """
    where = target(config.publish, source)
    counter = _Counter()
    if client is None:
        client = make_client(where)
    client.meta.events.register("before-send.s3", counter.count)
    calls = _Calls(client, where)
    manifest = calls.read_manifest()
    remote = calls.listing()
    files = local_files(out)
    same_headers = manifest.cache_control == where.cache_control
    uploads, refused, unchanged = [], [], 0
    for local in files:
        entry = manifest.objects.get(local.name)
        if entry is None:
            if local.name in remote:
                refused.append(local.name)
                continue
        elif (same_headers and entry.etag is not None and entry.md5 == local.md5
              and remote.get(local.name) == entry.etag):  # fmt: skip
            unchanged += 1
            continue
        uploads.append(local)
    names = {local.name for local in files}
    deletions = sorted(name for name in manifest.objects if name not in names)
    if not uploads and not deletions and same_headers:
        return Published(where, unchanged=unchanged, refused=tuple(refused),
                         requests=counter.requests)  # fmt: skip

    # Intent first: every object this run may write is feedpub's from now on.
    for local in uploads:
        manifest.objects[local.name] = _Entry(local.md5, None)
    manifest.cache_control = where.cache_control
    calls.write_manifest(manifest)
    uploads.sort(key=lambda local: (phase(local.name), local.name in remote, local.name))
    for batch in _batches(uploads):
        for local, etag in calls.upload(batch):
            manifest.objects[local.name] = _Entry(local.md5, etag)
        calls.write_manifest(manifest)
    if deletions:
        calls.delete(deletions)
        for name in deletions:
            del manifest.objects[name]
        calls.write_manifest(manifest)
    return Published(
        where, uploaded=tuple(local.name for local in uploads), unchanged=unchanged,
        deleted=tuple(deletions), refused=tuple(refused), requests=counter.requests,
    )  # fmt: skip


def _batches(uploads: list[Local]) -> Iterable[list[Local]]:
    """Uploads of one phase at a time (a phase is whole before the next begins), and at most
    CHECKPOINT in one batch."""
    batch: list[Local] = []
    for local in uploads:
        if batch and (phase(batch[-1].name) != phase(local.name) or len(batch) >= CHECKPOINT):
            yield batch
            batch = []
        batch.append(local)
    if batch:
        yield batch


def make_client(where: Target) -> Any:
    """A boto3 S3 client for the store, with credentials from boto3's default chain."""
    try:
        import boto3
        from botocore.config import Config as BotoConfig
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    settings = BotoConfig(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=WORKERS,
        # Checksums only where S3 requires them: several S3-compatible stores refuse
        # the trailing checksums that botocore sends by default since 1.36.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"} if where.endpoint_url else {},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=where.endpoint_url, region_name=where.region, config=settings
    )


class _Counter:
    """Counts the HTTP requests a client sends (for the report and the benchmark)."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def count(self, **_: object) -> None:
        with self._lock:
            self.requests += 1


class _Calls:
    """The few S3 calls a publish makes, each failure turned into a StoreError."""

    def __init__(self, client: Any, where: Target) -> None:
        self.client = client
        self.where = where

    def _guard(self, action: str, call: Callable[[], Any]) -> Any:
        import botocore.exceptions as failures

        try:
            return call()
        except failures.ClientError as error:
            details = error.response.get("Error", {})
            code = details.get("Code", "?")
            message = details.get("Message") or ""
            raise StoreError(
                f"{self.where.endpoint}: {self.where.url}: {action}: the store answered "
                f"{code}{': ' + message if message else ''}"
            ) from None
        except failures.NoCredentialsError:
            raise StoreError(
                f"{self.where.endpoint}: {self.where.url}: {action}: no credentials found; "
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile in ~/.aws, "
                "or an instance role"
            ) from None
        except (failures.BotoCoreError, OSError) as error:
            raise StoreError(
                f"{self.where.endpoint}: {self.where.url}: {action}: cannot reach the store: "
                f"{type(error).__name__}"
                + (f" ({error})" if isinstance(error, failures.EndpointConnectionError) else "")
            ) from None

    def read_manifest(self) -> _Manifest:
        import botocore.exceptions as failures

        key = self.where.key(MANIFEST)

        def get() -> bytes | None:
            try:
                response = self.client.get_object(Bucket=self.where.bucket, Key=key)
            except failures.ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                    return None
                raise
            data: bytes = response["Body"].read()
            return data

        data = self._guard("reading the manifest", get)
        if data is None:
            return _Manifest()
        try:
            return _Manifest.decode(data)
        except (ValueError, KeyError, TypeError):
            raise StoreError(
                f"s3://{self.where.bucket}/{key}: the manifest feedpub keeps there cannot "
                "be read; delete it to publish everything again"
            ) from None

    def write_manifest(self, manifest: _Manifest) -> None:
        self._guard("writing the manifest", lambda: self.client.put_object(
            Bucket=self.where.bucket, Key=self.where.key(MANIFEST), Body=manifest.encode(),
            ContentType="application/json", CacheControl="no-store",
        ))  # fmt: skip

    def listing(self) -> dict[str, str]:
        """Every object under the prefix (but the manifest): its name → its ETag."""

        def pages() -> dict[str, str]:
            found = {}
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.where.bucket, Prefix=self.where.prefix):
                for item in page.get("Contents", ()):
                    name = item["Key"][len(self.where.prefix) :]
                    if name != MANIFEST:
                        found[name] = item["ETag"]
            return found

        listed: dict[str, str] = self._guard("listing the bucket", pages)
        return listed

    def upload(self, batch: list[Local]) -> list[tuple[Local, str]]:
        def put(local: Local) -> tuple[Local, str]:
            response = self._guard(f"uploading {local.name}", lambda: self.client.put_object(
                Bucket=self.where.bucket, Key=self.where.key(local.name),
                Body=local.path.read_bytes(), ContentType=media_type(local.name),
                CacheControl=self.where.cache_control, ContentMD5=_base64_md5(local.md5),
            ))  # fmt: skip
            return local, str(response["ETag"])

        with ThreadPoolExecutor(max_workers=min(WORKERS, len(batch))) as pool:
            return list(pool.map(put, batch))

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):
            chunk = names[start : start + 1000]
            objects = [{"Key": self.where.key(name)} for name in chunk]
            request = {"Bucket": self.where.bucket, "Delete": {"Objects": objects, "Quiet": True}}
            response = self._guard(
                "deleting objects", functools.partial(self.client.delete_objects, **request)
            )
            errors = [
                item for item in response.get("Errors", ()) if item.get("Code") != "NoSuchKey"
            ]
            if errors:
                first = errors[0]
                raise StoreError(
                    f"{self.where.endpoint}: s3://{self.where.bucket}/{first.get('Key')}: "
                    f"deleting: the store answered {first.get('Code')}: {first.get('Message')}"
                )


def _base64_md5(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()
