"""Whether an attempt succeeded, when a failed one is tried again, and after how long
(README.md, "Retries")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from app.domain.status import DeliveryStatus

# Receivers asking for a longer pause than this via Retry-After get this; the broker's
# visibility timeout (celeryconfig.py) is set well above it.
MAX_RETRY_AFTER_SECONDS = 3600
# A scheduled attempt may be taken up this much before it is due: worker clocks differ a
# little, and a queued message may arrive a little before its countdown ends.
EARLY_TOLERANCE = timedelta(seconds=2)


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def status_after(status_code: int | None, next_delay: float | None) -> DeliveryStatus:
    """Where an attempt leaves its delivery: done, failed for good, or waiting for the next."""
    if is_success(status_code):
        return DeliveryStatus.SUCCEEDED
    return DeliveryStatus.FAILED if next_delay is None else DeliveryStatus.SCHEDULED


def is_retryable(status_code: int | None) -> bool:
    """Connection errors and timeouts (no status), 408, 429 and 5xx are worth another try."""
    return status_code is None or status_code in (408, 429) or status_code >= 500


def parse_retry_after(value: str | None, now: datetime) -> int | None:
    """Seconds asked for by a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - now).total_seconds()))


@dataclass(frozen=True)
class RetryPolicy:
    delays: tuple[int, ...]

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.delays)

    def next_delay(
        self, attempt_number: int, status_code: int | None, retry_after: int | None = None
    ) -> int | None:
        """Seconds to wait before the next attempt, or None when this failure is final.

        `attempt_number` counts from 1. A 429's Retry-After lengthens the wait, never shortens it.
        """
        if is_success(status_code) or not is_retryable(status_code):
            return None
        if attempt_number >= self.max_attempts:
            return None
        delay = self.delays[attempt_number - 1]
        if status_code == 429 and retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return delay
