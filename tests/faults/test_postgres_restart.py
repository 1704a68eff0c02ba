"""A PostgreSQL restart mid-stream: 503 while it is down, then everything recovers on its own."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app.extensions import db
from app.services import users
from tests.faults.checks import all_finished, assert_consistent, settle
from tests.faults.test_processes import _fire, _owner_and_webhook, _still_delivers
from tests.support.processes import PrivatePostgres
from tests.support.receiver import Reply
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.environ.get("SIGNALPOST_TEST_DATABASE") != "postgres",
    reason="runs in the PostgreSQL pass, on a cluster of its own",
)


@pytest.fixture
def postgres():
    # Not under pytest's tmp_path: the postgres user cannot enter root's private folders.
    folder = Path(tempfile.mkdtemp(prefix="signalpost-pg-"))
    cluster = PrivatePostgres(folder)
    try:
        yield cluster.init()
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgres_restart_loses_nothing(
    postgres, make_app, private_redis, start_worker, receiver
):
    receiver.default = Reply(200, delay=0.2)
    app = make_app(DATABASE_URL=postgres.url, CELERY_BROKER_URL=private_redis.url)
    with app.app_context():
        upgrade()
    worker = start_worker(DATABASE_URL=postgres.url)
    client = app.test_client()
    with app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        token = users.create_api_token(owner)
        event_ids = _fire(owner, 20)
        wait_for(lambda: len(receiver.requests) >= 3, timeout=60)

        postgres.stop()
        down = client.get("/healthz")
        assert down.status_code == 503 and down.get_json()["database"] == "down"
        api = client.get("/api/webhooks", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
        time.sleep(2)  # deliveries in flight now fail to record and are retried by the worker
        postgres.start()

        wait_for(lambda: client.get("/healthz").status_code == 200, timeout=30)
        listed = client.get("/api/webhooks", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        settle(receiver, event_ids)
        assert worker.alive
        assert_consistent(webhook_id, receiver, event_ids)
        _still_delivers(owner, receiver)
        db.session.remove()


def test_after_a_postgres_restart_what_was_due_arrives_within_15_seconds(
    postgres, make_app, private_redis, start_worker, receiver
):
    """No requeue by hand and no beat: the worker that saw the database away sweeps once it is
    back (tasks/recovery.py) instead of the tasks' backoff of up to a minute."""
    receiver.default = Reply(200, delay=0.2)
    app = make_app(DATABASE_URL=postgres.url, CELERY_BROKER_URL=private_redis.url)
    with app.app_context():
        upgrade()
    worker = start_worker(DATABASE_URL=postgres.url)
    with app.app_context():
        owner, webhook_id = _owner_and_webhook(receiver)
        event_ids = _fire(owner, 30)
        wait_for(lambda: len(receiver.requests) >= 3, timeout=60)

        postgres.stop()
        time.sleep(4)  # long enough for the tasks' backoff to reach several seconds
        postgres.start()
        back = time.time()

        def first_arrivals() -> dict[str, float] | None:
            first: dict[str, float] = {}
            for request in receiver.requests:
                first.setdefault(request.headers["X-Webhook-Id"], request.at)
            return first if set(event_ids) <= set(first) else None

        arrivals = wait_for(first_arrivals, timeout=45)
        recovered_in = max(arrivals[event_id] for event_id in event_ids) - back
        print(f"\npostgres restarted: all {len(event_ids)} arrived {recovered_in:.1f} s after")
        assert recovered_in <= 15, f"the last arrived {recovered_in:.1f} s after it was back"
        wait_for(lambda: all_finished(event_ids), timeout=30)
        assert worker.alive
        assert_consistent(webhook_id, receiver, event_ids)
        assert "recovery after the database away" in worker.log.read_text()
        db.session.remove()
