"""Articles written for other tools (SPEC §5): Jekyll, Hugo, Pelican, Eleventy and Zola folders
load as they are, each field read from the key that tool uses.

`tests/fixtures/sources/<tool>/` holds a small site in each tool's own conventions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import TESTS, build_site, read_feed, run, write_article
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.config import load_config
from feedpub.errors import Severity, UsageError
from feedpub.load import load_articles, no_articles_hint, origins_of, scan
from feedpub.model import Article, Config, Image, Person
from feedpub.parse import MAX_TOPICS, Parsed, parse_article

SOURCES = TESTS / "fixtures" / "sources"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONFIG = load_config('[site]\nurl = "https://news.example/"\n')
WARNING = Severity.WARNING

# The articles folder of each tool's site: the folder the tool reads posts from.
ROOTS = {
    "jekyll": SOURCES / "jekyll",
    "hugo": SOURCES / "hugo" / "content",
    "pelican": SOURCES / "pelican" / "content",
    "eleventy": SOURCES / "eleventy",
    "zola": SOURCES / "zola" / "content",
}

# What each tool shows for each post: title, date, section, tags, slug, draft.
EXPECTED: dict[str, dict[str, tuple[str, str, str, tuple[str, ...], str, bool]]] = {
    "jekyll": {
        "_posts/2021-03-30-trilateral-talks.markdown": (
            "Trilateral talks in Annapolis", "2021-03-30T00:00:00+00:00", "Diplomacy",
            ("japan", "korea"), "trilateral-talks", False,
        ),
        "_posts/2021-04-02-not-yet.md": (
            "Not yet", "2021-04-02T10:00:00+00:00", "Opinion", ("Drafts",), "not-yet", True,
        ),
    },
    "hugo": {
        "posts/annapolis-talks/index.md": (
            "Talks at the Naval Academy", "2021-05-01T09:00:00-04:00", "Asia",
            ("Japan", "South Korea"), "annapolis-talks", False,
        ),
        "posts/second-post.md": (
            "Second post", "2021-05-10T00:00:00+00:00", "posts", ("Notes",), "second-post", True,
        ),
        "posts/plain-post.md": (
            "A plain post", "2021-05-12T08:00:00+00:00", "posts", ("Security",), "plain-post",
            False,
        ),
    },
    "pelican": {
        "2021-06-01-my-pelican-post.md": (
            "My Pelican Post", "2021-06-01T10:20:00+00:00", "Python", ("pelican", "publishing"),
            "my-pelican-post", False,
        ),
        "unfinished.md": (
            "Unfinished", "2021-06-05T00:00:00+00:00", "Python", (), "unfinished", True,
        ),
    },
    "eleventy": {
        "posts/2021-07-04-fourth-of-july.md": (
            "Fourth of July", "2021-07-04T00:00:00+00:00", "posts", ("post", "holidays"),
            "fourth-of-july", False,
        ),
        "posts/2021-07-10-summer.md": (
            "Summer reading", "2021-07-10T00:00:00+00:00", "posts", ("post",), "summer", False,
        ),
    },
    "zola": {
        "blog/2021-08-01-zola-post.md": (
            "A Zola post", "2021-08-01T00:00:00+00:00", "Engineering", ("rust", "static sites"),
            "zola-post", False,
        ),
    },
}  # fmt: skip

# The only problems each fixture site gives (a warning a migrating user can act on).
EXPECTED_PROBLEMS = {
    "eleventy": [
        f"{ROOTS['eleventy']}/posts/2021-07-04-fourth-of-july.md:9: warning: permalink: "
        "'/blog/{{ page.fileSlug }}/' is a pattern of another tool, not an address; "
        "the site's link_pattern is used",
    ],
}


def load(root: Path, config: Config = CONFIG) -> tuple[dict[str, Article], list[str]]:
    """Every article under `root` (whole, by source) and every problem, as the build loads."""
    scanned = scan(root)
    loaded = load_articles(root, config, files=scanned.files, now=NOW)
    articles = {article.source: article for article in loaded.articles}
    assert all(isinstance(article, Article) for article in articles.values())
    return articles, [str(problem) for problem in (*scanned.problems, *loaded.problems)]  # type: ignore[misc]


@pytest.mark.parametrize("tool", sorted(EXPECTED))
def test_each_tool_site_loads_as_that_tool_shows_it(tool: str) -> None:
    """Each tool's fixture site: every post loads, field by field as the tool shows it
    (title, date, section, tags, slug, draft); `_drafts/` and `_index.md` are not articles."""
    articles, problems = load(ROOTS[tool])
    assert problems == EXPECTED_PROBLEMS.get(tool, [])
    shown = {
        source: (
            article.title, article.published.isoformat(), article.section, article.topics,
            article.slug, article.draft,
        )
        for source, article in articles.items()
    }  # fmt: skip
    assert shown == EXPECTED[tool]


def test_jekyll_post_fields_beyond_the_basics() -> None:
    """Jekyll: `excerpt` (HTML stripped) is the subtitle, `image.path` the image, `author` a
    name; `layout`, `comments` and `image.alt` are other tools' keys, ignored silently."""
    articles, _ = load(ROOTS["jekyll"])
    article = articles["_posts/2021-03-30-trilateral-talks.markdown"]
    assert article.subtitle == "The national security advisors will meet."
    assert article.image == Image("https://news.example/assets/annapolis.jpg", type="image/jpeg")
    assert article.authors == (Person("Ankit Panda"),)


