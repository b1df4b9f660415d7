"""Web addresses: joining, quoting and checking, shared by config, parse and content."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

# Characters left alone when an address is quoted: the reserved set and `%`,
# so an address that is already quoted stays as it is.
_SAFE = "/:?#[]@!$&'()*+,;=%~"


def quote_iri(address: str) -> str:
    """Percent-encode what a URI may not carry (spaces, non-ASCII) and nothing else."""
    return quote(address, safe=_SAFE)


def is_absolute_http(address: str) -> bool:
    """True for an `http:` or `https:` address with a host."""
    parts = urlsplit(address)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def absolute(address: str, base: str) -> str:
    """`address` resolved against `base` and quoted, as every address in a feed is."""
    return quote_iri(urljoin(base, address.strip()))


def with_slash(address: str) -> str:
    """`address` ending in exactly one `/`, so that joining under it stays under it."""
    return address if address.endswith("/") else address + "/"
