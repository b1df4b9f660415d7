"""Front matter as other tools write it (SPEC §5): equivalent keys, and keys to leave alone.

Jekyll, Hugo, Pelican, Eleventy and Zola name feedpub's fields differently.
:func:`resolve` maps a document's keys onto feedpub's canonical keys, in the
order of SPEC §5's table (the canonical key always wins, then the first
equivalent present), and says where each field came from. Keys that those
tools define and feedpub does not use are ignored without a warning; a key no
tool defines is a warning, with a hint from a fixed table (never a fuzzy
guess across meanings: ``date`` is not offered as ``updated``).
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass, field

from .frontmatter import Field, Form, Value

CANONICAL = (
    "title", "section", "topics", "published", "updated", "subtitle",
    "author", "image", "id", "slug", "url", "draft",
)  # fmt: skip
CANONICAL_SET = frozenset(CANONICAL)

# feedpub's field ← the keys read in its place, first present wins (SPEC §5).
# `categories` gives its first item to `section` and the others to `topics`.
EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "published": ("date", "publishDate", "publishdate", "pubDate", "pubdate"),
    "updated": ("lastmod", "last_modified_at", "modified", "updated_at"),
    "section": ("category", "categories", "taxonomies.categories"),
    "topics": ("tags", "keywords", "categories", "taxonomies.tags"),
    "subtitle": ("description", "summary", "excerpt", "deck"),
    "author": ("authors", "byline"),
    "image": ("images", "cover", "featured_image"),
    "url": ("permalink", "canonical_url", "canonicalURL", "canonicalurl", "path"),
    "expires": ("expiryDate", "expirydate", "expires"),
}
EQUIVALENT_KEYS = frozenset(key.split(".")[0] for keys in EQUIVALENTS.values() for key in keys)

# Keys that Jekyll, Hugo, Pelican, Eleventy, Zola (and their common themes and
# plugins) define, which feedpub does not use: ignored without a warning.
# Compared in lower case (Hugo's keys are case-insensitive, Pelican's too).
TOOL_KEYS = frozenset(
    key.lower()
    for key in (
        # Jekyll and its common plugins (jekyll-seo-tag, jekyll-feed, minimal-mistakes)
        "layout",
        "published",
        "render_with_liquid",
        "excerpt_separator",
        "comments",
        "share",
        "toc",
        "toc_label",
        "toc_icon",
        "toc_sticky",
        "sidebar",
        "header",
        "author_profile",
        "read_time",
        "related",
        "classes",
        "redirect_from",
        "redirect_to",
        "seo",
        "lang",
        "locale",
        "sitemap",
        "hidden",
        "pin",
        "math",
        "mathjax",
        "mermaid",
        "pagination",
        "feature",
        "featured",
        "feed",
        "last_modified_at",
        "show_date",
        "words_per_minute",
        "entries_layout",
        "search",
        "mathjax",
        "tagline",
        "twitter",
        "facebook",
        "og_image",
        "canonical",
        "noindex",
        # Hugo (front matter fields, and PaperMod and other popular themes)
        "aliases",
        "audio",
        "build",
        "cascade",
        "headless",
        "isCJKLanguage",
        "linkTitle",
        "markup",
        "menu",
        "menus",
        "outputs",
        "params",
        "resources",
        "series",
        "translationKey",
        "type",
        "videos",
        "weight",
        "showToc",
        "TocOpen",
        "hidemeta",
        "ShowReadingTime",
        "ShowBreadCrumbs",
        "ShowPostNavLinks",
        "ShowWordCount",
        "ShowRssButtonInSectionTermList",
        "UseHugoToc",
        "disableShare",
        "disableHLJS",
        "hideSummary",
        "searchHidden",
        "editPost",
        "ShowCodeCopyButtons",
        "ShowShareButtons",
        "hideAuthor",
        "hideMeta",
        "norss",
        "nosearch",
        "thumbnailImagePosition",
        "slug",
        "unlisted",
        # Pelican
        "lang",
        "translation",
        "template",
        "save_as",
        "status",
        "series_index",
        "header_cover",
        "og_image",
        "og_description",
        "twitter_image",
        # Eleventy
        "eleventyExcludeFromCollections",
        "eleventyComputed",
        "eleventyNavigation",
        "eleventyImport",
        "eleventyDataSchema",
        "templateEngineOverride",
        "dynamicPermalink",
        "permalinkBypassOutputDir",
        # Zola
        "in_search_index",
        "taxonomies",
        "extra",
        "render",
        "sort_by",
        "paginate_by",
        "paginate_path",
        "insert_anchor_links",
        "transparent",
        "page_template",
        "generate_feed",
        "generate_feeds",
        "redirect_to",
        "weight",
        # MultiMarkdown metadata
        "base header level",
        "css",
        "format",
        "xhtml header",
        "html header",
        "mmd header",
        "mmd footer",
        "quotes language",
        "latex input",
        "latex mode",
    )
)
# Keys inside an image mapping that other tools define (jekyll-seo-tag, Hugo's
# cover, PaperMod): ignored without a warning.
IMAGE_TOOL_KEYS = frozenset(
    ("alt", "width", "height", "relative", "hidden", "hiddeninlist", "hiddeninsingle",
     "responsiveimages", "linkfullimages", "title", "image", "path", "src")
)  # fmt: skip

# Keys people write that no tool reads as feedpub would: the key feedpub reads instead.
HINTS: dict[str, str] = {
    "thumbnail": "image", "featuredimage": "image", "feature_image": "image",
    "featureimage": "image", "hero": "image", "hero_image": "image", "banner": "image",
    "lead_image": "image", "headline": "title", "name": "title", "teaser": "subtitle",
    "lede": "subtitle", "lead": "subtitle", "abstract": "subtitle", "standfirst": "subtitle",
    "created": "published", "created_at": "published", "date_published": "published",
    "published_at": "published", "publish_date": "published", "pub_date": "published",
    "date_modified": "updated", "modified_at": "updated", "last_modified": "updated",
    "lastmodified": "updated", "updated_on": "updated", "tag": "topics", "topic": "topics",
    "subjects": "topics", "subject": "topics", "column": "section", "rubric": "section",
    "writer": "author", "creator": "author", "contributors": "author", "link": "url",
    "href": "url", "private": "draft", "unpublished": "draft",
}  # fmt: skip

_DATE_PREFIX = re.compile(r"(\d{4}-\d{2}-\d{2})[-_]")
_TAGS = re.compile(r"<[^<>]*+>")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
BUNDLE_NAMES = ("index", "_index")


@dataclass(slots=True)
class Resolved:
    """The front matter under feedpub's keys, and where each came from.

    `names` gives the key as written for each canonical key (used in
    messages), `origins` the source of each field for ``feedpub check -v``
    (a key, ``categories[0]``, ``file name``, ``folder``, …), `unused` the
    keys that nothing reads.
    """

    fields: dict[str, Field]
    names: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    unused: list[tuple[str, int]] = field(default_factory=list)  # (key, line)
    notes: list[tuple[str, int, str]] = field(default_factory=list)  # (key, line, warning)
    stem: str = ""  # the slug when none is given: the file name less its date prefix


def split_names(value: str, *, spaces: bool) -> list[str]:
    """A text of names split at commas, or (with `spaces`, where there is no comma) at spaces."""
    if "," in value:
        return value.split(",")
    return value.split() if spaces else [value]


def strip_html(text: str) -> str:
    """Plain text of an HTML fragment (tags dropped, entities decoded); linear."""
    if "<" not in text and "&" not in text:
        return text
    return html.unescape(_TAGS.sub("", text))


def date_prefix(stem: str) -> tuple[str | None, str]:
    """The `YYYY-MM-DD` prefix of a file name and the name without it."""
    match = _DATE_PREFIX.match(stem)
    if match is None:
        return None, stem
    return match.group(1), stem[match.end() :]


def stem_of(path: str) -> tuple[str, bool]:
    """The name an article's slug is made from, and whether it is a page bundle's folder."""
    parts = path.replace("\\", "/").split("/")
    stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    if stem in BUNDLE_NAMES and len(parts) > 1 and parts[-2]:
        return parts[-2], True
    return stem, False


def folder_section(source: str, bundle: bool) -> str | None:
    """The article's first folder under the articles folder (not `_posts`, not its bundle)."""
    parts = source.replace("\\", "/").split("/")[:-1]
    if bundle and parts:
        parts = parts[:-1]
    for part in parts:
        if part != "_posts" and part:
            return part
    return None


