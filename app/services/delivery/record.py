"""Recording an attempt: the delivery, its attempt row and the webhook's counters at once.

The failure that reaches WEBHOOK_FAILURE_THRESHOLD disables the webhook in the same statement.
Then the owner is told by mail and the operator by a notice (app/services/operator_notices.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from app import metrics, outbound
from app.domain.retry import is_success
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Event, UTCDateTime, Webhook, utcnow
from app.services import connections, notices, operator_notices
from app.services.delivery.send import Sent

_deliveries = Delivery.__table__
_webhooks = Webhook.__table__
_attempts = DeliveryAttempt.__table__

_now = sa.bindparam("now", type_=UTCDateTime)
_next_at = sa.bindparam("next_at", type_=UTCDateTime)
# updated_at is set here, not by the models' onupdate: in one statement, the two tables'
# onupdate values would otherwise compete for one parameter name.
_deliveries_update = (
    sa.update(_deliveries)
    .where(_deliveries.c.id == sa.bindparam("delivery_id"))
    .values(
        attempts=_deliveries.c.attempts + 1,
        status=sa.bindparam("new_status", type_=sa.String),
        status_code=sa.bindparam("status_code", type_=sa.Integer),
        response_body=sa.bindparam("response_body", type_=sa.Text),
        duration_ms=sa.bindparam("duration_ms", type_=sa.Integer),
        error=sa.bindparam("error", type_=sa.Text),
        success=sa.bindparam("ok", type_=sa.Boolean),
        # The exact bytes of the latest attempt that sent any.
        request_body=sa.func.coalesce(
            sa.bindparam("sent_body", type_=sa.Text), _deliveries.c.request_body
        ),
        next_attempt_at=sa.func.coalesce(_next_at, _deliveries.c.next_attempt_at),
        lease_until=None,
        rate_window=None,  # its place, if it had one, is used
        waiting_behind=None,
        updated_at=_now,
    )
)
_ATTEMPT_VALUES = {
    "number": sa.bindparam("number", type_=sa.Integer),
    "started_at": sa.bindparam("started_at", type_=UTCDateTime),
    "request_headers": sa.bindparam("request_headers", type_=sa.JSON),
    "status_code": sa.bindparam("status_code", type_=sa.Integer),
    "response_body": sa.bindparam("response_body", type_=sa.Text),
    "response_headers": sa.bindparam("response_headers", type_=sa.JSON),
    "duration_ms": sa.bindparam("duration_ms", type_=sa.Integer),
    "error": sa.bindparam("error", type_=sa.Text),
}

# The webhook's counters, updated in SQL so concurrent workers never lose an increment. The
# failure that reaches WEBHOOK_FAILURE_THRESHOLD disables the webhook in the same statement:
# the row lock makes it exactly one worker, at exactly the threshold.
_succeeded = sa.bindparam("succeeded", type_=sa.Integer)  # 1 or 0
_failed = sa.bindparam("failed", type_=sa.Integer)  # 1 when the delivery failed for good
# The operator notices' own webhook is never disabled: it would stop every later notice.
_reaches_threshold = sa.and_(
    _webhooks.c.is_active.is_(True),
    _webhooks.c.is_system.is_(False),
    _failed == 1,
    _webhooks.c.consecutive_failures + 1 >= sa.bindparam("threshold", type_=sa.Integer),
)
_disabled_reason = (
    sa.literal("Disabled after ")
    + sa.cast(_webhooks.c.consecutive_failures + 1, sa.String)
    + " consecutive failed deliveries. Last error: "
    + sa.func.coalesce(sa.bindparam("error", type_=sa.Text), "unknown")
)
_count = (
    sa.update(_webhooks)
    .where(sa.bindparam("counted", type_=sa.Boolean))  # test sends leave the counters be
    .values(
        success_count=_webhooks.c.success_count + _succeeded,
        failure_count=_webhooks.c.failure_count + _failed,
        consecutive_failures=sa.case(
            (_succeeded == 1, 0), else_=_webhooks.c.consecutive_failures + _failed
        ),
        last_triggered=_now,
        updated_at=_now,
        is_active=sa.case((_reaches_threshold, False), else_=_webhooks.c.is_active),
        disabled_reason=sa.case(
            (_reaches_threshold, _disabled_reason), else_=_webhooks.c.disabled_reason
        ),
        disabled_at=sa.case((_reaches_threshold, _now), else_=_webhooks.c.disabled_at),
        # A 429 pauses the webhook until the refused delivery's retry (its Retry-After).
        paused_until=sa.case(
            (
                sa.and_(
                    sa.bindparam("status_code", type_=sa.Integer) == 429, _next_at.is_not(None)
                ),
                _next_at,
            ),
            else_=_webhooks.c.paused_until,
        ),
    )
    .returning(_webhooks.c.consecutive_failures, _webhooks.c.is_active, _webhooks.c.disabled_at)
)


def _record_in_one_statement() -> sa.Select:
    """PostgreSQL: the delivery, its attempt and the counters in one statement, with
    data-modifying CTEs. No row comes back when the delivery is gone."""
    recorded = _deliveries_update.returning(_deliveries.c.id, _deliveries.c.webhook_id).cte(
        "recorded"
    )
    attempt = (
        sa.insert(_attempts)
        .from_select(
            ["delivery_id", *_ATTEMPT_VALUES],
            sa.select(recorded.c.id, *_ATTEMPT_VALUES.values()),
        )
        .cte("attempt")
    )
    counted = _count.where(_webhooks.c.id == recorded.c.webhook_id).cte("counted")
    return (
        sa.select(counted.c.consecutive_failures, counted.c.is_active, counted.c.disabled_at)
        .select_from(recorded.outerjoin(counted, sa.true()))
        .add_cte(attempt)
    )


_RECORD = _record_in_one_statement()
_INSERT_ATTEMPT = sa.insert(_attempts).values(
    delivery_id=sa.bindparam("delivery_id"), **_ATTEMPT_VALUES
)
_COUNT = _count.where(_webhooks.c.id == sa.bindparam("counted_webhook"))


class Named(Protocol):
    """The event of a delivery, as the notices name it."""

    @property
    def event_id(self) -> str: ...
    @property
    def event_type(self) -> str: ...


class Held(Protocol):
    """A delivery under this worker's lease: what recording its attempt needs of it."""

    @property
    def id(self) -> int: ...
    @property
    def webhook_id(self) -> int: ...
    @property
    def attempts(self) -> int: ...  # made before this one
    @property
    def webhook_system(self) -> bool: ...
    @property
    def ordered(self) -> bool: ...
    @property
    def outgoing(self) -> Named: ...


