"""Cutting text: within the limit as each service counts, never inside a grapheme cluster."""

from __future__ import annotations

import pytest
import regex

from app.domain.formats.text import ELLIPSIS, code_points, fit, utf8_bytes, utf16_units

FAMILY = "👨‍👩‍👧‍👦"  # 7 code points, 11 UTF-16 units, 25 UTF-8 bytes, one character to a reader
FLAG = "🇯🇵"
ACCENTED = "e\u0301"  # e + combining acute accent
SKIN_TONE = "👍🏽"


def graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def test_short_text_is_unchanged():
    assert fit("AAPL 🚀", 7) == "AAPL 🚀"


def test_a_cut_text_ends_in_an_ellipsis_within_the_limit():
    cut = fit("abcdefghij", 5)
    assert cut == "abcd" + ELLIPSIS and len(cut) == 5


@pytest.mark.parametrize("measure", [code_points, utf16_units, utf8_bytes])
@pytest.mark.parametrize("unit", [FAMILY, FLAG, ACCENTED, SKIN_TONE, "日", "a"])
@pytest.mark.parametrize("limit", [1, 2, 7, 12, 26, 100])
def test_never_over_the_limit_and_never_inside_a_character(measure, unit, limit):
    text = unit * 50
    cut = fit(text, limit, measure)
    assert measure(cut) <= limit
    kept = cut.removesuffix(ELLIPSIS)
    # What is kept is whole characters of the original, in order.
    assert graphemes(kept) == graphemes(text)[: len(graphemes(kept))]
    assert kept == text[: len(kept)]


def test_the_measure_decides_how_much_fits():
    text = "🚀" * 10
    assert fit(text, 10, code_points) == text
    assert fit(text, 10, utf16_units) == "🚀" * 4 + ELLIPSIS  # 8 + 1 units
    assert fit(text, 10, utf8_bytes) == "🚀" * 1 + ELLIPSIS  # 4 + 3 bytes


def test_the_escape_counts_and_is_never_split():
    escape = lambda text: text.replace("&", "&amp;")  # noqa: E731
    assert fit("a&b", 10, escape=escape) == "a&amp;b"
    # "a&amp;" would be 6 + 1: it does not fit in 6, so the whole escape is dropped.
    assert fit("a&b&c", 6, escape=escape) == "a" + ELLIPSIS


def test_trailing_space_before_the_ellipsis_is_dropped():
    assert fit("word     more words", 8) == "word" + ELLIPSIS


def test_lone_surrogates_from_parsed_json_do_not_raise():
    assert utf16_units("\ud800") == 1
    assert fit("\ud800" * 10, 5, utf8_bytes).endswith(ELLIPSIS)
