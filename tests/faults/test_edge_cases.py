"""Edge cases of operations, with real processes: two beats by mistake, a worker whose clock is
wrong, a broker that refuses writes. Deliveries are delayed at worst, never lost or doubled,
and the operator can see it."""

from __future__ import annotations

import glob
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, utcnow
from app.services import operator_keys, queue, users
from tests.conftest import REQUIRE_SERVICES
from tests.faults.checks import assert_consistent, received_ids, settle
from tests.faults.test_processes import _fire, _owner_and_webhook, _still_delivers
from tests.faults.test_recovery import all_arrived
from tests.support.processes import PrivateRedis
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for
from tests.test_metrics import scrape, value

# Its log says each time it sends a periodic task.
BEAT = ("celery", "-A", "tests.faults.quick_beat", "beat", "--loglevel", "INFO")


def _sent(beat_log: Path, entry: str) -> int:
    """How many times a beat sent one of its periodic tasks."""
    return beat_log.read_text().count(f"Sending due task {entry} ")


def _lose_messages(private_redis: PrivateRedis, webhook_id: int, overdue: timedelta) -> None:
    """The queued messages gone, the deliveries due for `overdue` already: what beat's requeue
    finds after an outage."""
    redis.Redis.from_url(private_redis.url).flushall()
    _backdate(webhook_id, overdue)


def _backdate(webhook_id: int, overdue: timedelta) -> None:
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.webhook_id == webhook_id)
        .values(next_attempt_at=utcnow() - overdue)
    )
    db.session.commit()


def test_two_beats_send_nothing_twice(
    own_app: Flask,
    start_worker,
    start_process,
    process_env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    private_redis: PrivateRedis,
):
    receiver.default = Reply(200, delay=0.5)  # in flight long enough for the duplicates to meet
    # A database of its own: the beats' requeues and purges must meet no other test's rows.
    with own_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        event_ids = _fire(owner, 20)  # no worker yet: the messages wait in Redis
        _lose_messages(private_redis, webhook_id, overdue=timedelta(minutes=2))
        # A finished delivery long past the retention, for both beats' purges to meet on.
        old_owner, old_webhook_id = _owner_and_webhook(receiver)
        (old_event,) = _fire(old_owner, 1, start=500)
        long_ago = utcnow() - timedelta(days=400)
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.webhook_id == old_webhook_id)
            .values(status="succeeded", created_at=long_ago)
        )
        db.session.execute(
            sa.update(Event).where(Event.id == old_event).values(created_at=long_ago)
        )
        db.session.commit()
        redis.Redis.from_url(private_redis.url).flushall()

        worker = start_worker(**process_env)
        # Two machines' beats, each with its schedule file.
        beats = []
        for number in (1, 2):
            schedule = str(tmp_path / f"beat-{number}")
            start_process(f"beat-{number}", *BEAT, "-s", schedule)
            beats.append(tmp_path / f"beat-{number}.log")
        wait_for(lambda: all_arrived(receiver, event_ids), timeout=120)
        # Both beats had the same deliveries queued again, every second, while they were sent.
        for entry in ("requeue-due-deliveries", "purge-old-logs"):
            wait_for(lambda entry=entry: min(_sent(beat, entry) for beat in beats) >= 3, timeout=60)
        wait_for(
            lambda: db.session.get(Delivery, _old_delivery(old_webhook_id)) is None, timeout=60
        )

        seen = received_ids(receiver)
        doubled = {event_id: count for event_id, count in seen.items() if count > 1}
        assert not doubled, f"sent twice: {doubled}"
        assert_consistent(webhook_id, receiver, event_ids)
        assert db.session.get(Event, old_event) is None, "the purges deleted the old event"
        for log in [worker.log, *beats]:
            assert "Traceback" not in log.read_text(), log.name
        _still_delivers(owner, receiver)
        db.session.remove()


def _old_delivery(webhook_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(Delivery.id).where(Delivery.webhook_id == webhook_id)) or 0