def test_hugo_bundle_cover_and_lastmod() -> None:
    """Hugo: a page bundle's slug is its folder; `lastmod` is updated; `cover` (a mapping with
    `image`) is the image; `description` the subtitle; TOML dates keep their offset."""
    articles, _ = load(ROOTS["hugo"])
    article = articles["posts/annapolis-talks/index.md"]
    assert article.updated.isoformat() == "2021-05-02T10:30:00-04:00"
    assert article.image == Image(
        "https://news.example/images/annapolis.jpg", "The U.S. Naval Academy", type="image/jpeg"
    )
    assert article.subtitle == "Three advisors meet."
    assert article.origins["image"] == "cover.image"
    assert article.origins["slug"] == "folder"


def test_pelican_header_fields() -> None:
    """Pelican: `Modified` is updated, `Summary` the subtitle, `Authors` split at commas."""
    articles, _ = load(ROOTS["pelican"])
    article = articles["2021-06-01-my-pelican-post.md"]
    assert article.updated.isoformat() == "2021-06-02T19:30:00+00:00"
    assert article.subtitle == "Short version for index and feeds"
    assert article.authors == (Person("Alexis Metaireau"), Person("Conan Doyle"))


def test_zola_path_is_the_url_and_taxonomies_are_read() -> None:
    """Zola: `path` is the article's address, `[taxonomies]` tags its topics, categories its
    section, `updated` its updated date."""
    articles, _ = load(ROOTS["zola"])
    article = articles["blog/2021-08-01-zola-post.md"]
    assert article.url == "https://news.example/blog/custom-zola-path"
    assert article.updated.isoformat() == "2021-08-03T00:00:00+00:00"
    assert article.origins["topics"] == "taxonomies.tags"


