"""Taking a delivery's lease, and reading everything its attempt needs in the same go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.domain.delivery_rate import RateLimit, limit_for
from app.domain.outgoing import Outgoing
from app.domain.retry import EARLY_TOLERANCE
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, UTCDateTime, Webhook, utcnow
from app.services import connections
from app.services.delivery_rate import current_limit
from app.services.webhooks import signing_secrets


@dataclass(frozen=True)
class Claimed:
    """A delivery held under its lease, with everything its attempt needs.

    It is read in the claim itself: no ORM object is loaded, kept or reloaded across the HTTP
    call, which is what a delivery used to spend most of its CPU on (docs/performance.md).
    """

    id: int
    attempts: int  # made before this one
    rate_window: int | None  # where the endpoint's rate limit already gave it a place
    expires_at: datetime | None  # when it is no longer worth sending
    rate_limit: RateLimit  # the webhook's own, or its format's default
    webhook_id: int
    owner_id: int  # the webhook's user: the delivery rate is counted per owner and URL
    webhook_active: bool
    ordered: bool
    disabled_reason: str | None
    webhook_system: bool  # the operator notices' own webhook
    paused_until: datetime | None  # the endpoint's 429 holds the webhook back until then
    outgoing: Outgoing


def lease_length() -> timedelta:
    # Longer than one attempt can take (connect + read, each up to WEBHOOK_TIMEOUT) plus the
    # database work around it, so a live worker never loses its lease mid-send; short enough
    # that a dead worker's delivery is taken up again within seconds.
    return timedelta(seconds=2 * current_app.config["WEBHOOK_TIMEOUT"] + 5)


_deliveries = Delivery.__table__
_webhooks = Webhook.__table__
_events = Event.__table__
_CLAIMED_COLUMNS = (
    _deliveries.c.id,
    _deliveries.c.attempts,
    _deliveries.c.rate_window,
    _deliveries.c.expires_at,
    _deliveries.c.webhook_id,
    _deliveries.c.event_id,
    _webhooks.c.user_id,
    _webhooks.c.is_active,
    _webhooks.c.ordered,
    _webhooks.c.disabled_reason,
    _webhooks.c.is_system,
    _webhooks.c.paused_until,
    _webhooks.c.url,
    _webhooks.c.format,
    _webhooks.c.rate_limit,
    _webhooks.c.secret_encrypted,
    _webhooks.c.previous_secret_encrypted,
    _webhooks.c.previous_secret_expires_at,
    _events.c.event_type,
    _events.c.data,
    _events.c.created_at.label("event_created_at"),
)
_JOINS = (_webhooks.c.id == _deliveries.c.webhook_id, _events.c.id == _deliveries.c.event_id)
# Due, open, and not held by a live lease; `due_by` allows for clocks a little apart.
_CLAIM = (
    sa.update(_deliveries)
    .where(
        _deliveries.c.id == sa.bindparam("delivery_id"),
        # Literals rather than one list parameter, which is expanded again at every execution.
        _deliveries.c.status.in_([sa.literal(status.value) for status in OPEN_STATUSES]),
        sa.or_(
            _deliveries.c.lease_until.is_(None),
            _deliveries.c.lease_until < sa.bindparam("now", type_=UTCDateTime),
        ),
        sa.or_(
            _deliveries.c.next_attempt_at.is_(None),
            _deliveries.c.next_attempt_at <= sa.bindparam("due_by", type_=UTCDateTime),
        ),
    )
    .values(status=DeliveryStatus.SENDING, lease_until=sa.bindparam("lease", type_=UTCDateTime))
)
# PostgreSQL claims and reads in one round trip (UPDATE … FROM … RETURNING); SQLite cannot
# return the joined tables' columns, so it claims, then reads.
_CLAIM_AND_READ = _CLAIM.where(*_JOINS).returning(*_CLAIMED_COLUMNS)
_READ_CLAIMED = sa.select(*_CLAIMED_COLUMNS).where(
    _deliveries.c.id == sa.bindparam("delivery_id"), *_JOINS
)


def claim(delivery_id: int) -> Claimed | None:
    """Take the lease on a delivery that is due and free; None when there is none to take."""
    now = utcnow()
    parameters = {
        "delivery_id": delivery_id,
        "now": now,
        "due_by": now + EARLY_TOLERANCE,
        "lease": now + lease_length(),
    }
    if connections.on_postgres():
        with connections.progress() as connection:
            row = connection.execute(_CLAIM_AND_READ, parameters).one_or_none()
    else:
        connection = db.session.connection()
        claimed = connection.execute(_CLAIM, parameters).rowcount == 1
        row = connection.execute(_READ_CLAIMED, parameters).one_or_none() if claimed else None
        db.session.commit()
    if row is None:
        return None
    return Claimed(
        id=row.id,
        attempts=row.attempts,
        rate_window=row.rate_window,
        expires_at=row.expires_at,
        rate_limit=limit_for(row.rate_limit, row.format, current_limit()),
        webhook_id=row.webhook_id,
        owner_id=row.user_id,
        webhook_active=row.is_active,
        ordered=row.ordered,
        disabled_reason=row.disabled_reason,
        webhook_system=row.is_system,
        paused_until=row.paused_until,
        outgoing=Outgoing(
            url=row.url,
            format=row.format,
            secrets=signing_secrets(row),
            event_id=row.event_id,
            event_type=row.event_type,
            event_created_at=row.event_created_at,
            event_data=row.data,
        ),
    )
