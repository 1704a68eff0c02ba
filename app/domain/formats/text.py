"""Cutting text to a chat service's limit without breaking what a reader sees as one character.

Each service counts differently, so the measure is a parameter:
- Discord counts Unicode code points (its API is Python: `len(str)`);
- Telegram counts UTF-16 code units (its entity offsets and limits are in UTF-16);
- Slack does not say what it counts, so we count UTF-8 bytes, the strictest reading: a body cut
  that way is never refused, whatever Slack counts.
A cut falls between extended grapheme clusters (Unicode's user-perceived characters), so a
flag, a family emoji joined with ZWJ, a skin tone or an accent is kept whole or dropped whole.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

Measure = Callable[[str], int]
Escape = Callable[[str], str]

ELLIPSIS = "…"
_CLUSTER = regex.compile(r"\X")


def code_points(text: str) -> int:
    return len(text)


def utf16_units(text: str) -> int:
    # surrogatepass: a lone surrogate (possible in parsed JSON) is counted, not raised on.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _unchanged(text: str) -> str:
    return text


def fit(text: str, limit: int, measure: Measure = code_points, escape: Escape = _unchanged) -> str:
    """`text`, escaped, at most `limit` long as `measure` counts; ends in "…" when it was cut.

    `escape` must work character by character (as HTML entities or Markdown backslashes do):
    it is applied to one grapheme cluster at a time, so an escape is never cut in half.
    """
    escaped = escape(text)
    if measure(escaped) <= limit:
        return escaped
    ellipsis = ELLIPSIS if measure(ELLIPSIS) <= limit else ""
    budget = limit - measure(ellipsis)
    pieces: list[str] = []
    used = 0
    for cluster in _CLUSTER.finditer(text):
        piece = escape(cluster.group())
        size = measure(piece)
        if used + size > budget:
            break
        pieces.append(piece)
        used += size
    return "".join(pieces).rstrip() + ellipsis