@pytest.mark.parametrize("tool", sorted(EXPECTED))
def test_each_tool_site_builds_feeds_a_reader_parses(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`feedpub build` of each tool's folder: the all-articles feed holds exactly the posts the
    tool would publish, with their section and tags as categories, as feedparser reads them."""
    monkeypatch.chdir(tmp_path)
    result = build_site(ROOTS[tool], tmp_path / "feeds")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    feed = read_feed(tmp_path / "feeds" / "all.atom")
    published = {
        values[0]: {values[2], *values[3]} for values in EXPECTED[tool].values() if not values[5]
    }
    assert {entry.title: {tag.term for tag in entry.get("tags", [])} for entry in feed.entries} == (
        published
    )


# --- Every spelling of a field gives the same article ----------------------------------------

BASE = {"title": "A title", "section": "Opinion", "published": "2021-03-30T09:15:00Z"}
SPELLINGS: dict[str, list[tuple[dict[str, object], dict[str, object]]]] = {
    # field: [(canonical front matter, the same in another tool's spelling), ...]
    "published": [({}, {"published": None, key: BASE["published"]})
                  for key in ("date", "publishDate", "pubDate")],
    "updated": [({"updated": "2021-04-01"}, {key: "2021-04-01"})
                for key in ("lastmod", "last_modified_at", "modified", "updated_at")],
    "section": [({}, {"section": None, "category": "Opinion"}),
                ({}, {"section": None, "categories": ["Opinion"]})],
    "topics": [({"topics": ["Asia", "Japan"]}, {key: ["Asia", "Japan"]})
               for key in ("tags", "keywords")]
              + [({"topics": ["Asia", "Japan"]}, {"section": None,
                                                  "categories": ["Opinion", "Asia", "Japan"]})],
    "subtitle": [({"subtitle": "A deck"}, {key: "A <b>deck</b>"})
                 for key in ("description", "summary", "excerpt", "deck")],
    "author": [({"author": ["A B"]}, {key: ["A B"]}) for key in ("authors", "byline")]
              + [({"author": "A B"}, {"author": {"name": "A B"}})],
    "image": [({"image": "/a.jpg"}, {key: value}) for key, value in (
        ("image", {"path": "/a.jpg"}), ("image", {"src": "/a.jpg"}), ("images", ["/a.jpg"]),
        ("cover", "/a.jpg"), ("cover", {"image": "/a.jpg"}), ("featured_image", "/a.jpg"))],
    "url": [({"url": "/x/"}, {key: "/x/"})
            for key in ("permalink", "canonical_url", "canonicalURL", "path")],
    "draft": [({"draft": "true"}, {"published": "false", "date": BASE["published"]})],
}  # fmt: skip
CASES = [(name, *pair) for name, pairs in SPELLINGS.items() for pair in pairs]


def yaml_file(front: dict[str, object]) -> bytes:
    """Front matter as YAML: each value written as JSON, which YAML reads as it is."""
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()]
    return ("---\n" + "\n".join(lines) + "\n---\nBody.\n").encode()


def toml_file(front: dict[str, object]) -> bytes:
    """Front matter as TOML: tables after the keys, strings and lists written as JSON."""
    plain = {key: value for key, value in front.items() if not isinstance(value, dict)}
    lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in plain.items()]
    for key, value in front.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{name} = {json.dumps(item)}" for name, item in value.items()]
    return ("+++\n" + "\n".join(lines) + "\n+++\nBody.\n").encode()


def merged(*parts: dict[str, object]) -> dict[str, object]:
    front: dict[str, object] = {}
    for part in parts:
        front.update(part)
    return {key: value for key, value in front.items() if value is not None}


WORDS = st.text(alphabet=st.sampled_from("abcdefgh XYZ éü東"), min_size=1, max_size=15).filter(
    lambda text: text.strip() != ""
)


@settings(max_examples=150, deadline=None, database=None)
@given(case=st.sampled_from(CASES), title=WORDS, form=st.sampled_from([yaml_file, toml_file]))
def test_every_spelling_gives_the_canonical_article(
    case: tuple[str, dict[str, object], dict[str, object]],
    title: str,
    form: object,
) -> None:
    """A field in any accepted spelling (SPEC §5), in YAML or TOML, gives the same Article as
    the canonical key, without a problem."""
    _, canonical, other = case
    assert callable(form)
    base = {**BASE, "title": title}
    expected = parse_article(form(merged(base, canonical)), "a/x.md", CONFIG)
    actual = parse_article(form(merged(base, other)), "a/x.md", CONFIG)
    assert expected.problems == ()
    assert actual.problems == ()
    assert expected.article is not None
    assert actual.article is not None
    assert replace(actual.article, digest=expected.article.digest) == expected.article


# --- Front matter forms and line numbers ----------------------------------------------------


def problems_of(parsed: Parsed) -> list[str]:
    return [str(problem) for problem in parsed.problems]


def test_toml_error_names_the_file_line() -> None:
    """A TOML syntax error is reported on the line of the file (the `+++` is line 1)."""
    raw = b'+++\ntitle = "A"\ndate = \ntags = ["a"]\n+++\nBody.\n'
    parsed = parse_article(raw, "x.md", CONFIG)
    assert problems_of(parsed) == ["x.md:3: error: front matter is not valid TOML: Invalid value"]
    unclosed = parse_article(b'+++\ntitle = "A"\ntags = ["a",\n+++\nBody.\n', "x.md", CONFIG)
    assert problems_of(unclosed) == [
        "x.md:4: error: front matter is not valid TOML: Invalid value at its end"
    ]


def test_toml_values_are_kept_as_text_and_lines_are_right() -> None:
    """TOML booleans, numbers and dates become text; a field's problem names its line."""
    raw = b'+++\ntitle = "A"\ndate = 2021-03-30T09:15:00Z\nweight = 3\ndraft = "maybe"\n+++\nB.\n'
    raw = raw.replace(b"weight", b'category = "News"\nweight')
    parsed = parse_article(raw, "x.md", CONFIG)
    assert problems_of(parsed) == ["x.md:6: error: draft: expected true or false, got 'maybe'"]


def test_pelican_header_lines_and_case_insensitive_keys() -> None:
    """A Pelican header's keys are case-insensitive; each problem names its line."""
    raw = b"TITLE: A\nDate: not a date\ncategory: News\n\nBody.\n"
    parsed = parse_article(raw, "x.md", CONFIG)
    assert problems_of(parsed) == [
        "x.md:2: error: date: 'not a date' is not a date; "
        "expected e.g. 2021-03-30 or 2021-03-30T09:15:00-04:00"
    ]


def test_pelican_header_body_starts_after_the_blank_line() -> None:
    """The body of a Pelican file is what follows the header's first blank line."""
    raw = b"Title: A\nDate: 2021-03-30\nCategory: News\n\nThe body.\n"
    parsed = parse_article(raw, "x.md", CONFIG)
    assert parsed.article is not None
    assert parsed.article.body == "The body.\n"


# --- Keys: other tools' keys silent, typos warned, hints from a table ------------------------

REQUIRED = 'title: A\nsection: News\npublished: "2021-03-30"\n'


def parse_yaml(front: str) -> Parsed:
    return parse_article(f"---\n{front}---\nBody.\n".encode(), "x.md", CONFIG)


def test_other_tools_keys_are_ignored_without_a_warning() -> None:
    """Keys that Jekyll, Hugo, Eleventy, Pelican or Zola define and feedpub does not use give
    no warning."""
    keys = [
        "layout", "comments", "toc", "weight", "aliases", "type", "template", "sitemap",
        "eleventyNavigation", "in_search_index", "linkTitle", "ShowToc", "render_with_liquid",
    ]  # fmt: skip
    parsed = parse_yaml(REQUIRED + "".join(f"{key}: x\n" for key in keys))
    assert parsed.problems == ()
    assert parsed.article is not None


def test_a_key_no_tool_defines_still_warns() -> None:
    """`tittle` is a typo no tool defines: a warning with the key meant."""
    parsed = parse_yaml(REQUIRED + "tittle: A\n")
    assert problems_of(parsed) == [
        "x.md:5: warning: tittle: unknown key 'tittle' is ignored; did you mean 'title'?"
    ]


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("thumbnail", "; feedpub reads 'image' instead"),
        ("created_at", "; feedpub reads 'published' instead"),
        ("Title", "; did you mean 'title'? (keys are case-sensitive)"),
        ("descripton", "; did you mean 'description'?"),
        ("data", ""),
        ("colour", ""),
    ],
)
def test_unknown_key_hints_come_from_a_table(key: str, hint: str) -> None:
    """Hints for other tools' keys come from a fixed table; no fuzzy guess across meanings."""
    parsed = parse_yaml(REQUIRED + f"{key}: x\n")
    assert problems_of(parsed) == [f"x.md:5: warning: {key}: unknown key {key!r} is ignored{hint}"]


