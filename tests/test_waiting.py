"""Why a delivery waits, as the log says it (app/domain/waiting.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.waiting import waiting_note

NOW = datetime(2026, 2, 1, 10, 30, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=65)


@pytest.mark.parametrize(
    ("status", "attempts", "due", "limited", "note"),
    [
        ("scheduled", 2, LATER, False, "retry 2 of 3 at 10:31:05 UTC"),
        ("scheduled", 1, NOW - timedelta(seconds=1), False, "retry 1 of 3 now, queued"),
        ("pending", 0, LATER, True, "waiting for the rate limit until 10:31:05 UTC"),
        ("scheduled", 1, LATER, True, "waiting for the rate limit until 10:31:05 UTC"),
        ("pending", 0, NOW, True, "queued"),
        ("pending", 0, NOW, False, "queued"),
        ("pending", 0, None, False, "queued"),
        ("pending", 0, LATER, False, "queued for 10:31:05 UTC"),
        ("sending", 1, None, False, "sending attempt 2 now"),
        ("succeeded", 1, None, False, None),
        ("failed", 4, None, False, None),
        ("skipped", 0, None, False, None),
    ],
)
def test_waiting_note(status, attempts, due, limited, note):
    assert waiting_note(status, attempts, due, limited, 3, NOW) == note


def test_an_ordered_delivery_says_which_it_waits_behind():
    note = waiting_note("pending", 0, LATER, False, 3, NOW, behind=41)
    assert note == "waiting behind delivery #41"
    assert waiting_note("failed", 1, None, False, 3, NOW, behind=41) is None
