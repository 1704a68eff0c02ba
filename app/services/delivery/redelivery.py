"""Sending deliveries again: what is due and was not queued, a replayed period, one entry."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app import queues
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, Subscription, Webhook, utcnow
from app.services import queue
from app.services.errors import ValidationError

# A delivery left `sending` by a dead worker is picked up again after its lease; a missed
# queue message (broker outage, lost Redis data) once it has been due this long.
REQUEUE_GRACE = timedelta(seconds=60)
REQUEUE_BATCH = 1000


def due_deliveries(grace: timedelta) -> list[Delivery]:
    """Deliveries due for longer than `grace` that are not being sent, or whose sender died."""
    now = utcnow()
    query = (
        sa.select(Delivery)
        .where(
            sa.or_(
                sa.and_(
                    Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED]),
                    Delivery.next_attempt_at <= now - grace,
                ),
                sa.and_(
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.lease_until < now,
                ),
            )
        )
        .order_by(Delivery.next_attempt_at)
        .limit(REQUEUE_BATCH)
    )
    return list(db.session.scalars(query))


def requeue_due(grace: timedelta = REQUEUE_GRACE) -> int:
    """Queue again what is due and evidently not queued; returns how many.

    Sending twice is harmless: the claim lets only one message through.
    """
    ids = [row.id for row in due_deliveries(grace)]
    db.session.commit()
    return queue.enqueue_deliveries(ids, queues.RETRIES)


def replay(
    webhook: Webhook,
    since: datetime,
    until: datetime | None = None,
    *,
    failed_only: bool = False,
    missed: bool = False,
) -> int:
    """Deliver again every event this webhook was sent between `since` and `until`; with
    `missed`, also the events it was never sent (see `missed_events`).

    Each event goes out once more under its own id, even if it was delivered several times.
    Returns how many deliveries were queued.
    """
    if until is not None and until <= since:
        raise ValidationError.from_fields({"until": ["Must be later than since."]})
    query = sa.select(Delivery.event_id).where(
        Delivery.webhook_id == webhook.id,
        Delivery.created_at >= since,
        Delivery.status.not_in(OPEN_STATUSES),
    )
    if until is not None:
        query = query.where(Delivery.created_at < until)
    if failed_only:
        query = query.where(Delivery.status == DeliveryStatus.FAILED)
    event_ids = set(db.session.scalars(query))
    if missed:
        event_ids.update(missed_events(webhook, since, until))
    return _deliver(webhook, sorted(event_ids))


def missed_events(webhook: Webhook, since: datetime, until: datetime | None) -> list[str]:
    """The owner's events of the webhook's types, fired in the range since the webhook
    existed, that never reached it: fired while it was disabled (no delivery, or one skipped
    because it was disabled by the time it was sent), or filtered out."""
    query = sa.select(Event.id).where(
        Event.user_id == webhook.user_id,
        Event.event_type.in_(
            sa.select(Subscription.event_type).where(Subscription.webhook_id == webhook.id)
        ),
        Event.created_at >= max(since, webhook.created_at),
        ~sa.exists().where(
            Delivery.webhook_id == webhook.id,
            Delivery.event_id == Event.id,
            Delivery.status != DeliveryStatus.SKIPPED,
        ),
    )
    if until is not None:
        query = query.where(Event.created_at < until)
    return list(db.session.scalars(query))


def _deliver(webhook: Webhook, event_ids: list[str]) -> int:
    now = utcnow()
    deliveries = [
        Delivery(webhook_id=webhook.id, event_id=event_id, next_attempt_at=now)
        for event_id in event_ids
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    ids = [row.id for row in deliveries]
    db.session.commit()
    queue.enqueue_deliveries(ids)
    return len(ids)


def redeliver(original: Delivery) -> Delivery:
    """Deliver an event to the same webhook again, same event id, with a fresh retry schedule.

    The original log row stays as it was; the new attempt gets a row of its own.
    """
    now = utcnow()
    again = Delivery(
        webhook_id=original.webhook_id, event_id=original.event_id, next_attempt_at=now
    )
    db.session.add(again)
    db.session.commit()
    queue.enqueue_deliveries([again.id])
    return again