def test_every_field_problem_of_a_file_is_reported_at_once() -> None:
    """A file with a missing title, a bad date, a bad image address and a bad id: all four
    problems in one run, not the image's only after the others are fixed."""
    parsed = parse_yaml(
        'section: News\npublished: "soon"\nid: not an iri\nimage:\n  url: "javascript:x"\n'
    )
    assert [problem.field for problem in parsed.problems] == [
        "title", "published", "id", "image.url"
    ]  # fmt: skip


def test_empty_image_is_absent() -> None:
    """`image:` with nothing after it is no image, as an empty `subtitle:` is no subtitle."""
    parsed = parse_yaml(REQUIRED + "image:\nsubtitle:\n")
    assert parsed.problems == ()
    assert parsed.article is not None
    assert parsed.article.image is None


def test_origins_say_where_each_field_came_from() -> None:
    """`Parsed.origins` (and `Article.origins`) map each field to the key it was read from."""
    raw = b"---\ntitle: A\ndate: 2021-03-30\ncategories: [News, Asia]\n---\nBody.\n"
    parsed = parse_article(raw, "articles/2021-03-30-story.md", CONFIG, "2021-03-30-story.md")
    assert parsed.article is not None
    assert parsed.origins == {
        "title": "title", "published": "date", "section": "categories[0]",
        "topics": "categories[1:]", "slug": "file name",
    }  # fmt: skip
    assert parsed.article.origins == parsed.origins


