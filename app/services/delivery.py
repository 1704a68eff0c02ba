"""Delivering one event to one webhook: claim, sign, send, log, schedule the next attempt.

The database is the source of truth. A delivery is claimed with a conditional UPDATE (a lease)
before it is sent, so a duplicate queue message, a requeue or a second worker finds nothing to
do while another holds it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.domain.catalog import TEST_EVENT, example_data
from app.domain.formats import render
from app.domain.payload import CONTENT_TYPE, envelope
from app.domain.retry import EARLY_TOLERANCE, RetryPolicy, is_success, parse_retry_after
from app.domain.signing import signature_headers
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.domain.urls import UrlRefused, check_target
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Event, UTCDateTime, Webhook, utcnow
from app.outbound import client as sender
from app.services import connections, delivery_rate, notices, queue
from app.services.errors import NotFound, ValidationError
from app.services.events import new_event_id
from app.services.webhooks import signing_secrets
from app.version import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"Signalpost-Webhooks/{__version__}"
# A delivery left `sending` by a dead worker is picked up again after its lease; a missed
# queue message (broker outage, lost Redis data) once it has been due this long.
REQUEUE_GRACE = timedelta(seconds=60)
REQUEUE_BATCH = 1000


@dataclass(frozen=True)
class Outcome:
    """What became of one call to `attempt_delivery`."""

    status: str | None  # None when there was nothing to send (already done, or held elsewhere)
    retry_in: float | None = None  # seconds to the next attempt, when one is scheduled


def retry_policy() -> RetryPolicy:
    return RetryPolicy(current_app.config["WEBHOOK_RETRY_DELAYS"])


def _lease() -> timedelta:
    # Longer than one attempt can take (connect + read, each up to WEBHOOK_TIMEOUT) plus the
    # database work around it, so a live worker never loses its lease mid-send; short enough
    # that a dead worker's delivery is taken up again within seconds.
    return timedelta(seconds=2 * current_app.config["WEBHOOK_TIMEOUT"] + 5)


@dataclass(frozen=True)
class Outgoing:
    """What one request is made of, apart from the moment it is sent."""

    url: str
    format: str
    secrets: list[str]
    event_id: str
    event_type: str
    event_created_at: datetime
    event_data: dict[str, Any]


def build_request(outgoing: Outgoing, sent_at: int) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt; the signatures cover these bytes."""
    document = envelope(
        outgoing.event_id, outgoing.event_type, outgoing.event_created_at, outgoing.event_data
    )
    body = render(outgoing.format, document, outgoing.url)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": outgoing.event_type,
        **signature_headers(outgoing.secrets, outgoing.event_id, sent_at, body),
    }
    return body, headers


@dataclass(frozen=True)
class Claimed:
    """A delivery held under its lease, with everything its attempt needs.

    It is read in the claim itself: no ORM object is loaded, kept or reloaded across the HTTP
    call, which is what a delivery used to spend most of its CPU on (docs/performance.md).
    """

    id: int
    attempts: int  # made before this one
    rate_window: int | None  # where the endpoint's rate limit already gave it a place
    webhook_id: int
    webhook_active: bool
    disabled_reason: str | None
    outgoing: Outgoing


