"""The seed article's feeds, byte for byte, and the repository's own feeds/ kept current.

Set FEEDPUB_REGENERATE_GOLDEN=1 to rewrite tests/golden/ after a deliberate
change to the output; review the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import PROJECT, TESTS, build_site

SEED = "us-to-host-japan-south-korea-in-security-talks.md"
GOLDEN = TESTS / "golden"


def documents(out: Path) -> list[Path]:
    """Every document under `out`: Atom, RSS and JSON Feed (no dotfiles: the state)."""
    return sorted(
        path for path in out.rglob("*") if path.suffix in {".atom", ".rss", ".json", ".opml",
                                                           ".html"}
    )  # fmt: skip


def test_seed_article_feeds_match_the_golden_files(tmp_path: Path) -> None:
    """The seed article, built with the repository's feedpub.toml, gives the golden bytes."""
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(PROJECT / "articles" / SEED, articles / SEED)
    out = tmp_path / "feeds"
    result = build_site(articles, out, PROJECT / "feedpub.toml")
    assert result.exit_code == 0, result.output
    built = {str(path.relative_to(out)): path.read_bytes() for path in documents(out)}
    if os.environ.get("FEEDPUB_REGENERATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = {str(path.relative_to(GOLDEN)): path.read_bytes() for path in documents(GOLDEN)}
    assert sorted(built) == sorted(golden)
    for name, data in built.items():
        assert data == golden[name], f"{name} differs from tests/golden/{name}"


def test_committed_feeds_are_up_to_date_with_the_articles() -> None:
    """feeds/ holds exactly what `feedpub build` writes from articles/ (run it and commit)."""
    result = build_site(
        PROJECT / "articles", PROJECT / "feeds", PROJECT / "feedpub.toml", "--check",
        now=_now(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