def test_section_from_folder_then_default_section() -> None:
    """Without a section key, the first folder under the articles folder names the section
    (not `_posts`), else `site.default_section`."""
    raw = b"---\ntitle: A\npublished: 2021-03-30\n---\nBody.\n"
    in_folder = parse_article(raw, "a/World/_posts/x.md", CONFIG, "World/_posts/x.md")
    assert in_folder.article is not None
    assert in_folder.article.section == "World"
    config = load_config('[site]\ndefault_section = "General"\n')
    at_root = parse_article(raw, "a/_posts/x.md", config, "_posts/x.md")
    assert at_root.article is not None
    assert (at_root.article.section, at_root.origins["section"]) == (
        "General",
        "site.default_section",
    )


def test_expired_article_is_a_draft_judged_against_now() -> None:
    """`expiryDate` before the build's `now` takes the article out; after it, it stays in."""
    raw = b"---\ntitle: A\nsection: B\npublished: 2021-03-30\nexpiryDate: 2022-01-01\n---\nB.\n"
    gone = parse_article(raw, "x.md", CONFIG, now=NOW)
    kept = parse_article(raw, "x.md", CONFIG, now=datetime(2021, 6, 1, tzinfo=UTC))
    assert gone.article is not None
    assert kept.article is not None
    assert (gone.article.draft, kept.article.draft) == (True, False)


def test_jekyll_space_separated_tags_and_comma_tags() -> None:
    """Jekyll splits `tags: a b` at spaces; a text with commas is split at commas."""
    spaced = parse_yaml(REQUIRED.replace("section: News\n", "category: News\n") + "tags: a b\n")
    commas = parse_yaml(REQUIRED + "tags: New York, Paris\n")
    assert spaced.article is not None
    assert commas.article is not None
    assert (spaced.article.topics, commas.article.topics) == (("a", "b"), ("New York", "Paris"))


# --- The topic limit holds on every path ----------------------------------------------------

MANY = [f"t{number}" for number in range(MAX_TOPICS + 1)]


@pytest.mark.parametrize(
    "raw",
    [
        yaml_file({**BASE, "topics": MANY}),  # the fast reader
        yaml_file({**BASE, "topics": MANY, "subtitle": "\\u00e9"}),  # PyYAML (an escape)
        yaml_file({**BASE, "topics": ", ".join(MANY)}),  # one comma-separated text
        yaml_file({**BASE, "tags": " ".join(MANY)}),  # Jekyll's spaces
        toml_file({**BASE, "tags": MANY}),  # TOML
        ("Title: A\nCategory: B\nDate: 2021-03-30\nTags: " + ", ".join(MANY) + "\n\nB.\n").encode(),
    ],
    ids=["fast", "pyyaml", "comma-text", "space-text", "toml", "pelican"],
)
def test_more_topics_than_the_limit_is_an_error_on_every_path(raw: bytes) -> None:
    """More than MAX_TOPICS topics: an error naming the file, the line and the limit."""
    parsed = parse_article(raw, "x.md", CONFIG)
    assert parsed.article is None
    [problem] = parsed.problems
    assert problem.line is not None
    assert problem.message == (
        f"more than {MAX_TOPICS} topics are given; expected at most {MAX_TOPICS} "
        "(each topic is a feed of its own)"
    )


# --- The folder: extensions, _posts, and where the articles probably are ---------------------


