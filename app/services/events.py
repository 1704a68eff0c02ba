"""Firing an event: store it once, fan it out to the owner's webhooks, queue after commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.domain.catalog import EVENT_VALUES
from app.domain.payload import data_size
from app.extensions import db
from app.models import Event, Subscription, User, Webhook, WebhookEvent, utcnow
from app.services import queue
from app.services.errors import PayloadTooLarge, ValidationError


@dataclass(frozen=True)
class Triggered:
    event_id: str
    deliveries: int


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def validate_event(event_type: Any, data: Any) -> None:
    if not isinstance(event_type, str) or event_type not in EVENT_VALUES:
        known = ", ".join(sorted(EVENT_VALUES))
        raise ValidationError.from_fields(
            {"event": [f"Unknown event type {event_type!r}; use one of: {known}."]}
        )
    if not isinstance(data, dict):
        raise ValidationError.from_fields({"data": ["The event data must be a JSON object."]})
    limit = current_app.config["WEBHOOK_MAX_PAYLOAD_BYTES"]
    try:
        size = data_size(data)
    except UnicodeEncodeError:
        raise ValidationError.from_fields(
            {"data": ["The event data holds text that is not valid Unicode (a lone surrogate)."]}
        ) from None
    if size > limit:
        raise PayloadTooLarge(
            f"The event data is {size} bytes; the most accepted is {limit}.",
            {"data": [f"At most {limit} bytes."]},
        )


def subscribers(owner_id: int, event_type: str) -> list[int]:
    """Ids of the owner's active webhooks subscribed to this type: one indexed lookup."""
    query = (
        sa.select(Subscription.webhook_id)
        .join(Webhook, Webhook.id == Subscription.webhook_id)
        .where(
            Subscription.user_id == owner_id,
            Subscription.event_type == event_type,
            Webhook.is_active.is_(True),
        )
    )
    return list(db.session.scalars(query))


def trigger_event(owner: User, event_type: str, data: dict[str, Any]) -> Triggered:
    """Store the event and one delivery per subscribed webhook in one transaction, then queue.

    Events are scoped to their owner: nobody else's webhooks are ever looked at.
    """
    validate_event(event_type, data)
    now = utcnow()
    event_id = new_event_id()
    event = Event(id=event_id, user_id=owner.id, event_type=event_type, data=data, created_at=now)
    db.session.add(event)
    deliveries = [
        WebhookEvent(webhook_id=webhook_id, event_id=event_id, next_attempt_at=now)
        for webhook_id in subscribers(owner.id, event_type)
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    delivery_ids = [delivery.id for delivery in deliveries]
    db.session.commit()
    queue.enqueue_deliveries(delivery_ids)
    return Triggered(event_id, len(delivery_ids))
