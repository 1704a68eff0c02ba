"""The OpenAPI description's `url` pattern refuses what the API refuses as characters, so a
generated client does not send a control character only to be told 422."""

from __future__ import annotations

import re

import pytest

from app.api.schemas import WEBHOOK_FIELDS
from app.domain.urls import url_problem

# Python's `$` also matches before a final newline, ECMA-262's (JSON Schema's) does not: an
# anchored pattern means a full match.
PATTERN = re.compile(WEBHOOK_FIELDS["url"]["pattern"])
CONTROLS = [chr(code) for code in [*range(0x20), 0x7F]]


@pytest.mark.parametrize("char", CONTROLS, ids=lambda char: f"U+{ord(char):04X}")
@pytest.mark.parametrize(
    "where", ["https://hooks.example{}.com/p", "https://hooks.example.com/p{}"]
)
def test_the_pattern_refuses_a_control_character(char, where):
    url = where.format(char)
    assert url_problem(url, require_https=True, allow_private=True) is not None
    assert not PATTERN.fullmatch(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com",
        "http://127.0.0.1:8000/é?q=ü",
        "https://[2606:4700::1111]:8443/p?x=%20#part",
        "HTTPS://Bücher.Example./~user/%C3%A9",
    ],
)
def test_the_pattern_accepts_what_the_api_accepts(url):
    assert url_problem(url, require_https=False, allow_private=True) is None
    assert PATTERN.fullmatch(url)
