"""Shared fixtures: the fixture site, the Atom schema, and helpers that run feedpub."""

from __future__ import annotations

import textwrap
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result
from lxml import etree

from feedpub.cli import main

pytest_plugins = ["peers"]  # the delivery tests' real peers: a WebSub hub, SeaweedFS

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
FIXTURE_SITE = TESTS / "fixtures" / "site"
NOW = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="session")
def atom_schema() -> etree.RelaxNG:
    """RFC 4287's RELAX NG schema (tests/atom.rng), compiled once."""
    return etree.RelaxNG(etree.parse(str(TESTS / "atom.rng")))


def run(*args: str | Path) -> Result:
    """Run the feedpub command in process, as a user would type it."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def build_site(
    articles: Path, out: Path, config: Path | None = None, *extra: str, now: str = NOW
) -> Result:
    """`feedpub build` of `articles` into `out` as of `now`."""
    args: list[str | Path] = ["build", "--articles", articles, "--out", out, "--now", now]
    if config is not None:
        args += ["--config", config]
    return run(*args, *extra)


@pytest.fixture(scope="session")
def fixture_feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture site's feeds, built once for the whole session."""
    out = tmp_path_factory.mktemp("fixture-feeds")
    build_site(FIXTURE_SITE / "articles", out, FIXTURE_SITE / "feedpub.toml")
    return out


def write_article(folder: Path, name: str, front: str, body: str = "A body.\n") -> Path:
    """Write `name` under `folder` with the given front matter (dedented) and body."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{textwrap.dedent(front).strip()}\n---\n{body}", encoding="utf-8")
    return path


def documents(out: Path) -> dict[str, bytes]:
    """Every document feedpub wrote into `out`, by name (not its state, cache or lock)."""
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def read_feed(path: Path) -> feedparser.FeedParserDict:
    """The feed as a reader sees it; fails the test when feedparser finds it malformed."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
    return parsed


def feed_files(out: Path) -> list[Path]:
    """Every Atom and RSS document under `out`, in a stable order."""
    return sorted(path for path in out.rglob("*") if path.suffix in {".atom", ".rss"})
