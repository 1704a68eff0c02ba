"""Fast recovery: a worker that sees the broker reconnect or the database go away sweeps
for deliveries that were due, every couple of seconds for a minute after the outage ends.

Beat's requeue waits a minute's grace and runs once a minute: right for messages that sit in a
long queue, too slow after an outage, when what is due has mostly lost its message (the
broker's data gone, a publish that failed, a worker's held retries dropped as it reconnected).
The sweep (`redelivery.requeue_recovering`) queues only what became due since its last pass,
so it does not pile duplicates onto a backlog.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from celery import Celery, bootsteps
from flask import Flask

from app.services import connections
from app.services.delivery import redelivery

log = logging.getLogger(__name__)

SWEEP_EVERY = 2.0  # seconds between sweeps while recovering
RECOVER_FOR = 60.0  # seconds of sweeps after the outage was last seen

_lock = threading.Lock()
_until = 0.0
_outages = 0  # each one starts the sweep from the beginning: it may have lost more messages
_latest = ""  # what the latest one was, for the log
_sweeper: threading.Thread | None = None


def outage_seen(app: Flask, what: str) -> None:
    """Sweep for the next RECOVER_FOR seconds (from now, or for longer if already sweeping)."""
    global _until, _outages, _latest, _sweeper
    with _lock:
        _until = max(_until, time.monotonic() + RECOVER_FOR)
        _outages += 1
        _latest = what
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(
                target=_sweep, args=(app,), name="signalpost-recovery", daemon=True
            )
            _sweeper.start()


def _sweep(app: Flask) -> None:
    global _until
    due_after: datetime | None = None
    swept_after = 0
    while True:
        with _lock:
            if time.monotonic() >= _until:
                return
            if swept_after != _outages:
                swept_after, due_after = _outages, None
            what = _latest
        try:
            with app.app_context():
                queued, due_after = redelivery.requeue_recovering(due_after)
        except connections.DATABASE_AWAY as exc:
            # Still away: keep watching, and sweep for a full period once it is back.
            with _lock:
                _until = max(_until, time.monotonic() + RECOVER_FOR)
            log.warning("recovery after %s: the database is still away (%s)", what, exc)
        except Exception:
            log.exception("recovery after %s: the sweep failed", what)
        else:
            if queued:
                log.info("recovery after %s: requeued=%s", what, queued)
        time.sleep(SWEEP_EVERY)


def install(celery: Celery, app: Flask) -> None:
    """Sweep whenever the worker's consumer reconnects to the broker after an outage.

    Not at the first connection: a worker starting is no outage (beat's requeue covers one
    that died), and a fresh worker's sweep would race whoever else sends what is pending.
    """
    connections_made = 0

    class SweepOnReconnect(bootsteps.StartStopStep):
        requires = {"celery.worker.consumer.tasks:Tasks"}

        def start(self, consumer: object) -> None:
            nonlocal connections_made
            connections_made += 1
            if connections_made > 1:
                outage_seen(app, "a broker reconnection")

    celery.steps["consumer"].add(SweepOnReconnect)