def _present(fields: dict[str, Field], key: str) -> Field | None:
    """The field of a key, or of a `table.key` path; None when absent or empty."""
    if "." in key:
        table, name = key.split(".", 1)
        outer = fields.get(table)
        if outer is None or not isinstance(outer.value, dict) or name not in outer.value:
            return None
        entry: Field | None = Field(outer.value[name], outer.lines.get(name, outer.line))
    else:
        entry = fields.get(key)
    if entry is None:
        return None
    return None if entry.value in ("", [], {}) else entry


def resolve(
    fields: dict[str, Field], form: str, *, path: str, source: str, default_section: str | None
) -> Resolved:
    """Map `fields` onto feedpub's keys (SPEC §5). Pure; no problem is raised here."""
    if fields.keys() <= CANONICAL_SET and not _is_flag(fields.get("published")):
        # feedpub's own front matter: the common case, nothing to map
        # (the slug, date and section may still come from the file's place below).
        resolved = Resolved(dict(fields), {}, {key: key for key in fields})
    else:
        resolved = _resolve_keys(fields, form)
    out = resolved.fields
    image = out.get("image")
    if image is not None and isinstance(image.value, dict) and "url" not in image.value:
        _image_inside(resolved, image)
    # Named from its place below the articles folder, never from that folder's own name: an
    # `index.md` right in it is no page bundle, and moving the folder changes no id.
    stem, bundle = stem_of(source or path)
    prefix_date, bare = date_prefix(stem)
    resolved.stem = bare
    given = out.get("slug")
    if given is None or (isinstance(given.value, str) and not given.value.strip()):
        resolved.origins["slug"] = "folder" if bundle else "file name"
    if "published" not in out and prefix_date is not None:
        out["published"] = Field(prefix_date, 0)
        resolved.origins["published"] = "file name"
    if "section" not in out:
        folder = folder_section(source, bundle) if source else None
        if folder is not None:
            out["section"] = Field(folder, 0)
            resolved.origins["section"] = "folder"
        elif default_section is not None:
            out["section"] = Field(default_section, 0)
            resolved.origins["section"] = "site.default_section"
    return resolved


