"""The whole of one attempt, as the worker's task runs it: claim, limit, send, record, report."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app

from app import outbound
from app.domain.delivery_rate import Endpoint
from app.domain.retry import RetryPolicy, parse_retry_after, status_after
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import utcnow
from app.services import connections, delivery_rate
from app.services.delivery import digest, ordering, record
from app.services.delivery.claim import Claimed, claim
from app.services.delivery.record import settle
from app.services.delivery.send import Sent, internal_error, send

# The package's name, as before the package was split: log filters and searches use it.
log = logging.getLogger(__package__)


@dataclass(frozen=True)
class Outcome:
    """What became of one call to `attempt_delivery`."""

    status: str | None  # None when there was nothing to send (already done, or held elsewhere)
    retry_in: float | None = None  # seconds to the next attempt, when one is scheduled


def retry_policy() -> RetryPolicy:
    return RetryPolicy(current_app.config["WEBHOOK_RETRY_DELAYS"])


def attempt_delivery(delivery_id: int) -> Outcome:
    """Make the next attempt of a delivery, if it is due and nobody else holds it.

    An attempt that raises ends as a failed attempt with its error, counted and retried like
    any other failure, so a delivery never stays `sending` to be requeued and crash again for
    ever. Only the database being away propagates: the task retries it, and the lease holds.
    """
    try:
        return _attempt(delivery_id)
    except connections.DATABASE_AWAY:
        raise
    except Exception as exc:
        log.exception("delivery=%s: the attempt raised", delivery_id)
        db.session.rollback()
        return _end_as_failed(delivery_id, exc)


def _attempt(delivery_id: int) -> Outcome:
    claimed = claim(delivery_id)
    if claimed is None:
        return Outcome(None)
    if not claimed.webhook_active:
        reason = claimed.disabled_reason or "The webhook is disabled."
        settle(claimed.id, status=DeliveryStatus.SKIPPED, error=reason, lease_until=None)
        _report(claimed, DeliveryStatus.SKIPPED, claimed.attempts, reason="webhook disabled")
        return _ended(claimed, Outcome(DeliveryStatus.SKIPPED))
    if _expired(claimed, utcnow()):
        return _ended(claimed, _expire(claimed))
    if claimed.ordered:
        ahead = ordering.ahead_of(claimed.id, claimed.webhook_id, utcnow())
        if ahead is not None:
            return _wait_behind(claimed, ahead)
    if claimed.paused_until is not None and claimed.paused_until > utcnow():
        return _ended(claimed, _hold_for_pause(claimed, claimed.paused_until))
    endpoint = Endpoint(claimed.owner_id, claimed.outgoing.url)
    # What waits for a digest's webhook rides in its next message: it keeps no place.
    digesting = digest.applies(claimed)
    postponed = delivery_rate.acquire(
        endpoint,
        claimed.rate_limit,
        None if digesting else claimed.rate_window,
        reserve=not digesting,
    )
    if postponed is not None:
        if _expired(claimed, utcnow() + timedelta(seconds=postponed.wait)):
            return _ended(claimed, _expire(claimed))
        return _postpone(claimed, postponed)
    riders = digest.gather(claimed)
    try:
        return _send_and_record(claimed, riders)
    except BaseException:
        digest.release(riders)
        raise


def _send_and_record(claimed: Claimed, riders: tuple[digest.Rider, ...]) -> Outcome:
    """Send, with the waiting deliveries that ride in a digest, and record what came back."""
    outgoing = claimed.outgoing
    if riders:
        outgoing = replace(outgoing, carried=tuple(rider.event for rider in riders))
    sent = send(outgoing)
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
    status = status_after(result.status_code, delay)
    if delay is not None and _expired(claimed, utcnow() + timedelta(seconds=delay)):
        status, delay = DeliveryStatus.EXPIRED, None  # the retry would come too late
    if not record.record(claimed, sent, status, delay, counted=True):
        log.info(
            "delivery=%s webhook=%s was deleted while being sent", claimed.id, claimed.webhook_id
        )
        return Outcome(None)
    next_at = None if delay is None else utcnow() + timedelta(seconds=delay)
    digest.finish(claimed.id, riders, status, result.status_code, next_at)
    _report(
        claimed,
        status,
        claimed.attempts + 1,
        code=result.status_code,
        ms=result.duration_ms,
        retry_in=delay,
        error=result.error,
        carried=len(riders) or None,
    )
    return _ended(claimed, Outcome(status, delay))


def _ended(claimed: Claimed, outcome: Outcome) -> Outcome:
    """An ordered webhook's next delivery in line goes as soon as this one is done."""
    if claimed.ordered and outcome.status not in OPEN_STATUSES:
        ordering.queue_next(claimed.webhook_id, claimed.id)
    return outcome


