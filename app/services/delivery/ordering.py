"""Ordered webhooks: one delivery in flight at a time, in the order the events were fired.

A delivery's id is its place in line (the fan-out writes deliveries in firing order). Before
an attempt, a delivery of an ordered webhook looks for an earlier one still open; if there is
one, it waits behind it: until the earlier one's next attempt is due, or a short while when it
is being sent. When a delivery ends, the next in line is queued at once, so waiting costs no
more than the recheck only when a message is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, utcnow
from app.services import queue

# How soon a waiting delivery looks again by itself, when the one ahead is being sent or has
# no time set: the one ahead queues it when it ends, this is only the safety net.
RECHECK = timedelta(seconds=5)


@dataclass(frozen=True)
class Ahead:
    id: int
    wait: float  # seconds until the waiting one should look again


def _open_of(webhook_id: int) -> sa.Select:
    return (
        sa.select(Delivery.id, Delivery.status, Delivery.next_attempt_at)
        .where(Delivery.webhook_id == webhook_id, Delivery.status.in_(OPEN_STATUSES))
        .order_by(Delivery.id)
        .limit(1)
    )


def ahead_of(delivery_id: int, webhook_id: int, now: datetime) -> Ahead | None:
    """The earliest open delivery of the webhook before this one, if any."""
    row = db.session.execute(_open_of(webhook_id).where(Delivery.id < delivery_id)).one_or_none()
    db.session.commit()
    if row is None:
        return None
    due = row.next_attempt_at if row.status == DeliveryStatus.SCHEDULED else None
    wait = max((due - now) if due else RECHECK, timedelta(seconds=1))
    return Ahead(row.id, wait.total_seconds())


def queue_next(webhook_id: int, after_id: int) -> None:
    """A delivery of an ordered webhook has ended: the next in line may go now."""
    next_in_line = db.session.execute(
        sa.select(Delivery.id, Delivery.waiting_behind)
        .where(
            Delivery.webhook_id == webhook_id,
            Delivery.id > after_id,
            Delivery.status.in_(OPEN_STATUSES),
        )
        .order_by(Delivery.id)
        .limit(1)
    ).one_or_none()
    if next_in_line is None:
        db.session.commit()
        return
    if next_in_line.waiting_behind is not None:
        # Due now: it was only waiting for its turn, which has come (its own retry time, if it
        # has one, is not touched).
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id == next_in_line.id, Delivery.status.in_(OPEN_STATUSES))
            .values(next_attempt_at=utcnow())
        )
    db.session.commit()
    queue.enqueue_deliveries([next_in_line.id])
