"""Why a delivery that has not finished is waiting, and until when, in the words the log shows:
"retry 2 of 3 at 10:31:05 UTC", "waiting for the rate limit until 10:31:00 UTC", "queued"."""

from __future__ import annotations

from datetime import datetime

from app.domain.status import DeliveryStatus


def waiting_note(
    status: str,
    attempts: int,
    next_attempt_at: datetime | None,
    rate_limited: bool,
    retries: int,
    now: datetime,
    behind: int | None = None,
) -> str | None:
    """None for a finished delivery. `attempts` made so far; `retries` the policy allows after
    the first attempt; `rate_limited` when the endpoint's delivery rate postponed it; `behind`
    the earlier delivery of an ordered webhook it waits for."""
    if status == DeliveryStatus.SENDING:
        return f"sending attempt {attempts + 1} now"
    if status not in (DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED):
        return None
    if behind is not None:
        return f"waiting behind delivery #{behind}"
    # Due already: it is in the queue, or about to be put back there by requeue_due.
    at = f"{next_attempt_at:%H:%M:%S} UTC" if next_attempt_at and next_attempt_at > now else None
    if rate_limited and at:
        return f"waiting for the rate limit until {at}"
    if status == DeliveryStatus.SCHEDULED and attempts:
        return f"retry {attempts} of {retries} " + (f"at {at}" if at else "now, queued")
    return f"queued for {at}" if at else "queued"
