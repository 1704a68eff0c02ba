"""Fault tests run real worker processes against a Redis of their own, so they can kill them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from app.extensions import db
from tests.conftest import new_database
from tests.support.processes import REPO, PrivateRedis, Worker, _stop

BIN = Path(sys.executable).parent


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(
    tmp_path: Path, settings: dict[str, str], private_redis: PrivateRedis
) -> Iterator[Callable[..., Worker]]:
    """Start `celery -A tasks worker` processes on the private Redis, with overrides."""
    started: list[Worker] = []

    def start(app_module: str = "tasks", **overrides: str) -> Worker:
        log = tmp_path / f"worker-{len(started) + 1}.log"
        env = {**settings, "CELERY_BROKER_URL": private_redis.url, **overrides}
        worker = Worker(env, log, app_module=app_module).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def fault_app(make_app: Callable[..., Flask], private_redis: PrivateRedis) -> Flask:
    """The app on this run's database, with the private Redis as its broker."""
    return make_app(CELERY_BROKER_URL=private_redis.url)


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
