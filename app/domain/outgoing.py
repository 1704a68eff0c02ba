"""What a receiver gets: the exact body and headers of one attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.formats import render
from app.domain.payload import CONTENT_TYPE, envelope
from app.domain.signing import signature_headers
from app.version import __version__

USER_AGENT = f"Signalpost-Webhooks/{__version__}"


@dataclass(frozen=True)
class Outgoing:
    """What one request is made of, apart from the moment it is sent."""

    url: str
    format: str
    secrets: list[str]
    event_id: str
    event_type: str
    event_created_at: datetime
    event_data: dict[str, Any]


def build_request(outgoing: Outgoing, sent_at: int) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt; the signatures cover these bytes."""
    document = envelope(
        outgoing.event_id, outgoing.event_type, outgoing.event_created_at, outgoing.event_data
    )
    body = render(outgoing.format, document, outgoing.url)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": outgoing.event_type,
        **signature_headers(outgoing.secrets, outgoing.event_id, sent_at, body),
    }
    return body, headers
