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
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from app.domain import sender
from app.domain.catalog import TEST_EVENT, example_data
from app.domain.formats import render
from app.domain.payload import CONTENT_TYPE, envelope
from app.domain.retry import RetryPolicy, is_success, parse_retry_after
from app.domain.signing import signature_headers
from app.domain.urls import UrlRefused, check_target
from app.extensions import db
from app.models import (
    OPEN_STATUSES,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    Webhook,
    WebhookEvent,
    utcnow,
)
from app.services import notices, queue, ratelimit
from app.services.errors import ValidationError
from app.services.events import new_event_id
from app.services.webhooks import signing_secrets
from app.version import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"Signalpost-Webhooks/{__version__}"
# A message may arrive a little before its countdown ends when worker clocks differ.
EARLY_TOLERANCE = timedelta(seconds=2)
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


def build_request(webhook: Webhook, event: Event, sent_at: int) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt; the signatures cover these bytes."""
    document = envelope(event.id, event.event_type, event.created_at, event.data)
    body = render(webhook.format, document, webhook.url)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": event.event_type,
        **signature_headers(signing_secrets(webhook), event.id, sent_at, body),
    }
    return body, headers


@dataclass(frozen=True)
class Sent:
    """One attempt as made: what went out and what came back."""

    started_at: datetime
    body: bytes | None
    headers: dict[str, str] | None
    result: sender.AttemptResult


def _send(webhook: Webhook, event: Event) -> Sent:
    """Check the URL again (its name may resolve elsewhere now), then send to what was checked."""
    started_at = utcnow()
    config = current_app.config
    try:
        target = check_target(
            webhook.url,
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
    body, headers = build_request(webhook, event, int(time.time()))
    # Nothing of the session is held across the HTTP call: it may last WEBHOOK_TIMEOUT.
    db.session.commit()
    result = sender.post(target, body, headers, config["WEBHOOK_TIMEOUT"])
    return Sent(started_at, body, headers, result)


def _log_attempt(delivery: WebhookEvent, sent: Sent, status: str) -> None:
    result = sent.result
    delivery.attempts += 1
    delivery.attempt_log.append(
        DeliveryAttempt(
            number=delivery.attempts,
            started_at=sent.started_at,
            request_headers=sent.headers,
            status_code=result.status_code,
            response_body=result.response_body,
            duration_ms=result.duration_ms,
            error=result.error,
        )
    )
    if sent.body is not None:
        delivery.request_body = sent.body.decode("utf-8")
    delivery.status = status
    delivery.status_code = result.status_code
    delivery.response_body = result.response_body
    delivery.duration_ms = result.duration_ms
    delivery.error = result.error
    delivery.success = is_success(result.status_code)
    delivery.lease_until = None


def _claim(delivery_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        sa.update(WebhookEvent)
        .where(
            WebhookEvent.id == delivery_id,
            WebhookEvent.status.in_(OPEN_STATUSES),
            sa.or_(WebhookEvent.lease_until.is_(None), WebhookEvent.lease_until < now),
            sa.or_(
                WebhookEvent.next_attempt_at.is_(None),
                WebhookEvent.next_attempt_at <= now + EARLY_TOLERANCE,
            ),
        )
        .values(status=DeliveryStatus.SENDING, lease_until=now + _lease())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def attempt_delivery(delivery_id: int) -> Outcome:
    """Make the next attempt of a delivery, if it is due and nobody else holds it."""
    if not _claim(delivery_id):
        return Outcome(None)
    delivery = db.session.get(WebhookEvent, delivery_id)
    if delivery is None:  # its webhook was deleted between claim and load
        return Outcome(None)
    webhook, event = delivery.webhook, delivery.event
    if not webhook.is_active:
        delivery.status = DeliveryStatus.SKIPPED
        delivery.error = webhook.disabled_reason or "The webhook is disabled."
        delivery.lease_until = None
        db.session.commit()
        _report(delivery, DeliveryStatus.SKIPPED, reason="webhook disabled")
        return Outcome(DeliveryStatus.SKIPPED)
    wait = ratelimit.acquire(webhook.id)
    if wait is not None:
        return _postpone(delivery, wait)

    webhook_id = webhook.id
    sent = _send(webhook, event)
    try:
        status, delay = _record(delivery, webhook_id, sent)
    except (ObjectDeletedError, StaleDataError, sa.exc.IntegrityError):
        # The webhook, and with it this delivery, was deleted while the request was out.
        db.session.rollback()
        if db.session.get(WebhookEvent, delivery_id) is not None:
            raise
        log.info("delivery=%s webhook=%s was deleted while being sent", delivery_id, webhook_id)
        return Outcome(None)
    result = sent.result
    _report(
        delivery,
        status,
        code=result.status_code,
        ms=result.duration_ms,
        retry_in=delay,
        error=result.error,
    )
    return Outcome(status, delay)


def _record(delivery: WebhookEvent, webhook_id: int, sent: Sent) -> tuple[str, float | None]:
    """Log the attempt, decide what comes next, and update the counters; one commit."""
    result = sent.result
    delay = (
        None
        if result.refused
        else retry_policy().next_delay(
            delivery.attempts + 1,
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
        delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    _log_attempt(delivery, sent, status)
    _count(webhook_id, status, result.error)
    db.session.commit()
    return status, delay


def _postpone(delivery: WebhookEvent, wait: float) -> Outcome:
    """Over the endpoint's rate limit: try later. Not an attempt, so not a failure either."""
    status = DeliveryStatus.SCHEDULED if delivery.attempts else DeliveryStatus.PENDING
    delivery.status = status
    delivery.next_attempt_at = utcnow() + timedelta(seconds=wait)
    delivery.lease_until = None
    db.session.commit()
    _report(delivery, status, reason="rate limited", retry_in=round(wait, 1))
    return Outcome(status, wait)


