"""What a real feed reader shows for the seed article (SPEC §3, the lead image).

feedparser, which many readers build on, makes an image's caption
(``media:description``) the entry's content when the entry has a summary but
no content of its own. lemon24's `reader`, fetching the feeds over HTTP as a
subscriber would, must show the deck as the summary and the article (in
summary mode: the figure and the deck), never the caption alone, as content.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import reader
from conftest import PROJECT, build_site

SEED = PROJECT / "articles" / "us-to-host-japan-south-korea-in-security-talks.md"
DECK = "The national security advisors of the three countries will meet at the U.S. Naval Academy."
CAPTION = "U.S. Naval Academy in Annapolis, Maryland."
ARTICLE_START = "The United States will host a trilateral meeting"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seed article's feeds, in full and in summary mode, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("served")
    articles = root / "articles"
    articles.mkdir()
    (articles / SEED.name).write_bytes(SEED.read_bytes())
    config = (PROJECT / "feedpub.toml").read_text()
    assert 'content = "full"' in config
    for mode in ("full", "summary"):
        path = root / f"{mode}.toml"
        path.write_text(config.replace('content = "full"', f'content = "{mode}"'))
        assert build_site(articles, root / mode, path).exit_code == 0
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("document", ["all.atom", "all.rss", "all.json"])
@pytest.mark.parametrize("mode", ["full", "summary"])
def test_a_reader_shows_the_deck_and_never_the_caption_as_content(
    served: str, tmp_path: Path, mode: str, document: str
) -> None:
    """Fetched over HTTP by `reader`: the summary is the deck; the content is the article
    (full) or the figure and the deck (summary), never the caption."""
    subscriber = reader.make_reader(str(tmp_path / "reader.sqlite"))
    try:
        url = f"{served}/{mode}/{document}"
        subscriber.add_feed(url)
        subscriber.update_feeds()
        feed = subscriber.get_feed(url)
        assert feed.last_exception is None, feed.last_exception
        entries = list(subscriber.get_entries())
        assert [entry.title for entry in entries] == [
            "US to Host Japan, South Korea in Security Talks"
        ]
        entry = entries[0]
        assert entry.summary == DECK
        assert entry.content, "the entry has no content: a reader would show the caption"
        for content in entry.content:
            assert content.value.strip() != CAPTION
            assert content.type == "text/html"
            assert "<figure>" in content.value
        html = entry.content[0].value
        if mode == "full":
            assert "trilateral meeting of security officials" in html
        else:
            assert DECK in html
            assert "trilateral meeting" not in html
    finally:
        subscriber.close()


@pytest.mark.parametrize("document", ["all.atom", "all.rss"])
@pytest.mark.parametrize("mode", ["full", "summary"])
def test_rss2email_plain_text_mail_shows_the_article_not_the_caption(
    served: str, mode: str, document: str
) -> None:
    """rss2email (html-mail = False, its default) mails the first text/plain one of an
    entry's contents and its summary_detail, else the first text/html one, as feedparser
    parsed them: that is the deck, or the article, and never the caption alone."""
    import urllib.request

    import feedparser
    import lxml.html

    with urllib.request.urlopen(f"{served}/{mode}/{document}") as response:
        entry = feedparser.parse(response.read()).entries[0]
    candidates = [*entry.get("content", []), entry.summary_detail]
    mailed = next(
        (item for kind in ("text/plain", "text/html") for item in candidates if item.type == kind),
        candidates[0],
    )
    text = mailed.value
    if mailed.type == "text/html":
        text = lxml.html.fromstring(f"<div>{text}</div>").text_content()
    text = " ".join(text.split())
    assert text != CAPTION
    if text != DECK:  # the article as HTML: its figure first, then the body (or the deck)
        assert text.startswith(CAPTION)
        assert DECK in text or ARTICLE_START in text
