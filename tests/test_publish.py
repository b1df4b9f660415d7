"""`feedpub publish` against a real S3 server (SeaweedFS): what the bucket holds is what the
folder holds, changed objects only, strangers left alone, a killed publish completed."""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import build_site, run, write_article
from peers import (
    BUCKET,
    Hub,
    StallingProxy,
    Store,
    close,
    free_port,
    start_feed_server,
)  # fmt: skip

from feedpub.delivery.s3 import MANIFEST, media_type
from feedpub.delivery.websub import PINGS_FILE

_buckets = itertools.count()
CACHE = "public, max-age=60"


def make_site(articles: Path, count: int = 8) -> None:
    for number in range(count):
        write_article(
            articles, f"article-{number}.md",
            f"""
            title: Article {number}
            section: {["World", "Business", "Science"][number % 3]}
            topics: [{["Trade", "Climate", "Health", "Energy"][number % 4]}]
            published: 2025-01-{number + 1:02d}T09:00:00Z
            """,
            f"Body of article {number}.\n",
        )  # fmt: skip


def config_file(folder: Path, endpoint: str, bucket: str, extra: str = "") -> Path:
    path = folder / "feedpub.toml"
    path.write_text(
        '[site]\ntitle = "Test"\nurl = "https://news.example/"\n'
        f'[publish]\nurl = "s3://{bucket}/feeds/"\nendpoint_url = "{endpoint}"\n'
        f'region = "us-east-1"\ncache_control = "{CACHE}"\n{extra}',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def bucket(seaweedfs: Store, aws_env: None) -> str:
    """The bucket and a prefix no other test uses: `<bucket>/<test>/`."""
    return f"{BUCKET}/t{os.getpid()}-{next(_buckets)}"


def split(place: str) -> tuple[str, str]:
    """The bucket, and the key prefix of the feeds: `<test>/feeds/`."""
    name, test = place.split("/", 1)
    return name, f"{test}/feeds/"


@pytest.fixture
def site(tmp_path: Path, seaweedfs: Store, bucket: str) -> tuple[Path, Path, Path]:
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles)
    return articles, out, config_file(tmp_path, seaweedfs.endpoint, bucket)


def folder_files(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(out).parts)
    }


def bucket_objects(client: Any, place: str) -> dict[str, str]:
    """Key (less the prefix) → ETag, the manifest included."""
    bucket, prefix = split(place)
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"][len(prefix) :]] = item["ETag"]
    return found


def get(client: Any, place: str, name: str) -> Any:
    bucket, prefix = split(place)
    return client.get_object(Bucket=bucket, Key=prefix + name)


def put(client: Any, place: str, name: str, data: bytes) -> None:
    bucket, prefix = split(place)
    client.put_object(Bucket=bucket, Key=prefix + name, Body=data)


def assert_bucket_matches(client: Any, place: str, out: Path, strangers: set[str]) -> None:
    """Object by object: bytes, Content-Type and Cache-Control as the folder says."""
    local = folder_files(out)
    assert set(bucket_objects(client, place)) == {*local, MANIFEST, *strangers}
    for name, data in local.items():
        got = get(client, place, name)
        assert got["Body"].read() == data, name
        assert got["ContentType"] == media_type(name), name
        assert got["CacheControl"] == CACHE, name


def publish(out: Path, config: Path, *extra: str) -> Any:
    return run("publish", "--out", out, "--config", config, *extra)


def test_a_publish_uploads_the_folder_object_by_object(
    site: tuple[Path, Path, Path], seaweedfs: Store, bucket: str
) -> None:
    """Every document with its bytes, media type and Cache-Control; no dotfile; a stranger's
    object under the prefix left as it was."""
    articles, out, config = site
    client = seaweedfs.client()
    put(client, bucket, "notes/readme.txt", b"not feedpub's")
    assert build_site(articles, out, config).exit_code == 0
    assert any(path.name.startswith(".feedpub") for path in out.iterdir())

    result = publish(out, config)
    assert result.exit_code == 0, result.output
    local = folder_files(out)
    assert f"{len(local)} uploaded, 0 unchanged, 0 deleted, 0 refused" in result.output
    assert_bucket_matches(client, bucket, out, {"notes/readme.txt"})
    assert media_type("all.atom") == "application/atom+xml; charset=utf-8"
    assert media_type("sections/world.rss") == "application/rss+xml; charset=utf-8"
    stranger = get(client, bucket, "notes/readme.txt")
    assert stranger["Body"].read() == b"not feedpub's"


