"""The test action: one event sent once, now, outside the queue, and what the endpoint said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain import formats
from app.domain.catalog import TEST_EVENT, example_data
from app.domain.formats.messages import Message, message_for
from app.domain.payload import envelope
from app.domain.retry import is_success, status_after
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, Webhook, utcnow
from app.outbound import AttemptResult
from app.services import connections
from app.services.delivery.claim import claim
from app.services.delivery.record import record
from app.services.delivery.send import Sent, internal_error, send
from app.services.errors import NotFound, ValidationError
from app.services.events import new_event_id


def test_data(webhook: Webhook, event_type: str) -> dict[str, Any]:
    if event_type == TEST_EVENT:
        return {"test": True, "message": "Webhook configuration verified", "webhook": webhook.name}
    if event_type not in webhook.events:
        choices = ", ".join([TEST_EVENT, *webhook.events])
        raise ValidationError.from_fields(
            {"event": [f"This webhook does not receive {event_type!r}; send one of: {choices}."]}
        )
    return example_data(event_type)


def test_event_types(webhook: Webhook) -> list[str]:
    """What the test action can send this webhook: `test`, and each type it subscribes to."""
    return [TEST_EVENT, *webhook.events]


@dataclass(frozen=True)
class Preview:
    """A test event as the receiver gets it: the exact body, and for a chat format the message
    as the chat service shows it."""

    event_type: str
    body: str
    message: Message | None


def previews(webhook: Webhook) -> list[Preview]:
    now = utcnow()
    found = []
    for event_type in test_event_types(webhook):
        document = envelope("evt_preview", event_type, now, test_data(webhook, event_type))
        body = formats.render(webhook.format, document, webhook.url).decode()
        chat = webhook.format != "json"
        found.append(Preview(event_type, body, message_for(document) if chat else None))
    return found


def test_webhook(webhook: Webhook, event_type: str | None = None) -> dict[str, Any]:
    """Send the `test` event, or the catalog example of a subscribed type, once, now, and
    report what the endpoint answered.

    It is logged like any delivery but is not retried and does not move the counters.
    """
    return run_test(webhook, event_type)[1]


def result_of(delivery: Delivery) -> dict[str, Any]:
    """What a finished test delivery's log row says, in the shape `test_webhook` reports."""
    return {
        "success": is_success(delivery.status_code),
        "status_code": delivery.status_code,
        "response_body": delivery.response_body,
        "duration_ms": delivery.duration_ms or 0,
        "error": delivery.error,
    }


def run_test(webhook: Webhook, event_type: str | None = None) -> tuple[int, dict[str, Any]]:
    """`test_webhook`, also naming the delivery that logs it."""
    event_type = event_type or TEST_EVENT
    data = test_data(webhook, event_type)
    now = utcnow()
    event_id = new_event_id()
    event = Event(id=event_id, user_id=webhook.user_id, event_type=event_type, data=data)
    delivery = Delivery(webhook=webhook, event=event, next_attempt_at=now)
    db.session.add_all([event, delivery])
    db.session.flush()
    delivery_id = delivery.id
    db.session.commit()
    # Never queued, so nothing else takes it; claimed all the same, to be sent like any other.
    claimed = claim(delivery_id)
    if claimed is None:  # the webhook was deleted meanwhile
        raise NotFound(f"No webhook with id {webhook.id}.")
    sent = send(claimed.outgoing)  # what raises in it comes back as a failed attempt
    try:
        record(claimed, sent, status_after(sent.result.status_code, None), None, counted=False)
    except connections.DATABASE_AWAY:
        raise
    except Exception as exc:
        # What came back could not be stored: the answer says so rather than a 500.
        db.session.rollback()
        sent = Sent(sent.started_at, None, None, AttemptResult(None, None, 0, internal_error(exc)))
        record(claimed, sent, DeliveryStatus.FAILED, None, counted=False)
    result = sent.result
    return delivery_id, {
        "success": is_success(result.status_code),
        "status_code": result.status_code,
        "response_body": result.response_body,
        "duration_ms": result.duration_ms,
        "error": result.error,
    }
