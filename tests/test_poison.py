"""Poison deliveries end: whatever raises inside an attempt is a failed attempt with its error,
counted and retried like any failure, never a delivery left `sending` and requeued for ever."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.domain import outgoing
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Webhook
from app.services import delivery_rate, events, users
from app.services.delivery import redelivery
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")

RETRY_DELAYS = 3  # the tests' WEBHOOK_RETRY_DELAYS are "1,1,1": four attempts in all


def poisoned_render(real: Any) -> Any:
    """A format with a bug that only some events reach, as bugs are."""

    def render(format_name: str, document: dict[str, Any], url: str) -> bytes:
        if document["data"].get("poison"):
            raise RuntimeError("the format broke on this event")
        return real(format_name, document, url)

    return render


def final(event_id: str) -> Delivery | None:
    db.session.rollback()
    row = db.session.scalar(sa.select(Delivery).where(Delivery.event_id == event_id))
    return row if row and row.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED) else None


def assert_failed_for_good(row: Delivery, error: str) -> None:
    assert row.status == DeliveryStatus.FAILED and row.lease_until is None
    assert row.attempts == RETRY_DELAYS + 1 == len(row.attempt_log)
    assert [attempt.number for attempt in row.attempt_log] == [1, 2, 3, 4]
    assert all(attempt.error.startswith(error) for attempt in row.attempt_log), [
        attempt.error for attempt in row.attempt_log
    ]
    assert row.error.startswith(error)
    webhook = db.session.get(Webhook, row.webhook_id)
    # Counted toward the failure threshold like any failed delivery.
    assert (webhook.failure_count, webhook.consecutive_failures) == (1, 1)
    # Nothing left for the requeue to pick up again.
    assert row.id not in {due.id for due in redelivery.due_deliveries(timedelta(0))}


def test_a_format_that_raises_fails_the_attempt_and_is_retried_then_fails(
    make_webhook, receiver, monkeypatch
):
    monkeypatch.setattr(outgoing, "render", poisoned_render(outgoing.render))
    webhook, _ = make_webhook(receiver.url)

    poison = events.trigger_event(webhook.user, "price_above", {"poison": True})
    healthy = events.trigger_event(webhook.user, "price_above", {"n": 1})

    row = wait_for(lambda: final(poison.event_id), timeout=40)
    assert_failed_for_good(row, "Internal error: RuntimeError: the format broke on this event")
    # The worker is not wedged and the other event went: only the poisoned one never left.
    assert wait_for(lambda: final(healthy.event_id)).status == DeliveryStatus.SUCCEEDED
    assert [r.headers["X-Webhook-Id"] for r in receiver.requests] == [healthy.event_id]


def test_a_secret_that_no_longer_opens_fails_the_delivery(make_webhook, receiver):
    # A value the service never writes, put straight into the database (a key mixed up in a
    # restore): reading it raises inside the claim, after the lease was taken.
    webhook, _ = make_webhook(receiver.url)
    db.session.execute(
        sa.update(Webhook).where(Webhook.id == webhook.id).values(secret_encrypted="not-sealed")
    )
    db.session.commit()

    triggered = events.trigger_event(webhook.user, "price_above", {})

    row = wait_for(lambda: final(triggered.event_id), timeout=40)
    assert_failed_for_good(row, "Internal error: ")
    assert receiver.requests == []


def test_a_limiter_surprise_fails_the_attempt(make_webhook, receiver, monkeypatch):
    def surprise(*_: object, **__: object) -> None:
        raise ValueError("unexpected reply from the counter")

    monkeypatch.setattr(delivery_rate, "acquire", surprise)
    webhook, _ = make_webhook(receiver.url)

    triggered = events.trigger_event(webhook.user, "price_above", {})

    row = wait_for(lambda: final(triggered.event_id), timeout=40)
    assert_failed_for_good(row, "Internal error: ValueError: unexpected reply from the counter")


def test_a_body_that_is_not_utf8_is_sent_and_recorded(make_webhook, receiver, monkeypatch):
    # A format bug of another kind: bytes that are not UTF-8 and hold a NUL. What was sent is
    # still recorded (readably), instead of the record raising and the delivery sticking.
    def latin1(format_name: str, document: dict[str, Any], url: str) -> bytes:
        return json.dumps(document, ensure_ascii=False).encode("latin-1") + b"\x00"

    monkeypatch.setattr(outgoing, "render", latin1)
    webhook, _ = make_webhook(receiver.url)

    triggered = events.trigger_event(webhook.user, "price_above", {"note": "café"})

    row = wait_for(lambda: final(triggered.event_id))
    assert row.status == DeliveryStatus.SUCCEEDED and row.attempts == 1
    assert receiver.requests[0].body.endswith(b"\x00")
    assert "caf\ufffd" in row.request_body and "\x00" not in row.request_body


def test_the_test_action_answers_an_internal_error_as_a_failure(
    app, make_webhook, receiver, monkeypatch
):
    def broken(*_: object) -> bytes:
        raise RuntimeError("the format broke on this event")

    monkeypatch.setattr(outgoing, "render", broken)
    webhook, _ = make_webhook(receiver.url)
    token = users.create_api_token(webhook.user)

    response = app.test_client().post(
        f"/api/webhooks/{webhook.id}/test", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    result = response.get_json()
    assert result["success"] is False and result["status_code"] is None
    assert result["error"] == "Internal error: RuntimeError: the format broke on this event"
    row = db.session.scalar(sa.select(Delivery).where(Delivery.webhook_id == webhook.id))
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    db.session.refresh(webhook)
    assert webhook.failure_count == 0, "a test send leaves the counters be"
    assert receiver.requests == []
