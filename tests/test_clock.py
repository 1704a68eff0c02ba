"""A process whose clock is wrong goes by the broker's (app/clock.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from app import clock


@pytest.fixture
def corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_offset", timedelta(0))  # put back as it was afterwards


def test_a_clock_minutes_ahead_goes_by_the_brokers(corrected, broker_url: str, caplog):
    right = datetime.now(UTC)
    with freeze_time(right + timedelta(minutes=5), tick=True):
        clock.follow_broker(broker_url)
        assert abs(clock.utcnow() - datetime.now(UTC) + timedelta(minutes=5)) < timedelta(seconds=1)
        assert abs(clock.utcnow() - right) < timedelta(seconds=2)
    assert "clock is 300.0 s ahead of the broker's: going by the broker's" in caplog.text


def test_a_clock_nearly_right_is_left_alone(corrected, broker_url: str):
    with freeze_time(datetime.now(UTC) - timedelta(milliseconds=300), tick=True):
        clock.follow_broker(broker_url)
    assert clock.offset() == timedelta(0)


def test_a_broker_that_does_not_answer_leaves_the_clock_as_it_was(corrected, caplog):
    clock.follow_broker("redis://127.0.0.1:1/0")
    assert clock.offset() == timedelta(0)
    assert "could not read the broker's clock" in caplog.text
