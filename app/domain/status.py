"""The states of a delivery, from its first attempt to its last."""

from __future__ import annotations

import enum


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first attempt
    SENDING = "sending"  # a worker holds the lease and is sending it now
    SCHEDULED = "scheduled"  # an attempt failed; the next one is due at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the last attempt failed; no more are made
    SKIPPED = "skipped"  # the webhook was disabled before the delivery was sent
    EXPIRED = "expired"  # not sent within its event's time to live; never sent late


# A delivery in one of these states still has an attempt to come.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED, DeliveryStatus.SENDING)
