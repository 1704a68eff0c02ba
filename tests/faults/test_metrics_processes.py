"""Metrics of real processes add up: two gunicorn web processes, two Celery workers and beat
share one PROMETHEUS_MULTIPROC_DIR, and every scrape, whichever process answers, sees the sum."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from app.extensions import db
from app.models import Heartbeat
from app.services import events, operator_keys, users, webhooks
from tests.conftest import new_database
from tests.faults.checks import settle
from tests.support.processes import REPO, PrivateRedis, _stop, free_port, wait_for_port
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for
from tests.test_metrics import samples, value

BIN = Path(sys.executable).parent


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: beat and the requeue must find no other test's rows."""
    (tmp_path / "db").mkdir()
    with new_database(tmp_path / "db") as url:
        yield url


@pytest.fixture
def process_env(
    tmp_path: Path, settings: dict[str, str], private_redis: PrivateRedis, own_database: str
) -> dict[str, str]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    return {
        **settings,
        "DATABASE_URL": own_database,
        "CELERY_BROKER_URL": private_redis.url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }


@pytest.fixture
def own_app(make_app: Callable[..., Flask], process_env: dict[str, str]) -> Iterator[Flask]:
    """The test's side: fires the events on the test's database and broker, counts nothing."""
    app = make_app(
        DATABASE_URL=process_env["DATABASE_URL"],
        CELERY_BROKER_URL=process_env["CELERY_BROKER_URL"],
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture
def start_process(
    tmp_path: Path, process_env: dict[str, str]
) -> Iterator[Callable[..., subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(name: str, *command: str) -> subprocess.Popen:
        with (tmp_path / f"{name}.log").open("ab") as log:
            started.append(
                subprocess.Popen(
                    [str(BIN / command[0]), *command[1:]],
                    cwd=REPO,
                    env={**os.environ, **process_env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return started[-1]

    yield start
    for process in started:
        _stop(process)


def test_web_and_worker_processes_add_up(
    own_app: Flask, start_worker, start_process, process_env, tmp_path, receiver
):
    receiver.default = Reply(200, delay=0.01)
    failing = Receiver().start()
    failing.default = Reply(500)
    ports = [free_port(), free_port()]
    for number, port in enumerate(ports):
        start_process(
            f"web-{number}", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "app:create_app()"
        )
    workers = [start_worker(**process_env), start_worker(**process_env)]
    beat = start_process(
        "beat", "celery", "-A", "tasks", "beat", "--schedule", str(tmp_path / "beat")
    )
    try:
        with own_app.app_context():
            owner = users.create_user("metrics-processes@example.com", "a long password")
            token = users.create_api_token(owner)
            key = operator_keys.create_key("prometheus")[1]
            healthy, _ = webhooks.register_webhook(
                owner, webhooks.WebhookInput(name="Ok", url=receiver.url, events=["price_above"])
            )
            webhooks.register_webhook(
                owner, webhooks.WebhookInput(name="Bad", url=failing.url, events=["price_below"])
            )
            healthy_id = healthy.id
            for port in ports:
                wait_for_port(port, timeout=60)

            # Test sends are attempts made by the web process that answers them: 3 + 2.
            for port, sends in zip(ports, (3, 2), strict=True):
                for _ in range(sends):
                    response = requests.post(
                        f"http://127.0.0.1:{port}/api/webhooks/{healthy_id}/test",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=20,
                    )
                    assert response.status_code == 200, response.text
            fired = [
                events.trigger_event(owner, "price_above", {"n": n}).event_id for n in range(30)
            ]
            failed = events.trigger_event(owner, "price_below", {"n": 0}).event_id
            settle(receiver, fired)
            wait_for(lambda: len(failing.requests) == 4, timeout=60)
            settle(failing, [failed])

            def scrape(port: int) -> dict:
                response = requests.get(
                    f"http://127.0.0.1:{port}/metrics",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=20,
                )
                assert response.status_code == 200
                return samples(response.text)

            # A worker counts an attempt just after committing it: the last may lag the rows.
            # The duration is the last of an attempt's three counts, so once all 39 are in,
            # every attempt has been counted in full.
            wait_for(
                lambda: value(scrape(ports[0]), "signalpost_attempt_duration_seconds_count") >= 39,
                timeout=20,
            )
            for port in ports:  # either web process, the same sums
                scraped = scrape(port)
                assert value(scraped, "signalpost_deliveries_total", status="succeeded") == 35
                assert value(scraped, "signalpost_deliveries_total", status="scheduled") == 3
                assert value(scraped, "signalpost_deliveries_total", status="failed") == 1
                assert value(scraped, "signalpost_attempts_total", status_class="2xx") == 35
                assert value(scraped, "signalpost_attempts_total", status_class="5xx") == 4
                assert value(scraped, "signalpost_attempt_duration_seconds_count") == 39

            writers = {
                path.stem.rpartition("_")[2]
                for path in Path(process_env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db")
            }
            assert len(writers) >= 4  # two web processes and two workers wrote counts

            def ready() -> bool:
                response = requests.get(f"http://127.0.0.1:{ports[0]}/readyz", timeout=20)
                return response.status_code == 200

            wait_for(ready, timeout=60)
            # By their own heartbeats: both worker processes and the beat process.
            alive = {
                (row.role, row.instance.rpartition(":")[2])
                for row in db.session.scalars(sa.select(Heartbeat))
            }
            for worker in workers:
                assert ("worker", str(worker.process.pid)) in alive
            assert ("beat", str(beat.pid)) in alive
    finally:
        failing.stop()
