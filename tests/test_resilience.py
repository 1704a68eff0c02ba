"""Nothing is lost when the broker is down at trigger time or a worker dies mid-send."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, User, utcnow
from app.services import events, logs
from app.services.delivery import attempt, redelivery
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def delivery_of(event_id: str) -> Delivery | None:
    return db.session.scalar(sa.select(Delivery).where(Delivery.event_id == event_id))


def test_a_broker_outage_at_trigger_time_loses_nothing(make_app, make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    # The same database, but a broker nobody listens on.
    cut_off = make_app(CELERY_BROKER_URL="redis://127.0.0.1:9/0")
    with cut_off.app_context():
        owner = db.session.get(User, webhook.user_id)
        triggered = events.trigger_event(owner, "price_above", {"during": "outage"})
        assert triggered.deliveries == 1
        db.session.remove()

    stored = delivery_of(triggered.event_id)
    assert stored.status == DeliveryStatus.PENDING and receiver.requests == []

    # Beat (or `flask webhooks requeue`) sends it once it has been due for the grace period.
    assert redelivery.requeue_due(grace=timedelta(hours=1)) == 0
    assert redelivery.requeue_due(grace=timedelta(0)) >= 1
    wait_for(lambda: delivery_of(triggered.event_id).status == DeliveryStatus.SUCCEEDED)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["X-Webhook-Id"] == triggered.event_id


def test_a_delivery_held_by_a_dead_worker_is_sent_once_its_lease_expires(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    event_id = events.new_event_id()
    now = utcnow()
    db.session.add(
        Event(id=event_id, user_id=webhook.user_id, event_type="custom", data={}, created_at=now)
    )
    row = Delivery(
        webhook_id=webhook.id,
        event_id=event_id,
        next_attempt_at=now,
        status=DeliveryStatus.SENDING,
        lease_until=now + timedelta(hours=1),
    )
    db.session.add(row)
    db.session.commit()

    # While the lease holds, a duplicate message finds nothing to do and requeue skips it.
    assert attempt.attempt_delivery(row.id).status is None
    assert row.id not in _requeued_ids()

    row.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert row.id in _requeued_ids()
    assert redelivery.requeue_due() >= 1
    wait_for(lambda: delivery_of(event_id).status == DeliveryStatus.SUCCEEDED)
    assert len(receiver.requests) == 1


def _requeued_ids() -> list[int]:
    return [row.id for row in redelivery.due_deliveries(redelivery.REQUEUE_GRACE)]


def test_a_finished_delivery_is_never_sent_again(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    triggered = events.trigger_event(webhook.user, "price_above", {})
    wait_for(lambda: delivery_of(triggered.event_id).status == DeliveryStatus.SUCCEEDED)

    assert attempt.attempt_delivery(delivery_of(triggered.event_id).id).status is None
    assert len(receiver.requests) == 1


def test_purge_removes_only_finished_deliveries_past_retention(make_webhook, receiver):
    # A trade, not a price alert: a price alert fired 40 days ago is past its time to live.
    webhook, _ = make_webhook(receiver.url, events=["trade_executed"])
    with freeze_time(utcnow() - timedelta(days=40)):
        old = events.trigger_event(webhook.user, "trade_executed", {"age": "old"})
    wait_for(lambda: delivery_of(old.event_id).status == DeliveryStatus.SUCCEEDED)
    recent = events.trigger_event(webhook.user, "trade_executed", {"age": "new"})
    wait_for(lambda: delivery_of(recent.event_id).status == DeliveryStatus.SUCCEEDED)

    assert logs.purge_logs(days=30) >= 1

    assert delivery_of(old.event_id) is None
    assert db.session.get(Event, old.event_id) is None
    assert delivery_of(recent.event_id) is not None


def test_healthz_names_what_is_down(client, make_app):
    assert client.get("/healthz").get_json() == {"database": "ok", "broker": "ok"}
    cut_off = make_app(CELERY_BROKER_URL="redis://127.0.0.1:9/0")
    response = cut_off.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "broker": "down"}
