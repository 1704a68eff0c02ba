"""A Telegram Bot API `sendMessage` body, posted to https://api.telegram.org/bot<token>/sendMessage.

`chat_id` comes from the URL's query (`?chat_id=-1001234567890` or `?chat_id=@channel`); an
optional `message_thread_id` there posts into a forum topic. `text` is plain (no parse_mode, so
nothing needs escaping) and at most 4096 UTF-16 code units, the unit Telegram counts in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.domain.formats.messages import Message, message_for
from app.domain.formats.text import fit, utf16_units
from app.domain.payload import encode

TEXT_LIMIT = 4096


def query_value(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0].strip() if values and values[0].strip() else None


def _id(value: str) -> int | str:
    """Telegram takes a numeric chat id as a number and "@channelname" as a string."""
    return int(value) if value.lstrip("-").isdigit() else value


def text(message: Message) -> str:
    lines = [message.title, message.text, ""]
    lines += [f"{name}: {value}" for name, value in message.details]
    if message.more_details:
        lines.append(f"…and {message.more_details} more fields")
    lines += ["", f"{message.event_id} · {message.timestamp}"]
    return fit("\n".join(lines), TEXT_LIMIT, utf16_units)


def message_body(url: str, text: str) -> dict[str, Any]:
    """A `sendMessage` body for the chat (and forum topic) the URL names."""
    body: dict[str, Any] = {}
    chat_id = query_value(url, "chat_id")
    # Without a chat id Telegram answers 400 "chat_id is empty"; the form warns before that.
    if chat_id is not None:
        body["chat_id"] = _id(chat_id)
    thread = query_value(url, "message_thread_id")
    if thread is not None and thread.isdigit():
        body["message_thread_id"] = int(thread)
    body["text"] = text
    body["link_preview_options"] = {"is_disabled": True}
    return body


def render(document: dict[str, Any], url: str) -> bytes:
    return encode(message_body(url, text(message_for(document))))
