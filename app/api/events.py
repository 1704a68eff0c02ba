"""Firing an event from a program."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.api import bp, schemas
from app.api.auth import caller
from app.api.openapi import document
from app.api.parsing import json_object
from app.extensions import limiter
from app.request_limits import EVENTS_LIMIT, user_key
from app.services import events


@bp.post("/events")
@document(
    "Fire an event",
    ok={202: schemas.TRIGGERED},
    errors=(429,),
    body=schemas.EVENT_INPUT,
    tag="events",
)
@limiter.limit(EVENTS_LIMIT, key_func=user_key)
def fire_event() -> ResponseReturnValue:
    """Queue one delivery to each of your active webhooks subscribed to the event type; other
    users' webhooks are never involved. `deliveries` says how many. Rate-limited per user."""
    body = json_object(schemas.EVENT_INPUT)
    triggered = events.trigger_event(
        caller(), body["event"], body["data"], expires_in=body.get("expires_in")
    )
    return {"id": triggered.event_id, "deliveries": triggered.deliveries}, 202
