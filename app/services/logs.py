"""Reading and purging the delivery log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.domain.payload import envelope
from app.domain.status import OPEN_STATUSES
from app.domain.timestamps import isoformat
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Event, Webhook, utcnow
from app.services.errors import NotFound

PURGE_BATCH = 1000


def get_webhook_logs(
    webhook: Webhook,
    limit: int = 50,
    before: int | None = None,
    *,
    success: bool | None = None,
    event_type: str | None = None,
    statuses: Sequence[str] | None = None,
    event_id: str | None = None,
) -> tuple[list[Delivery], int | None]:
    """Deliveries newest first, `limit` at a time; returns them and the cursor of the next page.

    `before` is the cursor (a delivery id), so a page deep in a large log costs what the first
    one does. `success`, `event_type`, `statuses` and `event_id` narrow the list.
    """
    # The page is a range of the (webhook_id, id) index, walked backwards. Written as
    # `webhook_id = ?` with `ORDER BY id`, PostgreSQL may instead walk the primary key
    # backwards and filter, which reads the whole table for a webhook whose deliveries are all
    # older than the others' (a quiet or disabled one). A one-value BETWEEN, ordered by both
    # columns, can only be served by that index. See docs/performance.md.
    query = (
        sa.select(Delivery)
        .where(Delivery.webhook_id.between(webhook.id, webhook.id))
        .options(selectinload(Delivery.event), selectinload(Delivery.attempt_log))
        .order_by(Delivery.webhook_id.desc(), Delivery.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Delivery.id < before)
    if success is not None:
        query = query.where(Delivery.success.is_(success))
    if statuses is not None:
        query = query.where(Delivery.status.in_(statuses))
    if event_id is not None:
        query = query.where(Delivery.event_id == event_id)
    if event_type is not None:
        # A webhook's events are all its owner's. Naming the owner lets PostgreSQL find the
        # events of a type the webhook rarely received through the (user_id, event_type)
        # index, instead of reading the webhook's whole log or every owner's events.
        query = query.join(Event, Event.id == Delivery.event_id).where(
            Event.user_id == webhook.user_id, Event.event_type == event_type
        )
    rows = list(db.session.scalars(query))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def get_delivery(webhook: Webhook, delivery_id: int) -> Delivery:
    delivery = db.session.scalar(
        sa.select(Delivery).where(Delivery.id == delivery_id, Delivery.webhook_id == webhook.id)
    )
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} for webhook {webhook.id}.")
    return delivery


def get_deliveries(webhook: Webhook, delivery_ids: Iterable[int]) -> list[Delivery]:
    """These deliveries of the webhook (unknown or others' ids are left out), newest first."""
    return list(
        db.session.scalars(
            sa.select(Delivery)
            .where(Delivery.webhook_id == webhook.id, Delivery.id.in_(list(delivery_ids)))
            .options(selectinload(Delivery.event), selectinload(Delivery.attempt_log))
            .order_by(Delivery.id.desc())
        )
    )


def redeliveries_of(delivery_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each of these deliveries that was delivered again, the ids of its redeliveries."""
    return _linked(Delivery.redelivery_of, Delivery.id, delivery_ids)


def carried_by_each(delivery_ids: Iterable[int]) -> dict[int, list[str]]:
    """For each of these deliveries that carried a digest, the ids of the events it carried
    besides its own."""
    return _linked(Delivery.carried_by, Delivery.event_id, delivery_ids)


def _linked(link: Any, value: Any, delivery_ids: Iterable[int]) -> dict[int, list[Any]]:
    """`value` of the deliveries whose `link` names each of these, in the order they were made."""
    ids = list(delivery_ids)
    found: dict[int, list[Any]] = {}
    if not ids:
        return found
    rows = db.session.execute(sa.select(link, value).where(link.in_(ids)).order_by(Delivery.id))
    for linked_to, linked in rows:
        found.setdefault(linked_to, []).append(linked)
    return found


def log_as_dict(delivery: Delivery, carried: Sequence[str] = ()) -> dict[str, Any]:
    """A log entry as the API shows it; `carried` is what `carried_by_each` found for it."""
    event = delivery.event
    return {
        "id": delivery.id,
        "event_id": event.id,
        "event_type": event.event_type,
        "payload": envelope(event.id, event.event_type, event.created_at, event.data),
        "request_body": delivery.request_body,
        "status": delivery.status,
        "status_code": delivery.status_code,
        "response_body": delivery.response_body,
        "success": delivery.success,
        "attempts": delivery.attempts,
        "duration_ms": delivery.duration_ms,
        "error": delivery.error,
        "next_attempt_at": isoformat(delivery.next_attempt_at),
        "waiting_behind": delivery.waiting_behind,
        "carried_by": delivery.carried_by,
        "carried": list(carried),
        "created_at": isoformat(delivery.created_at),
        "attempt_log": [
            {
                "number": attempt.number,
                "time": isoformat(attempt.started_at),
                "request_headers": attempt.request_headers,
                "status": attempt.status_code,
                "duration_ms": attempt.duration_ms,
                "error": attempt.error,
                "response_body": attempt.response_body,
                "response_headers": attempt.response_headers,
            }
            for attempt in delivery.attempt_log
        ],
    }


def purge_logs(days: int) -> int:
    """Delete finished deliveries older than `days`, a batch at a time; returns how many.

    Small batches keep each transaction short, so a large table is never locked for long.
    Events left with no delivery are deleted too.
    """
    cutoff = utcnow() - timedelta(days=days)
    purged = 0
    while True:
        ids = list(
            db.session.scalars(
                sa.select(Delivery.id)
                .where(Delivery.created_at < cutoff, Delivery.status.not_in(OPEN_STATUSES))
                .limit(PURGE_BATCH)
            )
        )
        if not ids:
            break
        for link in (Delivery.redelivery_of, Delivery.carried_by):
            db.session.execute(sa.update(Delivery).where(link.in_(ids)).values({link: None}))
        db.session.execute(sa.delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
        db.session.execute(sa.delete(Delivery).where(Delivery.id.in_(ids)))
        db.session.commit()
        purged += len(ids)
    orphaned = (
        sa.select(Event.id)
        .where(Event.created_at < cutoff)
        .where(~sa.exists().where(Delivery.event_id == Event.id))
    )
    db.session.execute(sa.delete(Event).where(Event.id.in_(orphaned)))
    db.session.commit()
    return purged
