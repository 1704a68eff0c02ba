"""Receivers that misbehave get a logged, retried, finally failed delivery and no stuck worker."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery
from app.services import events
from tests.support import rawserver
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        (rawserver.reset, "connection"),
        (rawserver.garbage, "invalid HTTP response"),
        (rawserver.silent(hold=4), "timed out"),
    ],
    ids=["reset", "garbage", "never-answers"],
)
def test_a_broken_endpoint_is_retried_then_fails_with_a_clear_error(
    make_webhook, receiver, behaviour, error
):
    server = rawserver.RawServer(behaviour).start()
    try:
        broken, _ = make_webhook(server.url)
        triggered = events.trigger_event(broken.user, "price_above", {"n": 1})

        row = wait_for(lambda: _final(triggered.event_id), timeout=40)

        assert row.status == DeliveryStatus.FAILED and row.attempts == 4
        assert server.connections == 4
        assert all(error in attempt.error for attempt in row.attempt_log), [
            a.error for a in row.attempt_log
        ]
        db.session.refresh(broken)
        assert broken.failure_count == 1
    finally:
        server.stop()
    _workers_still_deliver(make_webhook, receiver)


def test_a_body_that_is_not_utf8_or_holds_nul_is_logged_readably(make_webhook):
    server = rawserver.RawServer(rawserver.not_utf8).start()
    try:
        webhook, _ = make_webhook(server.url)
        triggered = events.trigger_event(webhook.user, "price_above", {})
        row = wait_for(lambda: _final(triggered.event_id))
        assert row.status == DeliveryStatus.SUCCEEDED
        assert "caf\ufffd" in row.response_body
    finally:
        server.stop()


def _final(event_id: str) -> Delivery | None:
    row = db.session.scalar(sa.select(Delivery).where(Delivery.event_id == event_id))
    return row if row and row.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED) else None


def _workers_still_deliver(make_webhook, receiver) -> None:
    healthy, _ = make_webhook(receiver.url)
    triggered = events.trigger_event(healthy.user, "price_above", {})
    assert wait_for(lambda: _final(triggered.event_id)).status == DeliveryStatus.SUCCEEDED
