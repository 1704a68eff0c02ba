"""What must hold after any fault: every event arrived, the log matches, the counters match."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Webhook
from app.services.delivery import redelivery
from tests.support.receiver import Receiver

# Beat runs the requeue every minute with a minute's grace; the tests run it more often with a
# short grace, so they need seconds rather than minutes. The code path is the same.
REQUEUE_EVERY = 2.0
TEST_GRACE = timedelta(seconds=3)


def received_ids(receiver: Receiver) -> Counter[str]:
    return Counter(request.headers["X-Webhook-Id"] for request in receiver.requests)


def all_finished(event_ids: list[str]) -> bool:
    open_rows = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(
            Delivery.event_id.in_(event_ids),
            Delivery.status.not_in([DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED]),
        )
    )
    return open_rows == 0


def settle(receiver: Receiver, event_ids: list[str], timeout: float = 120.0) -> None:
    """Wait until every event arrived and every delivery finished, requeueing as beat would."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        arrived = set(received_ids(receiver))
        open_rows = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Delivery)
            .where(
                Delivery.event_id.in_(event_ids),
                Delivery.status.not_in([DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED]),
            )
        )
        if arrived >= set(event_ids) and open_rows == 0:
            return
        if time.monotonic() > deadline:
            missing = set(event_ids) - arrived
            raise AssertionError(f"{len(missing)} events never arrived; {open_rows} still open")
        redelivery.requeue_due(TEST_GRACE)
        time.sleep(REQUEUE_EVERY)


def assert_consistent(webhook_id: int, receiver: Receiver, event_ids: list[str]) -> None:
    """The receiver saw every event; the log and the counters agree with each other and with it.

    A worker killed mid-request may have sent a request whose attempt it never logged, so the
    receiver may have seen more attempts than the log holds, never fewer.
    """
    db.session.rollback()
    seen = received_ids(receiver)
    assert set(event_ids) <= set(seen)
    rows = list(db.session.scalars(sa.select(Delivery).where(Delivery.webhook_id == webhook_id)))
    assert {row.event_id for row in rows} == set(event_ids)
    logged = Counter[str]()
    for row in rows:
        attempts = db.session.scalars(
            sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == row.id)
        ).all()
        assert row.attempts == len(attempts), f"delivery {row.id} counts what it logged"
        assert [attempt.number for attempt in attempts] == list(range(1, len(attempts) + 1))
        sent = [attempt for attempt in attempts if attempt.status_code is not None]
        logged[row.event_id] += len(sent)
        if row.status == DeliveryStatus.SUCCEEDED:
            assert attempts[-1].status_code == 200
    for event_id in event_ids:
        assert logged[event_id] <= seen[event_id], f"{event_id}: logged more than was received"
    webhook = db.session.get(Webhook, webhook_id)
    succeeded = sum(1 for row in rows if row.status == DeliveryStatus.SUCCEEDED)
    failed = sum(1 for row in rows if row.status == DeliveryStatus.FAILED)
    assert (webhook.success_count, webhook.failure_count) == (succeeded, failed)
