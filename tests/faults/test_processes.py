"""Real worker processes, killed and cut off from their broker in the middle of a stream."""

from __future__ import annotations

import threading
import time

import redis
import sqlalchemy as sa
from flask import Flask

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, User
from app.services import events, users, webhooks
from tests.faults.checks import assert_consistent, received_ids, settle
from tests.support.processes import PrivateRedis
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for


def _owner_and_webhook(receiver: Receiver) -> tuple[User, int]:
    owner = users.create_user(f"faults-{time.monotonic_ns()}@example.com", "a long password")
    webhook, _ = webhooks.register_webhook(
        owner, webhooks.WebhookInput(name="Fault", url=receiver.url, events=["trade_executed"])
    )
    return owner, webhook.id


def _fire(owner: User, count: int, start: int = 0) -> list[str]:
    return [
        events.trigger_event(owner, "trade_executed", {"n": number}).event_id
        for number in range(start, start + count)
    ]


def _still_delivers(owner: User, receiver: Receiver) -> None:
    """No worker is wedged: a fresh event goes through at once."""
    (event_id,) = _fire(owner, 1, start=10_000)
    wait_for(lambda: any(r.headers["X-Webhook-Id"] == event_id for r in receiver.requests))


def test_a_worker_killed_mid_stream_loses_nothing(fault_app: Flask, start_worker, receiver):
    receiver.default = Reply(200, delay=0.2)  # keep several deliveries in flight
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        first = start_worker()
        event_ids = _fire(owner, 40)
        wait_for(lambda: len(receiver.requests) >= 8, timeout=60)

        first.kill()
        unfinished = [
            e for e in event_ids if e not in {r.headers["X-Webhook-Id"] for r in receiver.requests}
        ]
        assert unfinished, "the kill must land mid-stream for this test to mean anything"
        start_worker()
        settle(receiver, event_ids)

        assert_consistent(webhook_id, receiver, event_ids)
        _still_delivers(owner, receiver)
        db.session.remove()


def test_a_redis_restart_that_keeps_nothing_loses_nothing(
    fault_app: Flask, start_worker, receiver, private_redis: PrivateRedis
):
    receiver.default = Reply(200, delay=0.1)
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        worker = start_worker()
        before = _fire(owner, 20)
        wait_for(lambda: len(receiver.requests) >= 5, timeout=60)

        private_redis.stop()
        during = _fire(owner, 3, start=100)  # stored, not queued: the broker is down
        private_redis.start()
        after = _fire(owner, 10, start=200)

        event_ids = before + during + after
        settle(receiver, event_ids)
        assert worker.alive
        assert_consistent(webhook_id, receiver, event_ids)
        _still_delivers(owner, receiver)
        db.session.remove()


def test_two_worker_processes_share_a_stream_without_sending_twice(
    fault_app: Flask, start_worker, receiver
):
    receiver.default = Reply(200, delay=0.02)
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        start_worker(), start_worker()
        event_ids = _fire(owner, 60)
        settle(receiver, event_ids)

        assert sorted(r.headers["X-Webhook-Id"] for r in receiver.requests) == sorted(event_ids)
        assert_consistent(webhook_id, receiver, event_ids)
        db.session.remove()


def test_a_worker_takes_no_more_first_attempts_than_it_has_threads(
    fault_app: Flask, start_worker, receiver, private_redis: PrivateRedis
):
    """First attempts are consumed without acknowledgements, so there is no prefetch count:
    worker_disable_prefetch is what leaves the rest queued for other workers."""
    receiver.default = Reply(200, delay=1.5)
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        worker = start_worker()
        event_ids = _fire(owner, 3 * worker.concurrency)

        def sending() -> int:
            db.session.rollback()
            return db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.SENDING)
            )

        wait_for(lambda: sending() == worker.concurrency, timeout=60)
        queued = redis.Redis.from_url(private_redis.url).llen("deliveries")
        # One more may be on its way from Redis as the last thread took its task.
        assert queued >= len(event_ids) - worker.concurrency - 1
        settle(receiver, event_ids)
        assert_consistent(webhook_id, receiver, event_ids)
        db.session.remove()


def test_a_worker_killed_during_a_burst_of_retries_loses_nothing(fault_app: Flask, start_worker):
    """Every event's first attempt fails; the worker is killed while their retries are pending
    (held as countdown messages, or due in the database). A new worker sends them all."""
    tried: set[str] = set()
    lock = threading.Lock()

    def answer(request) -> Reply:
        with lock:
            first = request.headers["X-Webhook-Id"] not in tried
            tried.add(request.headers["X-Webhook-Id"])
        return Reply(503, "busy") if first else Reply(200, delay=0.2)

    receiver = Receiver(answer=answer).start()
    try:
        with fault_app.app_context():
            owner, webhook_id = _owner_and_webhook(receiver)
            first = start_worker()
            event_ids = _fire(owner, 30)
            wait_for(lambda: len(receiver.requests) >= len(event_ids) + 3, timeout=60)

            first.kill()
            tries = received_ids(receiver)
            waiting = [e for e in event_ids if tries[e] < 2]
            assert waiting, "the kill must land while retries are pending to mean anything"
            start_worker()
            settle(receiver, event_ids)

            assert_consistent(webhook_id, receiver, event_ids)
            statuses = db.session.scalars(
                sa.select(Delivery.status).where(Delivery.webhook_id == webhook_id)
            ).all()
            assert set(statuses) == {DeliveryStatus.SUCCEEDED}
            db.session.remove()
    finally:
        receiver.stop()