def _wait_behind(claimed: Claimed, ahead: ordering.Ahead) -> Outcome:
    """An ordered webhook's earlier delivery is still open: this one waits its turn."""
    return _put_back(claimed, ahead.wait, f"waiting behind {ahead.id}", waiting_behind=ahead.id)


def _expired(claimed: Claimed, moment: datetime) -> bool:
    return claimed.expires_at is not None and moment >= claimed.expires_at


def _expire(claimed: Claimed) -> Outcome:
    """Past its time to live before it could be sent: it ends unsent, and is no failure."""
    error = f"Expired at {claimed.expires_at:%Y-%m-%d %H:%M:%S} UTC before it could be sent."
    settle(claimed.id, status=DeliveryStatus.EXPIRED, error=error, lease_until=None)
    _report(claimed, DeliveryStatus.EXPIRED, claimed.attempts, reason="expired")
    return Outcome(DeliveryStatus.EXPIRED)


def _end_as_failed(delivery_id: int, exc: Exception) -> Outcome:
    """Record the attempt that raised as failed, if it got as far as holding the delivery."""
    held = record.held(delivery_id)
    if held is None:
        return Outcome(None)
    error = internal_error(exc)
    delay = retry_policy().next_delay(held.attempts + 1, None, None)
    status = status_after(None, delay)
    failed = Sent(utcnow(), None, None, outbound.AttemptResult(None, None, 0, error))
    if not record.record(held, failed, status, delay, counted=True):
        return Outcome(None)
    if held.ordered and status not in OPEN_STATUSES:
        ordering.queue_next(held.webhook_id, held.id)
    _log_line(
        delivery=delivery_id,
        webhook=held.webhook_id,
        attempt=held.attempts + 1,
        status=str(status),
        retry_in=delay,
        error=error,
    )
    return Outcome(status, delay)


def _postpone(claimed: Claimed, postponed: delivery_rate.Postponed) -> Outcome:
    """Over the endpoint's rate limit: go when the window the limiter gave it a place in opens."""
    return _put_back(claimed, postponed.wait, "rate limited", rate_window=postponed.window)


def _hold_for_pause(claimed: Claimed, until: datetime) -> Outcome:
    """The endpoint answered 429 to an earlier delivery: this one waits out its Retry-After.

    Its place in the rate limit, if it had one, is kept (not counted again)."""
    if _expired(claimed, until):
        return _expire(claimed)
    wait = (until - utcnow()).total_seconds()
    return _put_back(claimed, wait, "paused by a 429", rate_window=claimed.rate_window)


def _put_back(claimed: Claimed, wait: float, reason: str, **columns: object) -> Outcome:
    """Not sent now, and not an attempt, so not a failure either: due again in `wait` s."""
    status = DeliveryStatus.SCHEDULED if claimed.attempts else DeliveryStatus.PENDING
    settle(
        claimed.id,
        status=status,
        next_attempt_at=utcnow() + timedelta(seconds=wait),
        lease_until=None,
        **columns,
    )
    _report(claimed, status, claimed.attempts, reason=reason, retry_in=round(wait, 1))
    return Outcome(status, wait)


def _report(claimed: Claimed, status: str, attempt: int, **details: object) -> None:
    """One logfmt line per outcome, carrying the ids an operator searches by."""
    _log_line(
        delivery=claimed.id,
        event=claimed.outgoing.event_id,
        webhook=claimed.webhook_id,
        attempt=attempt,
        status=str(status),
        **details,
    )


def _log_line(**fields: object) -> None:
    log.info(
        " ".join(f"{name}={_logfmt(value)}" for name, value in fields.items() if value is not None)
    )


def _logfmt(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=') else text
