"""Properties of feedpub.urls: the shortcuts of `absolute` agree with urljoin."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feedpub.urls import absolute, quote_iri

BASES = [
    "https://news.example/",
    "https://news.example/2024/03/story/",
    "https://news.example/2024/03/story",
    "http://news.example:8080/a/",
    "https://news.example",
    "https://news.example/?q=/",
    "https://news.example/a/../",
    "https://news.example/a//",
    "https://news.example/#frag/",
    "https://news.example/a/./",
]


def slow_path(address: str, base: str) -> str:
    """What `absolute` computes without its shortcuts."""
    return quote_iri(urljoin(base, address.strip()))


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["", "/", "https://news.example/", "http://other.example/x/", " "]),
    st.text(alphabet="ab/.-_~%:?#0A é", max_size=14),
    st.sampled_from(BASES),
)
@example("", "a//b", "https://news.example/")
@example("", "b///-b0", "https://news.example/2024/03/story/")
@example("", "-//", "https://news.example/")
@example("", "a", "https://news.example/?q=/")
@example("", "a", "https://news.example/a/../")
def test_the_shortcuts_of_absolute_agree_with_urljoin(prefix: str, rest: str, base: str) -> None:
    """For any address and base, `absolute` gives what urljoin and quoting give."""
    address = prefix + rest
    try:
        expected = slow_path(address, base)
    except ValueError:
        with pytest.raises(ValueError, match=r"."):
            absolute(address, base)
        return
    assert absolute(address, base) == expected