def test_every_markdown_extension_is_read_and_underscore_folders_but_posts_skipped(
    tmp_path: Path,
) -> None:
    """`.md`, `.markdown`, `.mkd`, `.mdown`, `.mkdn`, `.mdwn` are articles; `_posts/` is read,
    `_drafts/`, `_site/` and `_index.md` are not; other extensions are not articles."""
    names = [f"a{ext}" for ext in (".md", ".markdown", ".mkd", ".mdown", ".mkdn", ".mdwn")]
    for name in [*names, "_posts/b.md", "_drafts/c.md", "_site/d.md", "_index.md", "e.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert sorted(file.source for file in scan(tmp_path).files) == sorted([*names, "_posts/b.md"])


def test_a_folder_without_articles_says_where_they_probably_are(tmp_path: Path) -> None:
    """A site folder whose articles are in `content/`: pointed at an empty `articles/`, the
    scan warns where the articles probably are; a missing folder's error says so too."""
    (tmp_path / "content").mkdir()
    (tmp_path / "articles").mkdir()
    scanned = scan(tmp_path / "articles")
    assert [str(problem) for problem in scanned.problems] == [
        f"{tmp_path / 'articles'}: warning: no article found; {tmp_path / 'content'} looks "
        f"like the articles: try --articles {tmp_path / 'content'}"
    ]
    with pytest.raises(UsageError, match="try --articles"):
        scan(tmp_path / "missing")
    jekyll = tmp_path / "site" / "jekyll"
    (jekyll / "_posts").mkdir(parents=True)
    with pytest.raises(UsageError, match=f"try --articles {jekyll}$"):
        scan(jekyll / "articles")  # Jekyll's posts are read from the site's root
    empty_posts = no_articles_hint(jekyll)
    assert empty_posts is not None
    assert empty_posts.message.startswith(f"no article found; {jekyll / '_posts'} holds no file")
    drafts_only = tmp_path / "sites" / "jekyll"
    (drafts_only / "_drafts").mkdir(parents=True)
    hint = no_articles_hint(drafts_only)
    assert hint is not None
    assert "names starting with '.' or '_' are skipped (_drafts)" in hint.message


def test_check_on_a_tool_site_reports_what_build_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`feedpub check` on Eleventy's site prints the same problem lines as `feedpub build`."""
    monkeypatch.chdir(tmp_path)
    built = build_site(ROOTS["eleventy"], tmp_path / "feeds")
    checked = run("check", "--articles", ROOTS["eleventy"], "--now", "2026-01-01T00:00:00Z")
    lines = [line for line in built.output.splitlines() if "warning:" in line]
    assert lines == EXPECTED_PROBLEMS["eleventy"]
    assert [line for line in checked.output.splitlines() if "warning:" in line] == lines


def test_origins_of_one_file_for_check_verbose() -> None:
    """`origins_of` parses one file and says where each field came from (for `check -v`)."""
    origins = origins_of(ROOTS["hugo"], CONFIG, "posts/annapolis-talks/index.md")
    assert origins == {
        "title": "title", "published": "date", "updated": "lastmod", "draft": "draft",
        "section": "categories[0]", "topics": "tags", "subtitle": "description",
        "image": "cover.image", "slug": "folder",
    }  # fmt: skip
    assert origins_of(ROOTS["hugo"], CONFIG, "missing.md") == {}


@pytest.mark.parametrize(
    ("front", "field", "line"),
    [
        ("image: javascript:x\n", "image.url", 5),
        ("featured_image: javascript:x\n", "featured_image", 5),
        ("images: [javascript:x]\n", "images[0]", 5),
        ("cover:\n  image: javascript:x\n", "cover.image", 6),
        ("image:\n  path: javascript:x\n", "image.path", 6),
    ],
)
def test_a_bad_image_address_names_the_key_it_was_written_under(
    front: str, field: str, line: int
) -> None:
    """A bad image address is reported under the key the user wrote, on its line."""
    parsed = parse_yaml(REQUIRED + front)
    assert [(problem.field, problem.line) for problem in parsed.problems] == [(field, line)]


def test_an_article_leaves_the_feeds_when_its_expiry_date_comes(tmp_path: Path) -> None:
    """`expiryDate` (Hugo) in the future: published now; a rerun after it, with nothing else
    changed, takes the article out (the expiry is a due date, never skipped)."""
    articles = tmp_path / "articles"
    write_article(articles, "keep.md", "title: Keep\nsection: News\npublished: 2021-03-01")
    write_article(articles, "offer.md", "title: Offer\nsection: News\npublished: 2021-03-02\n"
                  "expiryDate: 2021-06-01T00:00:00Z")  # fmt: skip
    out = tmp_path / "feeds"
    assert build_site(articles, out, None, now="2021-05-01T00:00:00Z").exit_code == 0
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Offer", "Keep"]
    assert build_site(articles, out, None, now="2021-05-15T00:00:00Z").exit_code == 0
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Offer", "Keep"]
    assert build_site(articles, out, None, now="2021-06-01T00:00:00Z").exit_code == 0
    assert [e.title for e in read_feed(out / "all.atom").entries] == ["Keep"]


def test_check_verbose_says_which_key_each_field_came_from() -> None:
    """`feedpub check -v` prints, on stdout, each article's fields with the key they came from."""
    result = run("check", "-v", "--articles", ROOTS["jekyll"])
    lines = [line for line in result.stdout.splitlines() if "trilateral-talks" in line]
    assert len(lines) == 1
    assert "section ← categories[0]" in lines[0]
    assert "subtitle ← excerpt" in lines[0]
    assert "slug ← file name" in lines[0]
    assert "trilateral-talks" not in result.stderr
