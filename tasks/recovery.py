"""Fast recovery: a worker that sees the broker reconnect or the database go away sweeps
for deliveries that were due, every couple of seconds for a minute after the outage ends, then
watches until the last delivery whose message the outage may have lost has fallen due.

Beat's requeue waits a minute's grace and runs once a minute: right for messages that sit in a
long queue, too slow after an outage, when what is due has mostly lost its message (the
broker's data gone, a publish that failed, a worker's held retries dropped as it reconnected).
The sweep (`redelivery.requeue_recovering`) queues only what became due since its last pass,
so it does not pile duplicates onto a backlog.

A broker reconnection loses more than what is due: every retry waiting for its countdown had
its message held by a worker, which drops it on reconnecting (Redis gives it back only after
the 4-hour visibility timeout), or lost with the broker's data. Those fall due up to the
longest retry delay later, long after the minute of sweeps. So after a reconnection the sweep
goes on as a watch, until the latest `next_attempt_at` of the deliveries left waiting since
before the reconnection has passed (bounded by the longest wait a retry can have), and sends
each of them as it falls due. It is the same sweep, narrowed to rows not written since the
outage: a row written since (an attempt made, a retry scheduled) had its message published to
the broker as it is now, so the watch adds no duplicate to the retries of the hours after.
Why not beat with no grace: it runs once a minute, and knows nothing of outages. Why not the
ids open at the outage: the database already holds that set, as `updated_at` before the mark.
A database outage loses no message (each task retries by itself), so it needs no watch.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from celery import Celery, bootsteps
from flask import Flask

from app.domain.retry import EARLY_TOLERANCE, MAX_RETRY_AFTER_SECONDS
from app.models import utcnow
from app.services import connections
from app.services.delivery import redelivery

log = logging.getLogger(__name__)

SWEEP_EVERY = 2.0  # seconds between sweeps while recovering
RECOVER_FOR = 60.0  # seconds of sweeps after the outage was last seen
# The longest a retry's message waits for its countdown: a receiver's Retry-After, capped;
# the retry policy's own delays are shorter (15 minutes by default).
LONGEST_WAIT = timedelta(seconds=MAX_RETRY_AFTER_SECONDS)

_lock = threading.Lock()
_until = 0.0
_outages = 0  # each one starts the sweep from the beginning: it may have lost more messages
_latest = ""  # what the latest one was, for the log
# Deliveries last written before this may have lost their message (the latest broker
# reconnection; a little later, for other workers' clocks running ahead of this one's).
_lost_before: datetime | None = None
_sweeper: threading.Thread | None = None  # None once it has ended, under the lock


def outage_seen(app: Flask, what: str, messages_lost: bool = False) -> None:
    """Sweep for the next RECOVER_FOR seconds (from now, or for longer if already sweeping);
    when the outage may have lost queued messages, then watch for those (see above)."""
    global _until, _outages, _latest, _lost_before, _sweeper
    with _lock:
        _until = max(_until, time.monotonic() + RECOVER_FOR)
        _outages += 1
        _latest = what
        if messages_lost:
            _lost_before = utcnow() + EARLY_TOLERANCE
        if _sweeper is None:
            _sweeper = threading.Thread(
                target=_sweep, args=(app,), name="signalpost-recovery", daemon=True
            )
            _sweeper.start()


def _sweep(app: Flask) -> None:
    global _until, _lost_before, _sweeper
    due_after: datetime | None = None
    watch_until: datetime | None = None  # the watch's end, read once the sweeps are over
    swept_after = 0
    while True:
        with _lock:
            if swept_after != _outages:
                swept_after, due_after, watch_until = _outages, None, None
            sweeping = time.monotonic() < _until
            lost_before = None if sweeping else _lost_before
            if not sweeping and lost_before is None:
                _sweeper = None
                return
            what = _latest
        try:
            with app.app_context():
                if lost_before is not None and watch_until is None:
                    last = redelivery.last_due_written_before(lost_before)
                    watch_until = min(last or lost_before, lost_before + LONGEST_WAIT)
                    log.info("recovery after %s: watching until %s", what, watch_until)
                if watch_until is not None and due_after is not None and due_after >= watch_until:
                    with _lock:  # all it may have lost has fallen due and been sent
                        if swept_after == _outages:
                            _lost_before = None
                    continue
                queued, due_after = redelivery.requeue_recovering(due_after, lost_before)
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
                outage_seen(app, "a broker reconnection", messages_lost=True)

    celery.steps["consumer"].add(SweepOnReconnect)
