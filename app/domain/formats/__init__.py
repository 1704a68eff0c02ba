"""Webhook formats: the one registry of how an event's envelope becomes the body sent.

`json` sends the envelope itself; `discord`, `slack` and `telegram` send a body the chat
service accepts, built from the same human-readable message (see `messages.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.domain.formats import discord, slack, telegram
from app.domain.formats.detect import format_warning, suggest_format
from app.domain.payload import encode

Renderer = Callable[[dict[str, Any], str], bytes]


def _json(document: dict[str, Any], url: str) -> bytes:
    return encode(document)


RENDERERS: dict[str, Renderer] = {
    "json": _json,
    "discord": discord.render,
    "slack": slack.render,
    "telegram": telegram.render,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)
FORMAT_LABELS: dict[str, str] = {
    "json": "JSON (signed envelope)",
    "discord": "Discord",
    "slack": "Slack",
    "telegram": "Telegram",
}

__all__ = ["FORMATS", "FORMAT_LABELS", "RENDERERS", "format_warning", "render", "suggest_format"]


def render(format_name: str, document: dict[str, Any], url: str) -> bytes:
    """The exact body for a webhook of this format at this URL (Telegram reads its chat there)."""
    return RENDERERS[format_name](document, url)
