"""Sending deliveries again: what is due and was not queued, a replayed period, one entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app import queues
from app.domain import filters
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, Subscription, Webhook, utcnow
from app.services import queue
from app.services.errors import Conflict, ValidationError

# A delivery left `sending` by a dead worker is picked up again after its lease; a missed
# queue message (broker outage, lost Redis data) once it has been due this long.
REQUEUE_GRACE = timedelta(seconds=60)
REQUEUE_BATCH = 1000
# A replay queues at most this many deliveries; a longer range is paged (`Replayed.next_since`),
# so one request over a year of events neither holds the database nor the broker for long.
REPLAY_PAGE = 10_000
# After an outage (the broker or the database back), queue messages may have been lost with
# the broker's data or never published: what is due is sent again almost at once, rather than
# a minute later. Most of what is due then really is lost, so a duplicate is the price of a
# second's grace; the claim lets only one through.
RECOVERY_GRACE = timedelta(seconds=1)


def due_deliveries(
    grace: timedelta,
    due_after: datetime | None = None,
    written_before: datetime | None = None,
) -> list[Delivery]:
    """Deliveries due for longer than `grace` (and since `due_after`, if given) that are not
    being sent, or whose sender died. With `written_before`, only the waiting ones untouched
    since then, and no `sending` ones (see `requeue_recovering`)."""
    now = utcnow()
    waiting = sa.and_(
        Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED]),
        Delivery.next_attempt_at <= now - grace,
    )
    if due_after is not None:
        waiting = sa.and_(waiting, Delivery.next_attempt_at > due_after)
    abandoned = sa.and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
    if written_before is not None:
        waiting, abandoned = sa.and_(waiting, Delivery.updated_at < written_before), sa.false()
    query = (
        sa.select(Delivery)
        .where(sa.or_(waiting, abandoned))
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


def require_active(webhook: Webhook) -> None:
    """A disabled webhook is sent nothing: delivering to it again would only log a skip."""
    if webhook.is_active:
        return
    reason = webhook.disabled_reason or "It is disabled."
    then = (
        "Only an admin can enable it again."
        if webhook.disabled_by_admin
        else "Enable it, then deliver again."
    )
    raise Conflict(f"Nothing was sent: the webhook is disabled. {reason} {then}")


def requeue_recovering(
    due_after: datetime | None, written_before: datetime | None = None
) -> tuple[int, datetime | None]:
    """One sweep of the recovery after an outage: queue again what became due after
    `due_after` (all that is due, the first time) and was not sent, and every delivery whose
    sender's lease ran out. Returns how many, and where the next sweep starts, so that a
    delivery already queued by one sweep is not queued again by the next.

    With `written_before` (the watch that follows, `tasks/recovery.py`), only deliveries left
    waiting since before then: their messages may have been lost in the outage, whereas one
    written since (an attempt made, a retry scheduled) was queued after it.
    """
    cutoff = utcnow() - RECOVERY_GRACE
    rows = due_deliveries(RECOVERY_GRACE, due_after, written_before)
    ids = [row.id for row in rows]
    if len(rows) == REQUEUE_BATCH:  # more are due than one batch: go on from the last one
        cutoff = min(cutoff, max(row.next_attempt_at for row in rows))
    db.session.commit()
    queued = queue.enqueue_deliveries(ids, queues.RETRIES)
    # The broker still away: the next sweep tries the same again.
    return queued, cutoff if queued == len(ids) else due_after


def last_due_written_before(written_before: datetime) -> datetime | None:
    """When the last delivery left waiting since before `written_before` falls due: how long
    the recovery must watch for messages an outage at that time may have lost. None if none."""
    latest = db.session.scalar(
        sa.select(sa.func.max(Delivery.next_attempt_at)).where(
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED]),
            Delivery.updated_at < written_before,
        )
    )
    db.session.commit()
    return latest


@dataclass(frozen=True)
class Replayed:
    """What a replay queued, and where the rest of its range starts if it did not all fit."""

    deliveries: int
    next_since: datetime | None = None


def replay(
    webhook: Webhook,
    since: datetime,
    until: datetime | None = None,
    *,
    failed_only: bool = False,
    missed: bool = False,
) -> Replayed:
    """Deliver again every event this webhook was sent between `since` and `until`; with
    `missed`, also the events it was never sent (see `missed_events`).

    Each event goes out once more under its own id, even if it was delivered several times.
    At most REPLAY_PAGE at a time, oldest first: for a longer range the answer says where the
    rest starts, and a replay from there queues the next page.
    """
    require_active(webhook)
    if until is not None and until <= since:
        raise ValidationError.from_fields(
            {"until": ["Must be later than the start of the range (since)."]}
        )
    # The range and the pages go by when each event was fired, as `missed_events` does: the
    # deliveries a page queues are new rows, and by their own time a later page would find
    # them and send their events once more.
    query = (
        sa.select(Delivery.event_id, Event.created_at)
        .join(Event, Event.id == Delivery.event_id)
        .where(
            Delivery.webhook_id == webhook.id,
            Event.created_at >= since,
            Delivery.status.not_in(OPEN_STATUSES),
        )
    )
    if until is not None:
        query = query.where(Event.created_at < until)
    if failed_only:
        query = query.where(Delivery.status == DeliveryStatus.FAILED)
    query = query.order_by(Event.created_at, Delivery.id).limit(REPLAY_PAGE + 1)
    found = [(row.event_id, row.created_at) for row in db.session.execute(query)]
    if missed:
        found += missed_events(webhook, since, until)
    page, next_since = _first_page(found)
    return Replayed(_deliver(webhook, _in_firing_order(page)), next_since)


def _in_firing_order(page: list[tuple[str, datetime]]) -> list[str]:
    """Each event id once, in the order the events were fired (the id breaks a tie).

    The deliveries are written in this order, and an ordered webhook is sent them in the order
    of their ids (`ordering`): sorted by event id alone, which is random, they would go out of
    order."""
    fired = sorted(page, key=lambda item: (item[1], item[0]))
    return list(dict.fromkeys(event_id for event_id, _ in fired))


def _first_page(
    found: list[tuple[str, datetime]],
) -> tuple[list[tuple[str, datetime]], datetime | None]:
    """The oldest REPLAY_PAGE of (event id, time), cut before a time so that a replay from it
    misses none; and that time, if any were left out. Each list it was made of holds its own
    oldest REPLAY_PAGE + 1, so the first REPLAY_PAGE of them all are among them."""
    if len(found) <= REPLAY_PAGE:
        return found, None
    found.sort(key=lambda item: item[1])
    cut = found[REPLAY_PAGE][1]
    # More than a page fired in the same microsecond: sent again next time rather than missed.
    page = [item for item in found[:REPLAY_PAGE] if item[1] < cut] or found[:REPLAY_PAGE]
    return page, cut


def missed_events(
    webhook: Webhook, since: datetime, until: datetime | None
) -> list[tuple[str, datetime]]:
    """The owner's events of the webhook's types, fired in the range since the webhook
    existed, that never reached it: fired while it was disabled (no delivery, or one skipped
    because it was disabled by the time it was sent), or kept out by a filter it no longer has.

    The oldest REPLAY_PAGE + 1 of them, as (event id, when it was fired): enough to tell
    whether there are more than a page."""
    query = sa.select(Event.id, Event.created_at).where(
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
    query = query.order_by(Event.created_at, Event.id)
    wanted = REPLAY_PAGE + 1
    if webhook.filter is None:
        return [(row.id, row.created_at) for row in db.session.execute(query.limit(wanted))]
    # Only what its filter, as it is now, lets through: what a filter change let in is missed.
    # Read a batch at a time until enough pass it.
    condition = filters.compiled(webhook.filter)
    rows = db.session.execute(
        query.add_columns(Event.event_type, Event.data).execution_options(yield_per=1000)
    )
    passed = []
    for row in rows:
        if filters.matches(condition, row.event_type, row.data):
            passed.append((row.id, row.created_at))
            if len(passed) == wanted:
                break
    rows.close()
    return passed


def _deliver(webhook: Webhook, event_ids: list[str]) -> int:
    """One new delivery per event, written in the order given: the flush inserts them in the
    order they were added, so their ids (an ordered webhook's line) follow it."""
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

    The original log row stays as it was; the new attempt gets a row of its own, which names
    the one it repeats.
    """
    require_active(original.webhook)
    now = utcnow()
    again = Delivery(
        webhook_id=original.webhook_id,
        event_id=original.event_id,
        next_attempt_at=now,
        redelivery_of=original.id,
    )
    db.session.add(again)
    db.session.commit()
    queue.enqueue_deliveries([again.id])
    return again
