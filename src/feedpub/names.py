"""Slugs and entry ids: the names that must never change and never escape.

A slug is a name normalised (NFKC), lower-cased, with every run of anything
but letters, combining marks and digits turned into ``-``. Letters of every
script are kept, so ``東アジア`` and ``Ближний Восток`` keep their meaning in
file names and addresses. A slug never contains ``/`` or ``.``, so a file
named after it cannot leave its folder.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from urllib.parse import quote

# File names are limited to 255 bytes; a slug of at most 100 characters (at
# most 400 bytes in UTF-8 is still too many in theory, so bytes are checked).
MAX_SLUG_BYTES = 200


_ASCII_RUNS = re.compile(r"[^a-z0-9]+")


def _kept(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMN"


@functools.lru_cache(maxsize=8192)
def slugify(name: str) -> str:
    """The slug of `name`; empty when the name has no letter or digit."""
    if name.isascii():  # NFKC leaves ASCII as it is: the common case, done in C
        return _ASCII_RUNS.sub("-", name.lower()).strip("-")[:MAX_SLUG_BYTES].strip("-")
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).lower())
    pieces: list[str] = []
    run: list[str] = []
    for char in text:
        if _kept(char):
            run.append(char)
        elif run:
            pieces.append("".join(run))
            run = []
    if run:
        pieces.append("".join(run))
    slug = "-".join(pieces)
    if len(slug.encode()) > MAX_SLUG_BYTES:
        slug = slug.encode()[:MAX_SLUG_BYTES].decode(errors="ignore").strip("-")
        slug = unicodedata.normalize("NFKC", slug)
    return slug


@functools.lru_cache(maxsize=8192)
def has_slug(name: str) -> bool:
    """True when `name` has at least one letter or digit to make a slug of."""
    return any(_kept(char) for char in unicodedata.normalize("NFKC", name))


def tag_uri(authority: str, day: date, slug: str) -> str:
    """An RFC 4151 tag URI: ``tag:<authority>,<YYYY-MM-DD>:<slug>``.

    It depends on nothing but the tag authority, the day of publication and
    the slug, so it survives edits to the article and moves of the site.
    """
    return f"tag:{authority},{day.isoformat()}:{quote(slug, safe='-')}"
