"""WebSub against a real hub (Flask-WebSub, eager): pings for changed feeds only, kept when
they fail, sent again by the next run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import build_site, read_feed, write_article
from peers import Hub, Subscriber, close, free_port, start_feed_server, start_hub

from feedpub.delivery.websub import PINGS_FILE, Ping, is_feed, pings_for, read_pending
from feedpub.model import Config, SiteConfig, WebSubConfig


def make_site(articles: Path) -> None:
    for number, (section, topic) in enumerate(
        [("World", "Trade"), ("World", "Climate"), ("Business", "Trade"), ("Science", "Health")]
    ):
        write_article(
            articles, f"article-{number}.md",
            f"""
            title: Article {number}
            section: {section}
            topics: [{topic}]
            published: 2025-0{number + 1}-01T09:00:00Z
            """,
            f"Body of article {number}.\n",
        )  # fmt: skip


def site_config(folder: Path, feeds_url: str, hubs: list[str]) -> Path:
    path = folder / "feedpub.toml"
    listed = ", ".join(f'"{hub}"' for hub in hubs)
    path.write_text(
        f'[site]\ntitle = "Test"\nurl = "https://news.example/"\nfeeds_url = "{feeds_url}"\n'
        f"[websub]\nhubs = [{listed}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def site(tmp_path: Path, fresh_hub: Hub) -> tuple[Path, Path, Path, str]:
    """Articles, an output folder served over HTTP with WebSub's Link headers, a config."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    out.mkdir()
    make_site(articles)
    server, url = start_feed_server(out, fresh_hub.url)
    config = site_config(tmp_path, url + "/", [fresh_hub.url])
    yield articles, out, config, url + "/"
    close(server)


def feeds_on_disk(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*")
        if path.is_file() and is_feed(path.relative_to(out).as_posix())
    }


def test_a_build_pings_each_written_feed_and_the_subscriber_receives_it(
    site: tuple[Path, Path, Path, str], fresh_hub: Hub, subscriber: Subscriber
) -> None:
    """Build, ping: the hub fetches the feed and pushes its bytes to the subscriber; an edit
    pushes again; a feed the edit did not change is not pinged."""
    articles, out, config, url = site
    fresh_hub.subscribe(url + "all.atom", subscriber.callback("all"))
    fresh_hub.subscribe(url + "topics/health.atom", subscriber.callback("health"))

    first = build_site(articles, out, config)
    assert first.exit_code == 0, first.output
    written = feeds_on_disk(out)
    assert sorted(fresh_hub.published()) == sorted(url + name for name in written)
    assert subscriber.received["all"] == [(out / "all.atom").read_bytes()]
    assert read_feed(out / "all.atom").entries[0].title == "Article 3"
    assert not (out / PINGS_FILE).exists()

    fresh_hub.control(reset="1")
    write_article(
        articles, "article-0.md",
        """
        title: Article 0, revised
        section: World
        topics: [Trade]
        published: 2025-01-01T09:00:00Z
        """,
    )  # fmt: skip
    second = build_site(articles, out, config)
    assert second.exit_code == 0, second.output
    changed = {name for name, data in feeds_on_disk(out).items() if written[name] != data}
    assert "all.atom" in changed
    assert "topics/health.atom" not in changed
    assert sorted(fresh_hub.published()) == sorted(url + name for name in changed)
    assert len(subscriber.received["all"]) == 2
    assert subscriber.received["all"][1] == (out / "all.atom").read_bytes()
    assert b"Article 0, revised" in subscriber.received["all"][1]
    assert len(subscriber.received["health"]) == 1  # pushed once, by the first build only

    fresh_hub.control(reset="1")
    third = build_site(articles, out, config)
    assert third.exit_code == 0
    assert fresh_hub.published() == []


