"""Polling helpers: tests wait for real processes to do real work, up to a bound."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from app.extensions import db

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