def test_a_broker_out_of_memory_delays_deliveries_and_loses_none(
    fault_app: Flask, start_worker, receiver: Receiver, private_redis: PrivateRedis, caplog
):
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        auth = {"Authorization": f"Bearer {users.create_api_token(owner)}"}
        client = fault_app.test_client()
        metrics_key = operator_keys.create_key("prometheus")[1]
        worker = start_worker()
        broker = redis.Redis.from_url(private_redis.url)
        broker.config_set("maxmemory-policy", "noeviction")
        # Two first attempts fail slowly: their retries are to be queued while writes are refused.
        receiver.reply(Reply(500, delay=1.0), Reply(500, delay=1.0))
        event_ids = _fire(owner, 2)
        wait_for(lambda: len(receiver.requests) >= 2)
        broker.config_set("maxmemory", "1")  # less than it holds: every write is refused (OOM)
        wait_for(lambda: _count(webhook_id, DeliveryStatus.SCHEDULED) == 2)

        for number in range(5):
            body = {"event": "trade_executed", "data": {"n": number}}
            response = client.post("/api/events", json=body, headers=auth)
            assert response.status_code == 202, response.get_json()
            assert response.get_json()["deliveries"] == 1
            event_ids.append(response.get_json()["id"])
        assert "broker unavailable" in caplog.text  # the web process says so in its log
        before = _overdue_metric(client, metrics_key)  # due, but not yet for a minute
        # As after a couple of minutes of it: the operator sees the deliveries overdue,
        # in /readyz and in the metrics Prometheus scrapes (its alert rules read this gauge).
        _backdate(webhook_id, timedelta(minutes=2))
        readiness = client.get("/readyz").get_json()
        assert readiness["overdue_deliveries"] >= len(event_ids), readiness
        assert _overdue_metric(client, metrics_key) >= before + len(event_ids)

        broker.config_set("maxmemory", "0")
        settle(receiver, event_ids)  # beat's requeue, as it runs every minute
        assert_consistent(webhook_id, receiver, event_ids)
        assert worker.alive
        _still_delivers(owner, receiver)
        db.session.remove()


def _overdue_metric(client: FlaskClient, key: str) -> float:
    """`signalpost_deliveries_overdue` as a Prometheus scrape of /metrics reads it."""
    return value(scrape(client, key), "signalpost_deliveries_overdue")


def _count(webhook_id: int, status: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(Delivery.webhook_id == webhook_id, Delivery.status == status)
    )


def _faketime(offset: str) -> dict[str, str]:
    """The environment that gives a process a clock `offset` from the machine's (libfaketime,
    Debian's `faketime`): the system clock itself cannot be changed for one process."""
    found = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    if not found:
        message = "libfaketime is not installed (apt-get install faketime)"
        if REQUIRE_SERVICES:
            pytest.exit(message, returncode=3)
        pytest.skip(message)
    # Only the wall clock: Celery's timers and the sweeps run on the monotonic one.
    return {"LD_PRELOAD": found[0], "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


@pytest.mark.parametrize("offset", ["-90s", "+90s"])
def test_a_worker_with_a_wrong_clock_sends_each_delivery_once(
    fault_app: Flask, start_worker, receiver: Receiver, offset: str
):
    """Beside a worker whose clock is right, one 90 s behind would find nothing due, and one
    90 s ahead every live lease run out (it sent deliveries twice, at once, before app/clock.py).
    Each goes by the broker's clock: every delivery arrives, once, with one attempt."""
    receiver.default = Reply(200, delay=1.0)  # in flight while the copies reach the other worker
    with fault_app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        start_worker()
        wrong = start_worker(**_faketime(offset))
        event_ids = _fire(owner, 30)
        # Each queued again at once, as a requeue or a sweep may: two messages, two workers.
        queue.enqueue_deliveries(_delivery_ids(webhook_id))
        settle(receiver, event_ids)  # with beat's requeue, every 2 s

        seen = received_ids(receiver)
        doubled = {event_id: count for event_id, count in seen.items() if count > 1}
        assert not doubled, f"sent twice: {doubled}"
        assert_consistent(webhook_id, receiver, event_ids)
        assert wrong.alive
        assert "the broker's: going by the broker's" in wrong.log.read_text()
        db.session.remove()


def _delivery_ids(webhook_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Delivery.id).where(Delivery.webhook_id == webhook_id)))
