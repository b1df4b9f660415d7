"""Pelican, configured to write feeds only, for benchmarks/run.py (checked with Pelican 4.12).

Atom and RSS for all articles, for each category (feedpub's section) and for each tag
(feedpub's topics), 50 entries each, with full content as feedpub writes; no article, page,
index, archive, category, tag or author page, and no theme files. The reader-level content
cache is on, so that a rerun can reuse parsed articles, as feedpub's does.
"""

AUTHOR = "Articles"
SITENAME = "Articles"
SITEURL = "https://example.org"
FEED_DOMAIN = SITEURL
TIMEZONE = "UTC"
DEFAULT_LANG = "en"

PATH = "content"
ARTICLE_PATHS = [""]
PAGE_PATHS: list[str] = []
STATIC_PATHS: list[str] = []
THEME_STATIC_PATHS: list[str] = []
USE_FOLDER_AS_CATEGORY = False

FEED_MAX_ITEMS = 50
RSS_FEED_SUMMARY_ONLY = False
FEED_ALL_ATOM = "all.atom"
FEED_ALL_RSS = "all.rss"
CATEGORY_FEED_ATOM = "sections/{slug}.atom"
CATEGORY_FEED_RSS = "sections/{slug}.rss"
TAG_FEED_ATOM = "topics/{slug}.atom"
TAG_FEED_RSS = "topics/{slug}.rss"
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None

DIRECT_TEMPLATES: list[str] = []
PAGINATED_TEMPLATES: dict[str, int | None] = {}
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
PAGE_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
STATIC_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
INDEX_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""

CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
