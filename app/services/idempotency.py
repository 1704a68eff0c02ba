"""Idempotency keys: a repeated `POST /api/events` (or `trigger_event`) answers its first answer.

The key's row is written in the event's own transaction (app/services/events.py), under a
unique constraint on (owner, key): of two concurrent requests with one key, exactly one stores
its event and deliveries; the other's statement fails as a whole and reads the winner's row
here. A key is good for KEY_LIFETIME from its first use; beat's purge deletes it afterwards.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import IdempotencyKey
from app.services.errors import Conflict, ValidationError

KEY_LIFETIME = timedelta(hours=24)
KEY_MAX_LENGTH = 255


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class IdempotencyKeyInProgress(Conflict):
    code = "idempotency_key_in_progress"


def check_key(key: Any, field: str = "idempotency_key") -> str:
    """The key as given, when it is 1-255 printable ASCII characters (what a header carries)."""
    if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX_LENGTH:
        problem = f"Use 1 to {KEY_MAX_LENGTH} characters."
    elif not all(" " <= char <= "~" for char in key):
        problem = "Use printable ASCII characters only."
    else:
        return key
    raise ValidationError.from_fields({field: [problem]})


def fingerprint(request: dict[str, Any]) -> str:
    """The same for the same request whatever its keys' order or spacing."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def earlier_use(
    owner_id: int, key: str, request_fingerprint: str, now: datetime
) -> tuple[str, int] | None:
    """The first answer given to this key (event id, deliveries), or None when the key is free
    (never used, or expired).

    The same key with another request is a conflict, not a replay.
    """
    row = db.session.execute(
        sa.select(IdempotencyKey.id, IdempotencyKey.fingerprint, IdempotencyKey.created_at)
        .add_columns(IdempotencyKey.event_id, IdempotencyKey.deliveries)
        .where(IdempotencyKey.user_id == owner_id, IdempotencyKey.key == key)
    ).one_or_none()
    db.session.commit()
    if row is None:
        return None
    if row.created_at <= now - KEY_LIFETIME:
        # Not yet purged, but no longer binding: free it for this request.
        db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        db.session.commit()
        return None
    if row.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new event."
        )
    return row.event_id, row.deliveries


def purge_keys(now: datetime) -> int:
    """Delete the keys past their lifetime; returns how many."""
    deleted = db.session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEY_LIFETIME)
    ).rowcount
    db.session.commit()
    return deleted
