"""Event data as JSON, with money and times written the way Signalpost's own sources write them.

`app.sources` on the server turns a `Decimal` into an exact string ("185.50", never a float
that loses cents and never exponent notation), a `datetime` into ISO 8601 UTC to the second
("2026-02-01T10:30:00Z", a naive one taken as UTC) and a `date` into "2026-02-01". Data sent
through this client arrives at receivers in exactly the same form.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return format(value, "f")
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable; use str, int, Decimal, …")


def encode(document: Any) -> bytes:
    """Compact UTF-8 JSON of `document`; raises TypeError or ValueError for what cannot be sent."""
    return json.dumps(
        document, default=_default, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
