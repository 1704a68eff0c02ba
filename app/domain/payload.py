"""The envelope of an event (README.md, "What a receiver gets") and its exact bytes.

The `json` format sends it as it is; the chat formats in `app.domain.formats` are built from it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

CONTENT_TYPE = "application/json"


def iso_utc(moment: datetime) -> str:
    """`2026-02-01T10:30:00Z`: second precision, always UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> dict:
    return {"id": event_id, "event": event_type, "timestamp": iso_utc(created_at), "data": data}


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: these exact bytes are both sent and signed."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def data_size(data: Any) -> int:
    """Size of event data as it will be sent, for WEBHOOK_MAX_PAYLOAD_BYTES."""
    return len(encode(data))
