"""A Slack incoming-webhook body: `text` (the notification) and Block Kit `blocks`.

Limits (docs.slack.dev/reference/block-kit): header text 150; section text 3000; at most 10
fields per section, each 2000; at most 50 blocks; text objects never empty. Slack does not say
what it counts, so lengths here are UTF-8 bytes, never less than what Slack could count.
Blocks use `plain_text`, shown as sent; the top-level `text` is mrkdwn, so `&`, `<` and `>`
are escaped there and "<!channel>" in event data cannot notify a channel.
"""

from __future__ import annotations

from typing import Any

from app.domain.formats.messages import Message, message_for
from app.domain.formats.text import fit, utf8_bytes
from app.domain.payload import encode

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
# Slack refuses messages whose blocks are long altogether (msg_blocks_too_long, reported near
# 13,000 characters), so the fields share a budget well below that.
FIELDS_BUDGET = 8000


def escape_mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit, utf8_bytes) or "—", "emoji": True}


def _field_sections(message: Message) -> list[dict[str, Any]]:
    details = list(message.details)
    if message.more_details:
        details.append(("More", f"{message.more_details} more fields in the JSON format"))
    fields: list[dict[str, Any]] = []
    budget = FIELDS_BUDGET
    for name, value in details:
        field = _plain(f"{name.strip()}: {value.strip()}", FIELD_LIMIT)
        size = utf8_bytes(field["text"])
        if size > budget:
            break
        fields.append(field)
        budget -= size
    return [
        {"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]}
        for start in range(0, len(fields), FIELDS_PER_SECTION)
    ]


def blocks(message: Message) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": _plain(message.title, HEADER_LIMIT)},
        {"type": "section", "text": _plain(message.text, SECTION_LIMIT)},
        *_field_sections(message),
        {
            "type": "context",
            "elements": [_plain(f"{message.event_id} · {message.timestamp}", SECTION_LIMIT)],
        },
    ]


def render(document: dict[str, Any], url: str) -> bytes:
    message = message_for(document)
    text = fit(message.text, SECTION_LIMIT, utf8_bytes, escape_mrkdwn)
    return encode({"text": text, "blocks": blocks(message)})