@dataclass(frozen=True)
class HeldEvent:
    event_id: str
    event_type: str


@dataclass(frozen=True)
class HeldDelivery:
    id: int
    webhook_id: int
    attempts: int
    webhook_system: bool
    ordered: bool
    outgoing: HeldEvent


_HELD = (
    sa.select(
        _deliveries.c.webhook_id,
        _deliveries.c.attempts,
        _deliveries.c.event_id,
        _webhooks.c.is_system,
        _webhooks.c.ordered,
        Event.__table__.c.event_type,
    )
    .join(_webhooks, _webhooks.c.id == _deliveries.c.webhook_id)
    .join(Event.__table__, Event.__table__.c.id == _deliveries.c.event_id)
    .where(
        _deliveries.c.id == sa.bindparam("delivery_id"),
        _deliveries.c.status == DeliveryStatus.SENDING,
    )
)


def held(delivery_id: int) -> HeldDelivery | None:
    """The delivery while it is `sending`, for an attempt that broke before it could record;
    None when it is not (the fault came before the claim, or after the record)."""
    row = db.session.execute(_HELD, {"delivery_id": delivery_id}).one_or_none()
    db.session.commit()
    if row is None:
        return None
    event = HeldEvent(row.event_id, row.event_type)
    return HeldDelivery(
        delivery_id, row.webhook_id, row.attempts, row.is_system, row.ordered, event
    )


