"""Digests: a chat webhook's deliveries waiting for its rate limit ride in the next message.

When a delivery to a `discord`, `slack` or `telegram` webhook gets its place in the rate limit
and goes, it takes with it the deliveries of the same webhook that are waiting for the limit
(they have a `rate_window`: the next window, when they ask again), as many as one message can
list: one request instead of a queue of them, each sent later and staler than the one before.
Those it could not list stay waiting and ride in the next message that goes. A burst of a
thousand price alerts to a Telegram group allowed 20 a minute is a few messages within a
second or so, not fifty minutes of them.

So what waits keeps no place in a later window (`delivery_rate.acquire(reserve=False)`):
places kept for deliveries that then rode in a digest would hold the budget of windows in
which nothing is sent, and postpone every later alert behind them.

The carried deliveries are held under a lease while the message is out, like a claim holds
one, so no other worker sends them meanwhile. If the message is delivered they end
`succeeded`, naming the delivery that carried them (`carried_by`); it made the attempt. If it
is not, they go back to waiting: when the carrier is to try again (a 5xx, a 429 with
Retry-After) they wait at least as long, and ride with it; if it failed for good they go at
their own times.

`json` webhooks are never merged (a receiver's program expects one event per request), nor
ordered ones (one delivery in flight at a time, each on its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app import metrics
from app.domain.formats.digest import DIGEST_FORMATS, lines_that_fit
from app.domain.outgoing import Carried, envelope_of
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, UTCDateTime, utcnow
from app.services.delivery.claim import Claimed, lease_length

# More than one message can list (Discord's 2000 code points hold about forty lines).
MAX_CANDIDATES = 200
_WAITING = (DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED)

_deliveries = Delivery.__table__
_events = Event.__table__


@dataclass(frozen=True)
class Rider:
    """A waiting delivery that rides in a digest, as it was when it was taken."""

    id: int
    attempts: int
    next_attempt_at: datetime | None
    event: Carried


def _free(now: datetime) -> sa.ColumnElement[bool]:
    """Waiting for the limit and not held by anyone, so it may ride."""
    return sa.and_(
        _deliveries.c.rate_window.is_not(None),
        _deliveries.c.status.in_([sa.literal(status.value) for status in _WAITING]),
        sa.or_(_deliveries.c.lease_until.is_(None), _deliveries.c.lease_until < now),
    )


def applies(claimed: Claimed) -> bool:
    """Whether the webhook's waiting deliveries ride in digests."""
    return (
        claimed.outgoing.format in DIGEST_FORMATS
        and not claimed.ordered
        and current_app.config["WEBHOOK_DIGESTS"]
    )


def gather(claimed: Claimed) -> tuple[Rider, ...]:
    """Take the waiting deliveries that ride with `claimed`, which is about to be sent."""
    if not applies(claimed):
        return ()
    now = utcnow()
    rows = db.session.execute(
        sa.select(
            _deliveries.c.id,
            _deliveries.c.attempts,
            _deliveries.c.next_attempt_at,
            _events.c.id.label("event_id"),
            _events.c.event_type,
            _events.c.created_at,
            _events.c.data,
        )
        .join(_events, _events.c.id == _deliveries.c.event_id)
        .where(
            _deliveries.c.webhook_id == claimed.webhook_id,
            _deliveries.c.id != claimed.id,
            _free(now),
            sa.or_(_deliveries.c.expires_at.is_(None), _deliveries.c.expires_at > now),
        )
        .order_by(_deliveries.c.id)
        .limit(MAX_CANDIDATES)
    ).all()
    candidates = [
        Rider(
            row.id,
            row.attempts,
            row.next_attempt_at,
            Carried(row.event_id, row.event_type, row.created_at, row.data),
        )
        for row in rows
    ]
    head = claimed.outgoing
    documents = [envelope_of(head), *(envelope_of(rider.event) for rider in candidates)]
    chosen = candidates[: lines_that_fit(head.format, documents) - 1] if candidates else []
    if not chosen:
        db.session.commit()
        return ()
    # Taken again under the same condition: another worker's message may have taken one since.
    taken = set(
        db.session.scalars(
            sa.update(_deliveries)
            .where(_deliveries.c.id.in_([rider.id for rider in chosen]), _free(utcnow()))
            .values(status=DeliveryStatus.SENDING, lease_until=utcnow() + lease_length())
            .returning(_deliveries.c.id)
        )
    )
    db.session.commit()
    return tuple(rider for rider in chosen if rider.id in taken)


def finish(
    carrier_id: int,
    riders: tuple[Rider, ...],
    status: str,
    status_code: int | None,
    carrier_next_at: datetime | None,
) -> None:
    """The carrier's attempt is recorded: its riders succeeded with it, or wait again."""
    if not riders:
        return
    if status != DeliveryStatus.SUCCEEDED:
        release(riders, carrier_next_at)
        return
    now = utcnow()
    db.session.execute(
        sa.update(_deliveries)
        .where(
            _deliveries.c.id.in_([rider.id for rider in riders]),
            _deliveries.c.status == DeliveryStatus.SENDING,
        )
        .values(
            status=DeliveryStatus.SUCCEEDED,
            success=True,
            status_code=status_code,
            error=None,
            carried_by=carrier_id,
            lease_until=None,
            rate_window=None,  # its place is not needed: the carrier's was used
            updated_at=now,
        )
    )
    db.session.commit()
    for _ in riders:
        metrics.delivery_settled(DeliveryStatus.SUCCEEDED, postponed=False)


def release(riders: tuple[Rider, ...], not_before: datetime | None = None) -> None:
    """Back to waiting, each as it was, but not before `not_before` when that is later."""
    for rider in riders:
        next_at = rider.next_attempt_at
        if not_before is not None and (next_at is None or next_at < not_before):
            next_at = not_before
        db.session.execute(
            sa.update(_deliveries)
            .where(_deliveries.c.id == rider.id, _deliveries.c.status == DeliveryStatus.SENDING)
            .values(
                status=DeliveryStatus.SCHEDULED if rider.attempts else DeliveryStatus.PENDING,
                lease_until=None,
                next_attempt_at=sa.bindparam("next_at", next_at, type_=UTCDateTime),
            )
        )
    db.session.commit()
