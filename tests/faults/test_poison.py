"""A poison delivery in a real worker process: it ends failed, the others arrive."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Webhook
from app.services import events
from tests.faults.checks import received_ids
from tests.faults.test_processes import _owner_and_webhook
from tests.support.waiting import wait_for

ERROR = "Internal error: RuntimeError: the format broke on this event"


def test_a_delivery_whose_attempts_raise_ends_failed_and_the_rest_arrive(
    fault_app: Flask, start_worker, receiver
):
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        worker = start_worker(app_module="tests.faults.poisoned")
        fired = [
            events.trigger_event(owner, "trade_executed", {"n": n, "poison": n % 5 == 0})
            for n in range(10)
        ]
        poisoned = {one.event_id for one in fired[::5]}
        healthy = {one.event_id for one in fired} - poisoned

        def all_final() -> list[Delivery] | None:
            db.session.rollback()
            rows = db.session.scalars(
                sa.select(Delivery).where(Delivery.webhook_id == webhook_id)
            ).all()
            finished = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)
            return rows if all(row.status in finished for row in rows) else None

        rows = wait_for(all_final, timeout=40)

        assert set(received_ids(receiver)) == healthy
        for row in rows:
            if row.event_id in poisoned:
                assert (row.status, row.attempts, row.error) == (DeliveryStatus.FAILED, 4, ERROR)
                assert [attempt.error for attempt in row.attempt_log] == [ERROR] * 4
            else:
                assert (row.status, row.attempts) == (DeliveryStatus.SUCCEEDED, 1)
        webhook = db.session.get(Webhook, webhook_id)
        assert (webhook.success_count, webhook.failure_count) == (8, 2)
        assert worker.alive
        # The worker's log is written as it goes, and may be read a line behind the rows.
        wait_for(lambda: worker.log.read_text().count(ERROR) >= 2 * 4, timeout=10)
        db.session.remove()
