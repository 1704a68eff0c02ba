"""The worker and beat say they are alive (app/services/heartbeats.py), from their own loops.

The worker writes from a thread of its own that a bootstep starts and stops with it, rather
than from Celery's timer, whose thread also releases the retries' countdowns: a slow database
must not hold those up. Beat writes from its scheduler's tick, so a beat whose loop is stuck
stops being seen, not only one whose process is gone.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from weakref import WeakKeyDictionary

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from flask import Flask

from app import clock
from app.services import heartbeats

log = logging.getLogger(__name__)
_flask_apps: WeakKeyDictionary[Celery, Flask] = WeakKeyDictionary()


def install(celery: Celery, app: Flask) -> None:
    _flask_apps[celery] = app
    celery.steps["worker"].add(WorkerHeartbeat)


def _alive(celery: Celery, role: str) -> None:
    try:
        with _flask_apps[celery].app_context():
            heartbeats.record(role, heartbeats.this_process())
    except Exception:  # a database that is down: say so, and try again next time
        log.warning("could not record the %s heartbeat", role, exc_info=True)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A heartbeat every few seconds while the worker runs."""

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, worker: Any) -> None:
        self.thread = threading.Thread(
            target=self._run, args=(worker.app,), name="signalpost-heartbeat", daemon=True
        )
        self.thread.start()

    def _run(self, celery: Celery) -> None:
        while not self.stopping.is_set():
            clock.follow_broker(celery.conf.broker_url)  # a clock may drift, or be set right
            _alive(celery, heartbeats.WORKER)
            self.stopping.wait(heartbeats.INTERVAL_SECONDS)

    def stop(self, worker: Any) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)


class Scheduler(PersistentScheduler):
    """beat's own scheduler, which also records beat's heartbeat and wakes for the next one."""

    _last_heartbeat = float("-inf")

    def tick(self, *args: Any, **kwargs: Any) -> float:
        now = time.monotonic()
        if now - self._last_heartbeat >= heartbeats.INTERVAL_SECONDS:
            self._last_heartbeat = now
            _alive(self.app, heartbeats.BEAT)
        return min(super().tick(*args, **kwargs), heartbeats.INTERVAL_SECONDS)
