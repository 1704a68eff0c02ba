"""Discord's Execute Webhook body: the sentence as `content`, the data as one embed.

Limits (discord.com/developers/docs/resources/message#embed-object-embed-limits), counted in
code points: content 2000; embed title 256; at most 25 fields, name 256, value 1024, neither
empty; footer 2048; all of an embed's text together 6000.
"""

from __future__ import annotations

from typing import Any

import regex

from app.domain.catalog import TEST_EVENT
from app.domain.formats.messages import Message, message_for
from app.domain.formats.text import code_points, fit
from app.domain.payload import encode

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
FIELD_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000

COLOURS: dict[str, int] = {
    "price_above": 0x2ECC71,
    "price_below": 0xE74C3C,
    "portfolio_change": 0x3498DB,
    "position_added": 0x1ABC9C,
    "position_removed": 0xE67E22,
    "dividend_payment": 0xF1C40F,
    "trade_executed": 0x9B59B6,
    "custom": 0x95A5A6,
    TEST_EVENT: 0x5865F2,
}
DEFAULT_COLOUR = 0x95A5A6

# A backslash before Markdown's punctuation shows it as typed: "BRK_B_ETF" stays un-italicised,
# "[x](url)" is no masked link. Discord renders the escaped text exactly like the original.
_MARKDOWN = regex.compile(r"([\\*_~`|<>#\[\]])")


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def _fit(text: str, limit: int) -> str:
    return fit(text, limit, code_points, escape_markdown)


def _fields(message: Message, budget: int) -> list[dict[str, Any]]:
    """As many data fields as Discord allows, stopping before the embed's total is exceeded."""
    fields: list[dict[str, Any]] = []
    details = list(message.details)
    if message.more_details:
        details.append(("More", f"{message.more_details} more fields in the JSON format"))
    for name, value in details[:FIELD_LIMIT]:
        field = {
            "name": _fit(name.strip(), FIELD_NAME_LIMIT) or "—",
            "value": _fit(value.strip(), FIELD_VALUE_LIMIT) or "—",
            "inline": len(value) <= 40,
        }
        size = code_points(field["name"]) + code_points(field["value"])
        if size > budget:
            break
        fields.append(field)
        budget -= size
    return fields


def embed(message: Message) -> dict[str, Any]:
    title = fit(message.title, TITLE_LIMIT)
    footer = fit(message.event_id, FOOTER_LIMIT)
    budget = EMBED_TOTAL_LIMIT - code_points(title) - code_points(footer)
    body: dict[str, Any] = {
        "title": title,
        "color": COLOURS.get(message.event_type, DEFAULT_COLOUR),
        "fields": _fields(message, budget),
        "footer": {"text": footer},
    }
    if message.timestamp:
        body["timestamp"] = message.timestamp
    return body


def render(document: dict[str, Any], url: str) -> bytes:
    message = message_for(document)
    return encode(
        {
            "content": _fit(message.text, CONTENT_LIMIT),
            "embeds": [embed(message)],
            # Data may contain "@everyone" or "<@id>": show it, never ping anyone with it.
            "allowed_mentions": {"parse": []},
        }
    )