def test_a_hub_answering_500_exits_4_and_the_next_run_sends_the_pings_again(
    site: tuple[Path, Path, Path, str], fresh_hub: Hub
) -> None:
    """A hub that answers 500: exit 4 naming the hub and a feed, the pings kept (0600); the
    next run, with nothing changed, sends them and the pending file goes away."""
    articles, out, config, url = site
    fresh_hub.control(fail="1")
    failed = build_site(articles, out, config)
    assert failed.exit_code == 4, failed.output
    assert f"{fresh_hub.url}: error: hub.topic: '{url}all.atom' not notified: " in failed.output
    assert "500" in failed.output
    pending = read_pending(out)
    assert {ping.topic for ping in pending} == {url + name for name in feeds_on_disk(out)}
    assert stat.S_IMODE((out / PINGS_FILE).stat().st_mode) == 0o600
    assert (out / "all.atom").exists()  # the feeds were written

    fresh_hub.control(fail="0", reset="1")
    again = build_site(articles, out, config)
    assert again.exit_code == 0, again.output
    assert sorted(fresh_hub.published()) == sorted(ping.topic for ping in pending)
    assert not (out / PINGS_FILE).exists()


def test_a_hub_that_is_down_is_pinged_when_it_is_back(tmp_path: Path) -> None:
    """Nothing listens at the hub's address: exit 4, pings kept; the hub starts on that
    address and the next run, with no change, delivers them."""
    articles, out = tmp_path / "articles", tmp_path / "feeds"
    out.mkdir()
    make_site(articles)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}/hub"
    server, url = start_feed_server(out, hub_url)
    config = site_config(tmp_path, url + "/", [hub_url])
    try:
        down = build_site(articles, out, config)
        assert down.exit_code == 4, down.output
        assert f"{hub_url}: error: hub.topic:" in down.output
        assert "cannot connect" in down.output
        kept = read_pending(out)
        assert len(kept) == len(feeds_on_disk(out))

        hub = start_hub(tmp_path, port)
        try:
            back = build_site(articles, out, config)
            assert back.exit_code == 0, back.output
            assert sorted(hub.published()) == sorted(ping.topic for ping in kept)
            assert read_pending(out) == []
        finally:
            hub.stop()
    finally:
        close(server)


def test_no_ping_sends_nothing_and_keeps_what_is_pending(
    site: tuple[Path, Path, Path, str], fresh_hub: Hub
) -> None:
    """--no-ping: no request reaches the hub; pings left by an earlier run stay pending."""
    articles, out, config, _ = site
    fresh_hub.control(fail="1")
    assert build_site(articles, out, config).exit_code == 4
    pending = read_pending(out)
    fresh_hub.control(fail="0", reset="1")
    write_article(articles, "article-9.md", "title: New\nsection: World\npublished: 2025-09-01")
    quiet = build_site(articles, out, config, "--no-ping")
    assert quiet.exit_code == 0, quiet.output
    assert fresh_hub.published() == []
    assert read_pending(out) == pending


def test_feeds_are_pinged_but_not_archive_pages_indexes_or_dotfiles() -> None:
    """Readers subscribe to feeds: archive pages and indexes are never pinged."""
    assert is_feed("all.atom")
    assert is_feed("sections/world.rss")
    assert is_feed("topics/a.json")
    assert not is_feed("archive/all/1.atom")
    assert not is_feed("index.html")
    assert not is_feed("index.opml")
    assert not is_feed(".feedpub-state.json")
    site = SiteConfig(
        title="T", description="", url="https://a.example/", language="en", timezone=None,  # type: ignore[arg-type]
        timezone_name="UTC", tag_authority="a.example", link_pattern="", section_pattern="",
        topic_pattern="", feeds_url="https://a.example/feeds/", author=None,  # type: ignore[arg-type]
    )  # fmt: skip
    config = Config(site=site, websub=WebSubConfig(hubs=("https://hub.example/",)))
    assert pings_for(config, ["archive/all/1.atom", "topics/café au lait.atom", "index.html"]) == [
        Ping("https://hub.example/", "https://a.example/feeds/topics/caf%C3%A9%20au%20lait.atom")
    ]
