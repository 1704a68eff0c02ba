"""Firing an event from a program."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from app.api import bp, schemas
from app.api.auth import caller
from app.api.openapi import document
from app.api.parsing import json_object
from app.extensions import limiter
from app.request_limits import EVENTS_LIMIT, user_key
from app.services import events, idempotency

KEY_HEADER = "Idempotency-Key"


@bp.post("/events")
@document(
    "Fire an event",
    ok={202: schemas.TRIGGERED},
    errors=(409, 429),
    body=schemas.EVENT_INPUT,
    headers={"Idempotency-Key": schemas.IDEMPOTENCY_KEY},
    ok_headers={"Idempotent-Replayed": schemas.REPLAYED_HEADER},
    tag="events",
)
@limiter.limit(EVENTS_LIMIT, key_func=user_key)
def fire_event() -> ResponseReturnValue:
    """Queue one delivery to each of your active webhooks subscribed to the event type; other
    users' webhooks are never involved. `deliveries` says how many. Rate-limited per user.

    With an `Idempotency-Key` header, a repeat of the same request within 24 hours answers
    the first answer again, with `Idempotent-Replayed: true`, and delivers nothing more; the
    same key with a different body is a 409 `idempotency_key_reused`."""
    body = json_object(schemas.EVENT_INPUT)
    key = request.headers.get(KEY_HEADER)
    triggered = events.trigger_event(
        caller(),
        body["event"],
        body["data"],
        expires_in=body.get("expires_in"),
        idempotency_key=None if key is None else idempotency.check_key(key, KEY_HEADER),
    )
    answer = {"id": triggered.event_id, "deliveries": triggered.deliveries}
    return answer, 202, {"Idempotent-Replayed": "true"} if triggered.replayed else {}