def _resolve_keys(fields: dict[str, Field], form: str) -> Resolved:
    mapper = _Mapper(fields, form)
    mapper.canonical()
    mapper.equivalents()
    mapper.status()
    return mapper.finish()


class _Mapper:
    """One document's keys mapped onto feedpub's, step by step (see :func:`resolve`)."""

    def __init__(self, fields: dict[str, Field], form: str) -> None:
        self.fields = fields
        self.form = form
        self.resolved = Resolved({})
        self.out = self.resolved.fields
        self.used: set[str] = set()
        self.categories = _names_of(fields.get("categories"), spaces=form == Form.YAML)
        self.section_from_categories = False

    def take(self, canonical: str, key: str, entry: Field, origin: str | None = None) -> None:
        top = key.partition(".")[0]
        self.out[canonical] = entry
        self.resolved.names[canonical] = top
        self.resolved.origins[canonical] = origin or key
        self.used.add(top)

    def canonical(self) -> None:
        for key in CANONICAL:
            entry = self.fields.get(key)
            if entry is not None and not (key == "image" and _present(self.fields, key) is None):
                self.take(key, key, entry)
        if "image" in self.fields:
            self.used.add("image")
        # Jekyll's `published: false` is a draft flag, not a date.
        flag = self.fields.get("published")
        if flag is not None and isinstance(flag.value, str) and _is_flag(flag):
            del self.out["published"]
            del self.resolved.names["published"], self.resolved.origins["published"]
            if "draft" not in self.out:
                draft = "false" if flag.value.strip().lower() in _TRUE else "true"
                self.take("draft", "published", Field(draft, flag.line))

    def equivalents(self) -> None:
        for canonical, keys in EQUIVALENTS.items():
            if canonical in self.out:
                continue
            for key in keys:
                entry = _present(self.fields, key)
                if entry is not None and self.one(canonical, key, entry):
                    break

    def one(self, canonical: str, key: str, entry: Field) -> bool:  # noqa: PLR0911, PLR0912
        """Take `key` for `canonical` if it gives a value; True when it did."""
        value = entry.value
        if key == "categories":
            if canonical == "section":
                if not self.categories:
                    return False
                self.take("section", key, Field(self.categories[0], entry.line), "categories[0]")
                self.section_from_categories = True
                return True
            rest = self.categories[1:] if self.section_from_categories else self.categories
            if not rest:
                return False
            origin = "categories[1:]" if self.section_from_categories else "categories"
            self.take("topics", key, Field(rest, entry.line), origin)
            return True
        if canonical == "section" and isinstance(value, list):  # Zola's taxonomies.categories
            if not value:
                return False
            self.take("section", key, Field(value[0], entry.line), f"{key}[0]")
            return True
        if canonical == "image":
            image = _image_of(key, entry)
            if image is not None:
                self.take("image", key, image[0], image[1])
            return image is not None
        if isinstance(value, str):
            if canonical == "topics":
                spaces = self.form == Form.YAML and key == "tags"  # Jekyll's `tags: a b`
                entry = Field(_texts(split_names(value, spaces=spaces)), entry.line)
            elif canonical == "author" and self.form == Form.HEADER:  # Pelican's `Authors: a, b`
                entry = Field(_texts(re.split(r"[,;]", value)), entry.line)
            elif canonical == "subtitle":
                entry = Field(strip_html(value), entry.line)
            elif key == "permalink" and _is_pattern(value):
                if value.strip().lower() != "false":  # Eleventy's "write no page"
                    self.resolved.notes.append((
                        key, entry.line, f"{value!r} is a pattern of another tool, not an "
                        "address; the site's link_pattern is used",
                    ))  # fmt: skip
                self.used.add(key)
                return False
        self.take(canonical, key, entry)
        return True

    def status(self) -> None:
        """Pelican's `Status: draft` / `hidden` / `published`."""
        status = self.fields.get("status")
        if status is None or not isinstance(status.value, str) or "draft" in self.out:
            return
        self.used.add("status")
        state = status.value.strip().lower()
        if state in ("draft", "hidden"):
            self.take("draft", "status", Field("true", status.line))
        elif state not in ("published", ""):
            self.resolved.notes.append((
                "status", status.line,
                f"expected draft, hidden or published, got {status.value!r}",
            ))  # fmt: skip

    def finish(self) -> Resolved:
        for key in self.fields:
            if key in self.used or key in CANONICAL_SET:
                continue
            if key in EQUIVALENT_KEYS or key.lower() in TOOL_KEYS:
                continue  # an equivalent that a canonical key or an earlier one won over
            self.resolved.unused.append((key, self.fields[key].line))
        return self.resolved