def _report(delivery: WebhookEvent, status: str, **details: object) -> None:
    """One logfmt line per outcome, carrying the ids an operator searches by."""
    fields = {
        "delivery": delivery.id,
        "event": delivery.event_id,
        "webhook": delivery.webhook_id,
        "attempt": delivery.attempts,
        "status": str(status),
        **{name: value for name, value in details.items() if value is not None},
    }
    log.info(" ".join(f"{name}={_logfmt(value)}" for name, value in fields.items()))


def _logfmt(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=') else text


def _count(webhook_id: int, status: str, error: str | None) -> None:
    """Update the webhook's counters in SQL, so concurrent workers never lose an increment."""
    now = utcnow()
    table = Webhook.__table__
    where = table.c.id == webhook_id
    if status == DeliveryStatus.SCHEDULED:
        db.session.execute(sa.update(table).where(where).values(last_triggered=now))
    elif status == DeliveryStatus.SUCCEEDED:
        db.session.execute(
            sa.update(table)
            .where(where)
            .values(
                success_count=table.c.success_count + 1, consecutive_failures=0, last_triggered=now
            )
        )
    elif status == DeliveryStatus.FAILED:
        failures = db.session.execute(
            sa.update(table)
            .where(where)
            .values(
                failure_count=table.c.failure_count + 1,
                consecutive_failures=table.c.consecutive_failures + 1,
                last_triggered=now,
            )
            .returning(table.c.consecutive_failures)
        ).scalar_one()
        if failures >= current_app.config["WEBHOOK_FAILURE_THRESHOLD"]:
            _disable_for_failures(webhook_id, failures, error)
        else:
            notices.webhook_failing(webhook_id, failures, error)


def _disable_for_failures(webhook_id: int, failures: int, error: str | None) -> None:
    table = Webhook.__table__
    reason = f"Disabled after {failures} consecutive failed deliveries. Last error: {error}"
    disabled = db.session.execute(
        sa.update(table)
        .where(table.c.id == webhook_id, table.c.is_active.is_(True))
        .values(is_active=False, disabled_reason=reason, disabled_at=utcnow())
    ).rowcount
    db.session.commit()
    if disabled == 1:  # only the worker that flipped it tells the owner
        webhook = db.session.get(Webhook, webhook_id)
        if webhook is not None:
            db.session.refresh(webhook)
            notices.webhook_disabled(webhook, error)


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
    event = Event(
        id=new_event_id(),
        user_id=webhook.user_id,
        event_type=event_type,
        data=data,
        created_at=now,
    )
    delivery = WebhookEvent(
        webhook=webhook, event=event, status=DeliveryStatus.SENDING, next_attempt_at=now
    )
    db.session.add_all([event, delivery])
    db.session.flush()  # defaults applied, even when the URL is refused before any commit
    sent = _send(webhook, event)
    result = sent.result
    status = DeliveryStatus.SUCCEEDED if is_success(result.status_code) else DeliveryStatus.FAILED
    _log_attempt(delivery, sent, status)
    db.session.commit()
    return {
        "success": delivery.success,
        "status_code": result.status_code,
        "response_body": result.response_body,
        "duration_ms": result.duration_ms,
        "error": result.error,
    }


def due_deliveries(grace: timedelta) -> list[WebhookEvent]:
    """Deliveries due for longer than `grace` that are not being sent, or whose sender died."""
    now = utcnow()
    query = (
        sa.select(WebhookEvent)
        .where(
            sa.or_(
                sa.and_(
                    WebhookEvent.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED]),
                    WebhookEvent.next_attempt_at <= now - grace,
                ),
                sa.and_(
                    WebhookEvent.status == DeliveryStatus.SENDING,
                    WebhookEvent.lease_until < now,
                ),
            )
        )
        .order_by(WebhookEvent.next_attempt_at)
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
    query = sa.select(WebhookEvent.event_id).where(
        WebhookEvent.webhook_id == webhook.id,
        WebhookEvent.created_at >= since,
        WebhookEvent.status.not_in(OPEN_STATUSES),
    )
    if until is not None:
        query = query.where(WebhookEvent.created_at < until)
    if failed_only:
        query = query.where(WebhookEvent.status == DeliveryStatus.FAILED)
    event_ids = sorted(set(db.session.scalars(query)))
    now = utcnow()
    deliveries = [
        WebhookEvent(webhook_id=webhook.id, event_id=event_id, next_attempt_at=now)
        for event_id in event_ids
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    ids = [row.id for row in deliveries]
    db.session.commit()
    queue.enqueue_deliveries(ids)
    return len(ids)


def redeliver(original: WebhookEvent) -> WebhookEvent:
    """Deliver an event to the same webhook again, same event id, with a fresh retry schedule.

    The original log row stays as it was; the new attempt gets a row of its own.
    """
    now = utcnow()
    again = WebhookEvent(
        webhook_id=original.webhook_id, event_id=original.event_id, next_attempt_at=now
    )
    db.session.add(again)
    db.session.commit()
    queue.enqueue_deliveries([again.id])
    return again
