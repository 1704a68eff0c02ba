"""`BENCH_ONLY=soak`: steady load for a long while, with some endpoints failing and some
hanging, sampling what grows: worker memory, queue depths, overdue deliveries, database size.

Of 100 endpoints (one owner each), 85 answer at once, 10 answer 500 (so they are retried and,
after WEBHOOK_FAILURE_THRESHOLD failed deliveries, disabled) and 5 hang past the timeout.
Nothing may be lost: every event to a healthy endpoint arrives.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from typing import Any

import redis
import sqlalchemy as sa

from app import queues
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Webhook, utcnow
from bench import seed
from bench.scenarios import Bench, _latencies, path_of, percentile, trigger
from bench.stack import rss_bytes

HEALTHY, FAILING, HANGING = 85, 10, 5
SAMPLE_EVERY = 15  # seconds
# Retries come back during the run, as they would in production, only sooner.
RETRY_DELAYS = "5,15,30"
QUEUES = (queues.DELIVERIES, queues.RETRIES, queues.DEFAULT)


def endpoints(connection, secret: str, base: str, urls: dict[int, str]):
    """The 100 owners by kind (ok, fail, hang); each one's URL is added to `urls`."""
    groups: dict[str, list[seed.Owner]] = {}
    for group, size in {"ok": HEALTHY, "fail": FAILING, "hang": HANGING}.items():
        for number in range(size):
            url = f"{base}/{group}/{number}"
            owner = seed.add_owner(connection, secret, [url])
            urls[owner.user_id] = url
            groups.setdefault(group, []).append(owner)
    return groups


def sample(bench: Bench, broker: redis.Redis, fired: int) -> dict[str, Any]:
    overdue_since = utcnow() - timedelta(minutes=1)
    with bench.app.app_context():
        overdue = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Delivery)
            .where(
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED]),
                Delivery.next_attempt_at < overdue_since,
            )
        )
        disabled = db.session.scalar(
            sa.select(sa.func.count()).select_from(Webhook).where(Webhook.is_active.is_(False))
        )
        size = db.session.scalar(sa.text("SELECT pg_database_size(current_database())"))
        db.session.remove()
    return {
        "at_s": 0.0,
        "fired": fired,
        "arrived": bench.arrivals.count(),
        "worker_rss_mb": [round(rss_bytes(w.process.pid) / 2**20, 1) for w in bench.workers],
        "queue_depth": {name: int(broker.llen(name)) for name in QUEUES},
        "overdue": overdue,
        "webhooks_disabled": disabled,
        "database_mb": round(size / 2**20, 1),
    }


def soak(bench: Bench, groups, urls: dict[int, str], broker_url: str, seconds: float, rate: float):
    """Fire `rate` events a second for `seconds`, round-robin over the 100 endpoints."""
    every = [owner for group in groups.values() for owner in group]
    random.Random(1).shuffle(every)  # the failing and hanging ones spread over each round
    healthy = {owner.user_id for owner in groups["ok"]}
    paths = {owner.user_id: path_of(urls[owner.user_id]) for owner in groups["ok"]}
    broker = redis.Redis.from_url(broker_url)
    bench.arrivals.clear()
    fired: dict[str, tuple[int, float]] = {}
    samples = [sample(bench, broker, 0)]
    began = time.monotonic()
    stop = threading.Event()

    def sampler() -> None:
        while not stop.wait(SAMPLE_EVERY):
            samples.append(sample(bench, broker, len(fired)) | {"at_s": time.monotonic() - began})

    watching = threading.Thread(target=sampler, daemon=True)
    watching.start()
    with bench.app.app_context():
        index = 0
        while (elapsed := time.monotonic() - began) < seconds:
            time.sleep(max(0.0, index / rate - elapsed))
            owner = every[index % len(every)]
            event_id, started, *_ = trigger(owner.user_id)
            fired[event_id] = (owner.user_id, started)
            index += 1
        db.session.remove()
    to_healthy = {key: value for key, value in fired.items() if value[0] in healthy}
    drained = _drain(bench, paths, to_healthy)
    stop.set()
    watching.join()
    samples.append(sample(bench, broker, len(fired)) | {"at_s": time.monotonic() - began})
    latencies = _latencies(to_healthy, bench.arrivals.times(), paths)
    expected = len(to_healthy)
    return {
        "seconds": seconds,
        "rate_per_s": rate,
        "events": len(fired),
        "healthy_events": expected,
        "healthy_arrived": len(latencies),
        "lost": expected - len(latencies),
        "drain_s": drained,
        "healthy_p50_ms": percentile(latencies, 0.50) * 1000 if latencies else None,
        "healthy_p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
        "start": samples[0],
        "end": samples[-1],
        "max_overdue": max(s["overdue"] for s in samples),
        "max_queue_depth": max(sum(s["queue_depth"].values()) for s in samples),
        "samples": samples,
    }


def _drain(bench: Bench, paths, to_healthy, timeout: float = 120) -> float:
    """Seconds after the last event until every healthy one had arrived (or `timeout`)."""
    ended = time.monotonic()
    while time.monotonic() - ended < timeout:
        if len(_latencies(to_healthy, bench.arrivals.times(), paths)) >= len(to_healthy):
            break
        time.sleep(0.5)
    return time.monotonic() - ended
