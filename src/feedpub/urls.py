"""Web addresses: joining, quoting and checking, shared by config, parse and content."""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, urljoin, urlsplit

# Characters left alone when an address is quoted: the reserved set and `%`,
# so an address that is already quoted stays as it is.
_SAFE = "/:?#[]@!$&'()*+,;=%~"


def quote_iri(address: str) -> str:
    """Percent-encode what a URI may not carry (spaces, non-ASCII) and nothing else."""
    return quote(address, safe=_SAFE)


def is_absolute_http(address: str) -> bool:
    """True for an `http:` or `https:` address with a host."""
    if address.startswith(("https://", "http://")) and _HOST_START.match(
        address, 8 if address[4] == "s" else 7
    ):
        return True
    parts = urlsplit(address)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


# A relative path with no dot segment and no empty segment (urljoin drops `//` from one).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_~-](?:/?[A-Za-z0-9_~-])*/?\Z")
# A base that urljoin keeps as it is: no query, fragment, dot or empty segment.
_PLAIN_BASE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?/(?:[A-Za-z0-9_~-]+/)*\Z")
_PLAIN_ROOTED = re.compile(r"/[A-Za-z0-9_~-][A-Za-z0-9_~/.-]*\Z")
_HOST_START = re.compile(r"[A-Za-z0-9]")
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9_~/.%+-]*)?\Z")


@functools.lru_cache(maxsize=64)
def _origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


@functools.lru_cache(maxsize=64)
def _plain_base(base: str) -> bool:
    return _PLAIN_BASE.match(base) is not None and "/." not in base


def absolute(address: str, base: str) -> str:
    """`address` resolved against `base` and quoted, as every address in a feed is.

    Raises ValueError for an address that cannot be parsed (e.g. `http://[::1`).
    """
    address = address.strip()
    if _PLAIN_ABSOLUTE.match(address) and "/." not in address:  # absolute, nothing to quote
        return address
    if _PLAIN_PATH.match(address) and _plain_base(base):  # a plain relative path: no dots
        return base + address
    if _PLAIN_ROOTED.match(address) and "/." not in address:  # a plain path from the root
        return _origin(base) + address
    return quote_iri(urljoin(base, address))


def with_slash(address: str) -> str:
    """`address` ending in exactly one `/`, so that joining under it stays under it."""
    return address if address.endswith("/") else address + "/"