@dataclass(frozen=True)
class Counted:
    consecutive_failures: int | None = None
    is_active: bool | None = None
    disabled_at: datetime | None = None


def record(claimed: Held, sent: Sent, status: str, delay: float | None, *, counted: bool) -> bool:
    """Log the attempt on the delivery and update the webhook's counters, all at once.

    False when the webhook, and with it the delivery, was deleted while the request was out.
    """
    result = sent.result
    now = utcnow()
    parameters = {
        "delivery_id": claimed.id,
        # Named apart from every column: Core would SET a column a parameter is named after.
        "counted_webhook": claimed.webhook_id,
        "new_status": status,
        "number": claimed.attempts + 1,
        "started_at": sent.started_at,
        "request_headers": sent.headers,
        "status_code": result.status_code,
        "response_body": result.response_body,
        "response_headers": result.response_headers,
        "duration_ms": result.duration_ms,
        "error": result.error,
        "ok": is_success(result.status_code),
        # Bodies are UTF-8 unless a format has a bug; that must not stop the record.
        "sent_body": None
        if sent.body is None
        else outbound.storable(sent.body.decode("utf-8", errors="replace")),
        "next_at": None if delay is None else now + timedelta(seconds=delay),
        "counted": counted,
        "succeeded": int(status == DeliveryStatus.SUCCEEDED),
        "failed": int(status == DeliveryStatus.FAILED),
        "threshold": current_app.config["WEBHOOK_FAILURE_THRESHOLD"],
        "now": now,
    }
    if connections.on_postgres():
        with connections.progress() as connection:
            row = connection.execute(_RECORD, parameters).one_or_none()
        if row is None:
            return False
        webhook = Counted(*row)
    else:
        connection = db.session.connection()
        if connection.execute(_deliveries_update, parameters).rowcount != 1:
            db.session.rollback()
            return False
        connection.execute(_INSERT_ATTEMPT, parameters)
        webhook = Counted(*(connection.execute(_COUNT, parameters).one_or_none() or ()))
        db.session.commit()
    metrics.attempt_recorded(status, result.status_code, result.duration_ms)
    if counted and not claimed.webhook_system:  # no notice about the notices: no loop
        _tell(claimed, status, webhook, result.error, now)
    return True


def _tell(claimed: Held, status: str, counted: Counted, error: str | None, now: datetime) -> None:
    """A delivery that failed for good, and the failure that disabled its webhook, are told
    to the operator; the owner hears by mail."""
    failed = status == DeliveryStatus.FAILED
    disabled_now = counted.is_active is False and counted.disabled_at == now
    webhook = db.session.get(Webhook, claimed.webhook_id) if failed or disabled_now else None
    if webhook is None:
        return
    if failed:
        operator_notices.notify(
            operator_notices.DELIVERY_EXHAUSTED,
            webhook,
            error=error or "unknown",
            event_id=claimed.outgoing.event_id,
            event=claimed.outgoing.event_type,
        )
    if disabled_now:
        notices.webhook_disabled(webhook, error)
        operator_notices.notify(
            operator_notices.WEBHOOK_DISABLED, webhook, reason=webhook.disabled_reason
        )
    elif failed and counted.is_active:
        notices.webhook_failing(claimed.webhook_id, counted.consecutive_failures, error)


def settle(delivery_id: int, **values: object) -> None:
    """Set a delivery's columns without recording an attempt (skipped, postponed)."""
    db.session.connection().execute(
        sa.update(_deliveries).where(_deliveries.c.id == delivery_id).values(**values)
    )
    db.session.commit()
    metrics.delivery_settled(str(values["status"]), postponed="rate_window" in values)