def test_only_changed_objects_are_uploaded_and_gone_ones_deleted(
    site: tuple[Path, Path, Path], seaweedfs: Store, bucket: str
) -> None:
    """A second publish uploads nothing; an edit uploads exactly the documents whose bytes
    changed; a feed no longer written is deleted from the bucket, a stranger's object stays."""
    articles, out, config = site
    client = seaweedfs.client()
    put(client, bucket, "stranger.atom", b"mine")
    build_site(articles, out, config)
    assert publish(out, config).exit_code == 0
    again = publish(out, config)
    assert again.exit_code == 0
    assert "0 uploaded" in again.output
    assert "; 2 requests" in again.output  # the manifest and one page of listing

    before = folder_files(out)
    write_article(
        articles, "article-0.md",
        "title: Article 0, revised\nsection: World\ntopics: [Trade]\n"
        "published: 2025-01-01T09:00:00Z",
    )  # fmt: skip
    build_site(articles, out, config)
    changed = {name for name, data in folder_files(out).items() if before.get(name) != data}
    assert changed
    edited = publish(out, config, "-v")
    assert edited.exit_code == 0, edited.output
    uploaded = {line.split(f"s3://{bucket}/feeds/")[1]
                for line in edited.output.splitlines() if line.startswith("uploaded ")}  # fmt: skip
    assert uploaded == changed
    assert_bucket_matches(client, bucket, out, {"stranger.atom"})

    (articles / "article-2.md").unlink()  # the two Science articles: the section's feeds go
    (articles / "article-5.md").unlink()
    build_site(articles, out, config)
    gone = set(before) - set(folder_files(out))
    assert {"sections/science.atom", "sections/science.rss"} <= gone
    removed = publish(out, config, "-v")
    assert removed.exit_code == 0, removed.output
    for name in gone:
        assert f"deleted s3://{bucket}/feeds/{name}" in removed.output
    assert_bucket_matches(client, bucket, out, {"stranger.atom"})
    assert get(client, bucket, "stranger.atom")["Body"].read() == b"mine"


def test_a_strangers_object_where_a_feed_goes_is_left_alone_and_reported(
    site: tuple[Path, Path, Path], seaweedfs: Store, bucket: str
) -> None:
    """An object feedpub did not publish, at the key of a feed: not overwritten, named in the
    message, exit 4; every other document is uploaded."""
    articles, out, config = site
    client = seaweedfs.client()
    put(client, bucket, "all.rss", b"someone else's feed")
    build_site(articles, out, config)
    result = publish(out, config)
    assert result.exit_code == 4, result.output
    assert f"s3://{bucket}/feeds/all.rss: error: publish: an object feedpub did not publish" in (
        result.output
    )
    assert get(client, bucket, "all.rss")["Body"].read() == (b"someone else's feed")
    assert get(client, bucket, "all.atom")["Body"].read() == ((out / "all.atom").read_bytes())


