"""What a receiver gets: the exact body and headers of one attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.formats import render
from app.domain.formats.digest import render_digest
from app.domain.payload import CONTENT_TYPE, envelope
from app.domain.signing import signature_headers
from app.version import __version__

USER_AGENT = f"Signalpost-Webhooks/{__version__}"


@dataclass(frozen=True)
class Carried:
    """Another delivery's event that rides in this request's digest (app/services/delivery/
    digest.py)."""

    event_id: str
    event_type: str
    event_created_at: datetime
    event_data: dict[str, Any]


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
    carried: tuple[Carried, ...] = ()


def envelope_of(event: Outgoing | Carried) -> dict[str, Any]:
    return envelope(event.event_id, event.event_type, event.event_created_at, event.event_data)


def build_request(outgoing: Outgoing, sent_at: int) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt; the signatures cover these bytes."""
    if outgoing.carried:
        events = sorted((outgoing, *outgoing.carried), key=lambda event: event.event_created_at)
        documents = [envelope_of(event) for event in events]
        body = render_digest(outgoing.format, documents, outgoing.url)
    else:
        body = render(outgoing.format, envelope_of(outgoing), outgoing.url)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": outgoing.event_type,
        **signature_headers(outgoing.secrets, outgoing.event_id, sent_at, body),
    }
    return body, headers
