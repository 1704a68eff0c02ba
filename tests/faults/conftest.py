"""Fault tests run real worker processes against a Redis of their own, so they can kill them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.processes import PrivateRedis, Worker


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