def test_a_publish_killed_mid_upload_is_completed_by_the_next(
    site: tuple[Path, Path, Path], seaweedfs: Store, bucket: str, tmp_path: Path
) -> None:
    """SIGKILL while uploads are in flight (a proxy holds every upload after the 5th): the
    bucket is part-written; the next publish leaves it exactly the folder."""
    articles, out, _ = site
    build_site(articles, out, None)
    proxy = StallingProxy(seaweedfs.endpoint, uploads=5)
    try:
        (tmp_path / "slow").mkdir()
        slow = config_file(tmp_path / "slow", proxy.url, bucket)
        process = subprocess.Popen(
            [sys.executable, "-m", "feedpub", "publish", "--out", str(out), "--config", str(slow)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proxy.stalled.wait(30), process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        if process.stderr:
            process.stderr.close()
    finally:
        proxy.close()
    client = seaweedfs.client()
    partial = set(bucket_objects(client, bucket)) - {MANIFEST}
    assert 0 < len(partial) < len(folder_files(out))

    direct = config_file(tmp_path, seaweedfs.endpoint, bucket)
    finished = publish(out, direct)
    assert finished.exit_code == 0, finished.output
    assert "0 refused" in finished.output
    assert_bucket_matches(client, bucket, out, set())
    assert "0 uploaded" in publish(out, direct).output


def test_an_unreachable_store_exits_4_naming_the_endpoint(tmp_path: Path, aws_env: None) -> None:
    """Nothing listens at the endpoint: `build --publish` writes the feeds, exits 4 with the
    endpoint named, and no credential appears in the message."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles)
    endpoint = f"http://127.0.0.1:{free_port()}"
    config = config_file(tmp_path, endpoint, "nowhere")
    result = build_site(articles, out, config, "--publish")
    assert result.exit_code == 4, result.output
    assert f"feedpub: error: {endpoint}: s3://nowhere/feeds/: " in result.output
    assert "cannot reach the store" in result.output
    assert (out / "all.atom").is_file()
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in result.output
    assert os.environ["AWS_ACCESS_KEY_ID"] not in result.output


def test_publish_without_publish_url_is_a_configuration_error(tmp_path: Path) -> None:
    """No `publish.url`: exit 2 naming the key, before anything is built."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    make_site(articles)
    config = tmp_path / "feedpub.toml"
    config.write_text('[site]\ntitle = "Test"\n', encoding="utf-8")
    result = build_site(articles, out, config, "--publish")
    assert result.exit_code == 2
    assert f"feedpub: error: {config}: publish.url: required to publish; expected" in (
        result.output
    )
    assert not out.exists()
    assert publish(tmp_path, config).exit_code == 2


def test_build_publish_pings_only_what_was_uploaded_after_the_upload(
    tmp_path: Path, seaweedfs: Store, bucket: str, fresh_hub: Hub
) -> None:
    """`build --publish` with the store down: exit 4 and no hub is told (the feeds are not
    where readers fetch them); the next publish uploads them, then pings each uploaded feed."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    out.mkdir()
    make_site(articles)
    server, url = start_feed_server(out, fresh_hub.url)
    websub = f'[websub]\nhubs = ["{fresh_hub.url}"]\n'
    site_feeds = f'feeds_url = "{url}/"\n'
    try:
        down = config_file(tmp_path, f"http://127.0.0.1:{free_port()}", bucket, websub)
        down.write_text(down.read_text().replace("[publish]", site_feeds + "[publish]"))
        failed = build_site(articles, out, down, "--publish")
        assert failed.exit_code == 4, failed.output
        assert fresh_hub.published() == []
        assert not (out / PINGS_FILE).exists()

        up = config_file(tmp_path, seaweedfs.endpoint, bucket, websub)
        up.write_text(up.read_text().replace("[publish]", site_feeds + "[publish]"))
        done = build_site(articles, out, up, "--publish")
        assert done.exit_code == 0, done.output
        feeds = {name for name in folder_files(out) if name.endswith((".atom", ".rss", ".json"))}
        assert sorted(fresh_hub.published()) == sorted(f"{url}/{name}" for name in feeds)
        fresh_hub.control(reset="1")
        assert build_site(articles, out, up, "--publish").exit_code == 0
        assert fresh_hub.published() == []
    finally:
        close(server)


def test_the_manifest_md5_is_of_the_bytes_uploaded(
    site: tuple[Path, Path, Path], seaweedfs: Store, bucket: str
) -> None:
    """The manifest names every object feedpub owns with the MD5 of its bytes."""
    import json

    articles, out, config = site
    build_site(articles, out, config)
    publish(out, config)
    client = seaweedfs.client()
    manifest = json.loads(
        client.get_object(Bucket=BUCKET, Key=split(bucket)[1] + MANIFEST)["Body"].read()
    )
    assert set(manifest["objects"]) == set(folder_files(out))
    for name, data in folder_files(out).items():
        md5, etag = manifest["objects"][name]
        assert md5 == hashlib.md5(data).hexdigest()
        assert etag.strip('"') == md5