def _is_pattern(value: str) -> bool:
    """True for a permalink that is a pattern: Jekyll's `/:year/:title/`, Eleventy's `{{ }}`."""
    value = value.strip()
    return (
        ("/:" in value or value.startswith(":")) and "://" not in value
    ) or "{{" in value or "{%" in value or value.lower() == "false"  # fmt: skip


def _texts(items: list[str]) -> list[Value]:
    return [item for item in items if item.strip()]


def _image_inside(resolved: Resolved, image: Field) -> None:
    """`image:` as a mapping with `path` or `src` (jekyll-seo-tag), or Hugo's `cover.image`."""
    assert isinstance(image.value, dict)
    for key in ("path", "src", "image"):
        inner = image.value.get(key)
        if isinstance(inner, str) and inner.strip():
            value = {**image.value, "url": inner}
            lines = {**image.lines, "url": image.lines.get(key, image.line)}
            resolved.fields["image"] = Field(value, image.line, lines)
            name = resolved.names.get("image", "image")
            resolved.origins["image"] = f"{name}.{key}"
            return


def _is_flag(entry: Field | None) -> bool:
    """True when `published` holds Jekyll's true/false rather than a date."""
    return (
        entry is not None and isinstance(entry.value, str)
        and entry.value.strip().lower() in _TRUE | _FALSE
    )  # fmt: skip


def _names_of(entry: Field | None, *, spaces: bool) -> list[Value]:
    if entry is None:
        return []
    value = entry.value
    if isinstance(value, str):
        return [name for name in split_names(value, spaces=spaces) if name.strip()]
    if isinstance(value, list):
        return list(value)
    return [value]


def _image_of(key: str, entry: Field) -> tuple[Field, str] | None:
    """The image that `images[0]`, `cover` (text or mapping) or `featured_image` names."""
    value = entry.value
    if key == "images":
        first = value[0] if isinstance(value, list) and value else value
        if isinstance(first, str) and first.strip():
            return Field(first, entry.line), "images[0]"
        if isinstance(first, dict):
            return Field(first, entry.line, entry.lines), "images[0]"
        return None
    if isinstance(value, str):
        return (Field(value, entry.line), key) if value.strip() else None
    if isinstance(value, dict):
        return Field(value, entry.line, entry.lines), key
    return Field(value, entry.line), key


def hint(key: str, known: tuple[str, ...] = CANONICAL) -> str:
    """The hint for an unknown key: the key feedpub reads instead, if any ("" when none)."""
    lower = key.lower()
    if lower in HINTS:
        return f"; feedpub reads {HINTS[lower]!r} instead"
    for name in known:
        if name.lower() == lower:
            return f"; did you mean {name!r}? (keys are case-sensitive)"
    if len(key) > 40:  # difflib is quadratic: a long key resembles nothing
        return ""
    # A typo of a key feedpub reads: close in spelling (most letters in order), never
    # a key of another meaning that merely shares a few letters.
    candidates = known if known is not CANONICAL else (*CANONICAL, *sorted(EQUIVALENT_KEYS))
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""
