"""Polling helpers: tests wait for real processes to do real work, up to a bound."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from app.domain.status import OPEN_STATUSES
from app.extensions import db
from app.models import Delivery

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.05) -> T:
    """Call `check` until it returns something truthy; fail the test after `timeout` seconds.

    The session is rolled back before each call so that rows other processes committed are seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {check}")
        time.sleep(interval)


def all_ended(webhook_id: int, count: int) -> list[Delivery] | None:
    """The webhook's deliveries, oldest first, once there are `count` and none is still open
    (a check for `wait_for`); None before."""
    db.session.expire_all()
    rows = list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
        )
    )
    ended = len(rows) == count and all(row.status not in OPEN_STATUSES for row in rows)
    return rows if ended else None
