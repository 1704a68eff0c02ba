"""One chat message that lists several events: what a burst to a rate-limited channel becomes.

"5 alerts", then a line per event ("• 09:30:02 AAPL rose above 180.00 — now 185.50"), oldest
first, in the service's own limits: Discord's content of 2000 code points, a Slack section of
3000 UTF-8 bytes, Telegram's text of 4096 UTF-16 units. `lines_that_fit` says how many events
one message can carry; the caller leaves the rest for the next message, so a digest is split
by sending more of them, each within the webhook's rate limit.

A digest of one event is never made: one event goes as the format's ordinary message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.formats import discord, slack, telegram
from app.domain.formats.messages import Message, message_for
from app.domain.formats.text import Measure, code_points, fit, utf8_bytes, utf16_units
from app.domain.payload import encode

DIGEST_FORMATS = frozenset({"discord", "slack", "telegram"})
# One line is one event's sentence; a long custom message is cut so that others still fit.
LINE_LIMIT = 300
# Headers are measured at the widest count a message could carry, so adding a line never
# makes the header outgrow what was left for it.
_WIDEST_COUNT = 9999


@dataclass(frozen=True)
class _Digest:
    measure: Measure
    budget: int  # for the header and the lines together
    escape: Callable[[str], str]
    header: Callable[[int], str]


def _plain(text: str) -> str:
    return text


_DIGESTS = {
    "discord": _Digest(
        code_points, discord.CONTENT_LIMIT, discord.escape_markdown, lambda n: f"**{n} alerts**"
    ),
    "slack": _Digest(utf8_bytes, slack.SECTION_LIMIT, _plain, lambda n: f"{n} alerts"),
    # A blank line under Telegram's header: its plain text has no bold to set it apart.
    "telegram": _Digest(utf16_units, telegram.TEXT_LIMIT, _plain, lambda n: f"{n} alerts\n"),
}


def _time(message: Message) -> str:
    """The event's time of day, HH:MM:SS, from its envelope's `2026-02-01T10:30:00Z`."""
    _, _, clock = message.timestamp.partition("T")
    return clock.removesuffix("Z")


def _line(digest: _Digest, message: Message) -> str:
    text = f"{_time(message)} {message.text}".strip()
    return "• " + fit(text, LINE_LIMIT, digest.measure, digest.escape)


def _lines(digest: _Digest, messages: Sequence[Message]) -> list[str]:
    return [_line(digest, message) for message in messages]


def lines_that_fit(format_name: str, documents: Sequence[dict[str, Any]]) -> int:
    """How many of these envelopes, taken in order, one digest message can list (at least 1)."""
    digest = _DIGESTS[format_name]
    used = digest.measure(digest.header(_WIDEST_COUNT))
    fitted = 0
    for line in _lines(digest, [message_for(document) for document in documents]):
        used += digest.measure("\n" + line)
        if used > digest.budget:
            break
        fitted += 1
    return max(fitted, 1)


def render_digest(format_name: str, documents: Sequence[dict[str, Any]], url: str) -> bytes:
    """The body of one message listing these envelopes; they must fit (`lines_that_fit`)."""
    digest = _DIGESTS[format_name]
    messages = [message_for(document) for document in documents]
    header = digest.header(len(messages))
    lines = "\n".join(_lines(digest, messages))
    if format_name == "discord":
        return encode({"content": f"{header}\n{lines}", "allowed_mentions": {"parse": []}})
    if format_name == "telegram":
        return encode(telegram.message_body(url, f"{header}\n{lines}"))
    first = fit(messages[0].text, LINE_LIMIT, utf8_bytes, slack.escape_mrkdwn)
    ids = f"{messages[0].event_id} … {messages[-1].event_id}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "text": {"type": "plain_text", "text": lines, "emoji": True}},
        {"type": "context", "elements": [{"type": "plain_text", "text": ids, "emoji": True}]},
    ]
    return encode({"text": f"{header}: {first} …", "blocks": blocks})