_deliveries = Delivery.__table__
_webhooks = Webhook.__table__
_events = Event.__table__
_CLAIMED_COLUMNS = (
    _deliveries.c.id,
    _deliveries.c.attempts,
    _deliveries.c.rate_window,
    _deliveries.c.webhook_id,
    _deliveries.c.event_id,
    _webhooks.c.is_active,
    _webhooks.c.disabled_reason,
    _webhooks.c.url,
    _webhooks.c.format,
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


def _claim(delivery_id: int) -> Claimed | None:
    """Take the lease on a delivery that is due and free; None when there is none to take."""
    now = utcnow()
    parameters = {
        "delivery_id": delivery_id,
        "now": now,
        "due_by": now + EARLY_TOLERANCE,
        "lease": now + _lease(),
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
        webhook_id=row.webhook_id,
        webhook_active=row.is_active,
        disabled_reason=row.disabled_reason,
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


@dataclass(frozen=True)
class Sent:
    """One attempt as made: what went out and what came back."""

    started_at: datetime
    body: bytes | None
    headers: dict[str, str] | None
    result: sender.AttemptResult


def _send(outgoing: Outgoing) -> Sent:
    """Check the URL again (its name may resolve elsewhere now), then send to what was checked.

    No database transaction is open meanwhile: the request may last WEBHOOK_TIMEOUT.
    """
    started_at = utcnow()
    config = current_app.config
    try:
        target = check_target(
            outgoing.url,
            require_https=config["WEBHOOK_REQUIRE_HTTPS"],
            allow_private=config["WEBHOOK_ALLOW_PRIVATE_TARGETS"],
        )
    except UrlRefused as refused:
        # A name that does not resolve may be a passing DNS fault: that is retried.
        refusal = (
            sender.AttemptResult(None, None, 0, refused.reason)
            if refused.temporary
            else sender.AttemptResult(None, None, 0, f"URL refused: {refused.reason}", refused=True)
        )
        return Sent(started_at, None, None, refusal)
    body, headers = build_request(outgoing, int(time.time()))
    result = sender.post(target, body, headers, config["WEBHOOK_TIMEOUT"])
    return Sent(started_at, body, headers, result)


def attempt_delivery(delivery_id: int) -> Outcome:
    """Make the next attempt of a delivery, if it is due and nobody else holds it."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return Outcome(None)
    if not claimed.webhook_active:
        reason = claimed.disabled_reason or "The webhook is disabled."
        _settle(claimed.id, status=DeliveryStatus.SKIPPED, error=reason, lease_until=None)
        _report(claimed, DeliveryStatus.SKIPPED, claimed.attempts, reason="webhook disabled")
        return Outcome(DeliveryStatus.SKIPPED)
    postponed = delivery_rate.acquire(claimed.webhook_id, claimed.rate_window)
    if postponed is not None:
        return _postpone(claimed, postponed)
    sent = _send(claimed.outgoing)
    result = sent.result
    delay = (
        None
        if result.refused
        else retry_policy().next_delay(
            claimed.attempts + 1,
            result.status_code,
            parse_retry_after(result.retry_after, utcnow()),
        )
    )
    if is_success(result.status_code):
        status = DeliveryStatus.SUCCEEDED
    elif delay is None:
        status = DeliveryStatus.FAILED
    else:
        status = DeliveryStatus.SCHEDULED
    if not _record(claimed, sent, status, delay, counted=True):
        log.info(
            "delivery=%s webhook=%s was deleted while being sent", claimed.id, claimed.webhook_id
        )
        return Outcome(None)
    _report(
        claimed,
        status,
        claimed.attempts + 1,
        code=result.status_code,
        ms=result.duration_ms,
        retry_in=delay,
        error=result.error,
    )
    return Outcome(status, delay)


_now = sa.bindparam("now", type_=UTCDateTime)
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
        next_attempt_at=sa.func.coalesce(
            sa.bindparam("next_at", type_=UTCDateTime), _deliveries.c.next_attempt_at
        ),
        lease_until=None,
        rate_window=None,  # its place, if it had one, is used
        updated_at=_now,
    )
)
_attempts = DeliveryAttempt.__table__
_ATTEMPT_VALUES = {
    "number": sa.bindparam("number", type_=sa.Integer),
    "started_at": sa.bindparam("started_at", type_=UTCDateTime),
    "request_headers": sa.bindparam("request_headers", type_=sa.JSON),
    "status_code": sa.bindparam("status_code", type_=sa.Integer),
    "response_body": sa.bindparam("response_body", type_=sa.Text),
    "duration_ms": sa.bindparam("duration_ms", type_=sa.Integer),
    "error": sa.bindparam("error", type_=sa.Text),
}

# The webhook's counters, updated in SQL so concurrent workers never lose an increment. The
# failure that reaches WEBHOOK_FAILURE_THRESHOLD disables the webhook in the same statement:
# the row lock makes it exactly one worker, at exactly the threshold.
_succeeded = sa.bindparam("succeeded", type_=sa.Integer)  # 1 or 0
_failed = sa.bindparam("failed", type_=sa.Integer)  # 1 when the delivery failed for good
_reaches_threshold = sa.and_(
    _webhooks.c.is_active.is_(True),
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


@dataclass(frozen=True)
class Counted:
    consecutive_failures: int | None = None
    is_active: bool | None = None
    disabled_at: datetime | None = None


def _record(
    claimed: Claimed, sent: Sent, status: str, delay: float | None, *, counted: bool
) -> bool:
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
        "duration_ms": result.duration_ms,
        "error": result.error,
        "ok": is_success(result.status_code),
        "sent_body": None if sent.body is None else sent.body.decode("utf-8"),
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
    if webhook.is_active is False and webhook.disabled_at == now:  # this failure disabled it
        disabled = db.session.get(Webhook, claimed.webhook_id)
        if disabled is not None:
            notices.webhook_disabled(disabled, result.error)
    elif status == DeliveryStatus.FAILED and webhook.is_active:
        notices.webhook_failing(claimed.webhook_id, webhook.consecutive_failures, result.error)
    return True


def _settle(delivery_id: int, **values: object) -> None:
    db.session.connection().execute(
        sa.update(_deliveries).where(_deliveries.c.id == delivery_id).values(**values)
    )
    db.session.commit()


def _postpone(claimed: Claimed, postponed: delivery_rate.Postponed) -> Outcome:
    """Over the endpoint's rate limit: go when the window the limiter gave it a place in opens.

    Not an attempt, so not a failure either.
    """
    status = DeliveryStatus.SCHEDULED if claimed.attempts else DeliveryStatus.PENDING
    _settle(
        claimed.id,
        status=status,
        next_attempt_at=utcnow() + timedelta(seconds=postponed.wait),
        rate_window=postponed.window,
        lease_until=None,
    )
    wait = round(postponed.wait, 1)
    _report(claimed, status, claimed.attempts, reason="rate limited", retry_in=wait)
    return Outcome(status, postponed.wait)


def _report(claimed: Claimed, status: str, attempt: int, **details: object) -> None:
    """One logfmt line per outcome, carrying the ids an operator searches by."""
    fields = {
        "delivery": claimed.id,
        "event": claimed.outgoing.event_id,
        "webhook": claimed.webhook_id,
        "attempt": attempt,
        "status": str(status),
        **{name: value for name, value in details.items() if value is not None},
    }
    log.info(" ".join(f"{name}={_logfmt(value)}" for name, value in fields.items()))


def _logfmt(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=') else text


def _test_data(webhook: Webhook, event_type: str) -> dict[str, Any]:
    if event_type == TEST_EVENT:
        return {"test": True, "message": "Webhook configuration verified", "webhook": webhook.name}
    if event_type not in webhook.events:
        choices = ", ".join([TEST_EVENT, *webhook.events])
        raise ValidationError.from_fields(
            {"event": [f"This webhook does not receive {event_type!r}; send one of: {choices}."]}
        )
    return example_data(event_type)


def test_webhook(webhook: Webhook, event_type: str | None = None) -> dict[str, Any]:
    """Send the `test` event, or the catalog example of a subscribed type, once, now, and
    report what the endpoint answered.

    It is logged like any delivery but is not retried and does not move the counters.
    """
    event_type = event_type or TEST_EVENT
    data = _test_data(webhook, event_type)
    now = utcnow()
    event_id = new_event_id()
    event = Event(id=event_id, user_id=webhook.user_id, event_type=event_type, data=data)
    delivery = Delivery(webhook=webhook, event=event, next_attempt_at=now)
    db.session.add_all([event, delivery])
    db.session.flush()
    delivery_id = delivery.id
    db.session.commit()
    # Never queued, so nothing else takes it; claimed all the same, to be sent like any other.
    claimed = _claim(delivery_id)
    if claimed is None:  # the webhook was deleted meanwhile
        raise NotFound(f"No webhook with id {webhook.id}.")
    sent = _send(claimed.outgoing)
    result = sent.result
    success = is_success(result.status_code)
    status = DeliveryStatus.SUCCEEDED if success else DeliveryStatus.FAILED
    _record(claimed, sent, status, None, counted=False)
    return {
        "success": success,
        "status_code": result.status_code,
        "response_body": result.response_body,
        "duration_ms": result.duration_ms,
        "error": result.error,
    }


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
    return queue.enqueue_deliveries(ids, queue.RETRIES_QUEUE)


def replay(
    webhook: Webhook, since: datetime, until: datetime | None = None, *, failed_only: bool = False
) -> int:
    """Deliver again every event this webhook was sent between `since` and `until`.

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
    event_ids = sorted(set(db.session.scalars(query)))
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
