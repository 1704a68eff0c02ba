"""Fast recovery: after the broker comes back, every delivery that was due arrives within 15 s,
with no requeue run by hand and no beat: the worker notices on its own."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask import Flask

from app import queues
from app.extensions import db
from app.models import Delivery, utcnow
from app.services.delivery import redelivery
from tests.faults.checks import all_finished, assert_consistent, received_ids
from tests.faults.test_processes import _fire, _owner_and_webhook, _still_delivers
from tests.support.processes import PrivateRedis
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for

RECOVERY_SECONDS = 15


def all_arrived(receiver: Receiver, event_ids: list[str]) -> bool:
    return set(received_ids(receiver)) >= set(event_ids) and all_finished(event_ids)


def test_a_redis_restart_that_keeps_nothing_recovers_within_15_seconds(
    fault_app: Flask, start_worker, receiver, private_redis: PrivateRedis
):
    receiver.default = Reply(200, delay=1.0)  # 8 threads: about 8 deliveries a second
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        worker = start_worker()
        before = _fire(owner, 24)
        wait_for(lambda: len(receiver.requests) >= 4, timeout=60)

        private_redis.stop()  # every queued message is gone with it
        unsent = set(before) - set(received_ids(receiver))
        assert len(unsent) >= 10, "the restart must land mid-stream for this test to mean anything"
        during = _fire(owner, 3, start=100)  # stored, not queued: the broker is down
        time.sleep(3)
        private_redis.start()
        back = time.monotonic()
        after = _fire(owner, 3, start=200)
        event_ids = before + during + after

        wait_for(lambda: all_arrived(receiver, event_ids), timeout=RECOVERY_SECONDS + 30)
        last = max(r.at for r in receiver.requests if r.headers["X-Webhook-Id"] in event_ids)
        recovered_in = last - (time.time() - (time.monotonic() - back))
        print(
            f"\nredis restarted, data lost: all {len(event_ids)} arrived {recovered_in:.1f} s after"
        )
        assert recovered_in <= RECOVERY_SECONDS, f"the last arrived {recovered_in:.1f} s after"
        assert worker.alive
        assert_consistent(webhook_id, receiver, event_ids)
        assert "recovery after a broker reconnection: requeued=" in worker.log.read_text()
        _still_delivers(owner, receiver)
        db.session.remove()


def queued_retries(private_redis: PrivateRedis) -> list[int]:
    """The delivery ids waiting on the `retries` queue of the broker, oldest first."""
    client = redis.Redis.from_url(private_redis.url)
    messages = [json.loads(raw) for raw in reversed(client.lrange(queues.RETRIES, 0, -1))]
    client.delete(queues.RETRIES)
    return [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages]


def test_each_sweep_queues_only_what_became_due_since_the_one_before(
    fault_app: Flask, receiver, private_redis: PrivateRedis
):
    # No worker: what a sweep queues stays on the broker to be read.
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        _fire(owner, 2)
        first, second = db.session.scalars(
            sa.select(Delivery.id).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
        ).all()
        long_due = utcnow() - timedelta(seconds=10)
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.webhook_id == webhook_id)
            .values(next_attempt_at=long_due)
        )
        db.session.commit()

        _, cursor = redelivery.requeue_recovering(None)
        assert {first, second} <= set(queued_retries(private_redis))
        _, cursor = redelivery.requeue_recovering(cursor)
        assert {first, second}.isdisjoint(queued_retries(private_redis)), "queued once only"

        # A retry that falls due after the last sweep is the next sweep's.
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id == second)
            .values(next_attempt_at=cursor + timedelta(milliseconds=1))
        )
        db.session.commit()
        _, cursor = redelivery.requeue_recovering(cursor)
        swept = queued_retries(private_redis)
        assert second in swept and first not in swept
        db.session.remove()


RETRY_DELAY = 20  # seconds: well past the quick worker's 4 s of sweeps after the reconnection


def test_a_retry_whose_message_the_restart_lost_arrives_soon_after_it_falls_due(
    fault_app: Flask, start_worker, receiver, private_redis: PrivateRedis
):
    receiver.reply(Reply(500), Reply(500), Reply(500))  # each event's first attempt fails
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        worker = start_worker("tests.faults.quick_recovery", WEBHOOK_RETRY_DELAYS=str(RETRY_DELAY))
        event_ids = _fire(owner, 3)
        wait_for(lambda: _scheduled(webhook_id) == 3, timeout=60)

        # Each retry's countdown message is held by the worker or waits in Redis: lost both ways.
        private_redis.stop()
        private_redis.start()
        due = {
            row.event_id: row.next_attempt_at
            for row in db.session.scalars(
                sa.select(Delivery).where(Delivery.webhook_id == webhook_id)
            )
        }
        wait_for(lambda: all_arrived(receiver, event_ids), timeout=RETRY_DELAY + 60)

        retried = {r.headers["X-Webhook-Id"]: r.at for r in receiver.requests[3:]}
        late = max(retried[event_id] - due[event_id].timestamp() for event_id in event_ids)
        print(f"\nretries whose message was lost arrived at most {late:.1f} s after falling due")
        assert late <= RECOVERY_SECONDS, f"a retry arrived {late:.1f} s after it fell due"
        assert "recovery after a broker reconnection: watching until" in worker.log.read_text()
        assert_consistent(webhook_id, receiver, event_ids)
        db.session.remove()


def _scheduled(webhook_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(Delivery.webhook_id == webhook_id, Delivery.status == "scheduled")
    )
