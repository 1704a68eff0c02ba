"""The delivery measurements (the logs ones are in bench/logpages.py). Each returns plain
numbers; bench/__main__.py runs and reports them."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask

from app.domain.outgoing import Outgoing, build_request
from app.extensions import db
from app.models import User, Webhook, utcnow
from app.services import events
from app.services.delivery import attempt
from app.services.webhooks import signing_secrets
from bench import seed
from bench.stack import Arrivals, CpuMeter, rss_bytes
from tests.support.processes import Worker

DATA = {"symbol": "ACME", "price": 101.5, "target": 100}


@dataclass
class Bench:
    app: Flask
    arrivals: Arrivals
    workers: list[Worker]
    runs: int
    trigger_threads: int
    cpu: CpuMeter


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {"median": median(values), "runs": list(values)}


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def trigger(owner_id: int) -> tuple[str, float, float, float]:
    """Fire one event as its owner; returns its id, when the call began, how long it took, and
    the CPU time this thread spent in it."""
    started, cpu = time.time(), time.thread_time()
    # A transient owner: trigger_event reads only its id, and loading it would add a query.
    triggered = events.trigger_event(User(id=owner_id), seed.EVENT_TYPE, DATA)
    return triggered.event_id, started, time.time() - started, time.thread_time() - cpu


def trigger_many(bench: Bench, owner_ids: Sequence[int]) -> dict[str, tuple[int, float]]:
    """Fire one event per owner id from several threads, as several web processes would.

    Returns event id → (owner id, when its trigger began)."""
    fired: dict[str, tuple[int, float]] = {}
    lock = threading.Lock()

    def fire(chunk: Sequence[int]) -> None:
        with bench.app.app_context():
            for owner_id in chunk:
                event_id, started, *_ = trigger(owner_id)
                with lock:
                    fired[event_id] = (owner_id, started)
            db.session.remove()

    threads = [
        threading.Thread(target=fire, args=(owner_ids[index :: bench.trigger_threads],))
        for index in range(bench.trigger_threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return fired


def _wait_all(bench: Bench, expected: int, what: str, timeout: float = 600) -> dict[str, float]:
    seen = bench.arrivals.wait_for(expected, timeout)
    if seen < expected:
        raise RuntimeError(f"{what}: only {seen} of {expected} deliveries arrived; see the log")
    return bench.arrivals.times()


def ceiling(bench: Bench, webhook_ids: Sequence[int], count: int) -> tuple[float, float]:
    """One plain process posting the same signed bodies over one keep-alive session.

    Returns POSTs per second and the CPU milliseconds each one cost this process."""
    with bench.app.app_context():
        hooks = [db.session.get(Webhook, webhook_id) for webhook_id in webhook_ids]
        prepared = []
        for index in range(count):
            webhook = hooks[index % len(hooks)]
            outgoing = Outgoing(
                url=webhook.url,
                format=webhook.format,
                secrets=signing_secrets(webhook),
                event_id=events.new_event_id(),
                event_type=seed.EVENT_TYPE,
                event_created_at=utcnow(),
                event_data=DATA,
            )
            body, headers = build_request(outgoing, int(time.time()))
            prepared.append((webhook.url, body, headers))
        db.session.remove()
    bench.arrivals.clear()
    session = requests.Session()
    started, cpu = time.monotonic(), time.thread_time()
    for url, body, headers in prepared:
        session.post(url, data=body, headers=headers, timeout=10).raise_for_status()
    elapsed, cpu = time.monotonic() - started, time.thread_time() - cpu
    _wait_all(bench, count, "ceiling")
    return count / elapsed, cpu / count * 1000


def delivery_cost(bench: Bench, owner: seed.Owner, count: int) -> dict[str, Any]:
    """`attempt_delivery` called in one thread of this process, without Celery: what one
    delivery costs the service itself (claim, load, sign, POST, log, count)."""
    with bench.app.app_context():
        ids = seed.add_pending(db.session.connection(), owner, count)
        db.session.commit()
        db.session.remove()
    bench.arrivals.clear()
    walls, cpus = [], []
    for delivery_id in ids:
        with bench.app.app_context():
            started, cpu = time.perf_counter(), time.thread_time()
            outcome = attempt.attempt_delivery(delivery_id)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.thread_time() - cpu) * 1000)
            assert outcome.status == "succeeded", outcome
            db.session.remove()
    return {"wall_ms": median(walls), "cpu_ms": median(cpus)}


def throughput(bench: Bench, owners: Sequence[seed.Owner], count: int) -> dict[str, Any]:
    """End to end, first trigger call to the last 2xx, side by side with the ceiling."""
    owner_ids = [owners[index % len(owners)].user_id for index in range(count)]
    hooks = [owner.webhook_ids[0] for owner in owners]
    rates, ceilings, ceiling_cpus, trigger_rates = [], [], [], []
    cpu: dict[str, list[float]] = {}
    for _ in range(bench.runs):
        rate, ceiling_cpu = ceiling(bench, hooks, count)
        ceilings.append(rate)
        ceiling_cpus.append(ceiling_cpu)
        bench.arrivals.clear()
        cpu_before = bench.cpu.read()
        started = time.time()
        trigger_many(bench, owner_ids)
        triggered = time.time()
        arrived = _wait_all(bench, count, "throughput")
        rates.append(count / (max(arrived.values()) - started))
        trigger_rates.append(count / (triggered - started))
        for part, spent in bench.cpu.read().items():
            cpu.setdefault(part, []).append((spent - cpu_before[part]) / count * 1000)
    ratios = [rate / ceiling for rate, ceiling in zip(rates, ceilings, strict=True)]
    return {
        "events": count,
        "deliveries_per_s": summary(rates),
        "ceiling_per_s": summary(ceilings),
        "ratio": summary(ratios),
        "triggers_per_s": summary(trigger_rates),
        "cpu_ms_per_delivery": {part: summary(values) for part, values in cpu.items()},
        "ceiling_cpu_ms_per_post": summary(ceiling_cpus),
        "attempt_delivery_alone": delivery_cost(bench, owners[0], min(500, count // 5)),
    }


def _latencies(fired: dict[str, tuple[int, float]], arrived: dict[str, float], paths) -> list:
    return [
        arrived[f"{paths[owner_id]} {event_id}"] - started
        for event_id, (owner_id, started) in fired.items()
        if f"{paths[owner_id]} {event_id}" in arrived
    ]


def paced(bench: Bench, owner_ids: Sequence[int], rate: float) -> dict[str, tuple[int, float]]:
    """Fire one event per owner id at `rate` per second from one thread."""
    fired = {}
    with bench.app.app_context():
        began = time.monotonic()
        for index, owner_id in enumerate(owner_ids):
            time.sleep(max(0.0, began + index / rate - time.monotonic()))
            event_id, started, *_ = trigger(owner_id)
            fired[event_id] = (owner_id, started)
        db.session.remove()
    return fired


def latency(bench: Bench, owners: Sequence[seed.Owner], urls, count: int, rate: float) -> dict:
    """Trigger → arrival at low load: p50 and p99 of each run, and their medians."""
    paths = {owner.user_id: path_of(urls[owner.user_id]) for owner in owners}
    owner_ids = [owners[index % len(owners)].user_id for index in range(count)]
    p50s, p99s = [], []
    for _ in range(bench.runs):
        bench.arrivals.clear()
        fired = paced(bench, owner_ids, rate)
        arrived = _wait_all(bench, count, "latency")
        values = _latencies(fired, arrived, paths)
        p50s.append(percentile(values, 0.50) * 1000)
        p99s.append(percentile(values, 0.99) * 1000)
    return {"events": count, "rate_per_s": rate, "p50_ms": summary(p50s), "p99_ms": summary(p99s)}


def isolation(bench, healthy, hanging, urls, count: int, rate: float, timeout: int) -> dict:
    """Every fifth endpoint hangs past WEBHOOK_TIMEOUT: p99 latency of the healthy ones."""
    mixed = [owner for group in zip(healthy[0::4], healthy[1::4], healthy[2::4], healthy[3::4],
                                     hanging, strict=False) for owner in group]  # fmt: skip
    paths = {owner.user_id: path_of(urls[owner.user_id]) for owner in healthy}
    owner_ids = [mixed[index % len(mixed)].user_id for index in range(count)]
    healthy_ids = set(paths)
    expected = sum(1 for owner_id in owner_ids if owner_id in healthy_ids)
    p50s, p99s = [], []
    for _ in range(bench.runs):
        bench.arrivals.clear()
        fired = paced(bench, owner_ids, rate)
        arrived = _wait_all(bench, expected, "isolation")
        values = _latencies({k: v for k, v in fired.items() if v[0] in healthy_ids}, arrived, paths)
        p50s.append(percentile(values, 0.50) * 1000)
        p99s.append(percentile(values, 0.99) * 1000)
        time.sleep(timeout + 1)  # let the hanging attempts of this run time out
    return {
        "events": count,
        "hanging_share": len(hanging) / (len(hanging) + len(healthy)),
        "healthy_p50_ms": summary(p50s),
        "healthy_p99_ms": summary(p99s),
    }


def fan_out(bench: Bench, owner: seed.Owner) -> dict[str, Any]:
    """One event to all of the owner's webhooks: the trigger call, and the last arrival."""
    calls, cpus, lasts = [], [], []
    for _ in range(bench.runs):
        bench.arrivals.clear()
        with bench.app.app_context():
            _, started, took, cpu = trigger(owner.user_id)
            db.session.remove()
        arrived = _wait_all(bench, len(owner.webhook_ids), "fan-out")
        calls.append(took * 1000)
        cpus.append(cpu * 1000)
        lasts.append(max(arrived.values()) - started)
    return {
        "trigger_ms": summary(calls),
        "trigger_cpu_ms": summary(cpus),
        "last_delivery_s": summary(lasts),
    }


def memory(bench: Bench, owner: seed.Owner, deliveries: int) -> dict[str, Any]:
    """Worker RSS before and after `deliveries` deliveries, fanned out 1,000 at a time."""
    before = [rss_bytes(worker.process.pid) for worker in bench.workers]
    bench.arrivals.clear()
    started = time.time()
    fired = trigger_many(bench, [owner.user_id] * max(1, deliveries // len(owner.webhook_ids)))
    expected = len(fired) * len(owner.webhook_ids)
    arrived = _wait_all(bench, expected, "memory", timeout=1800)
    after = [rss_bytes(worker.process.pid) for worker in bench.workers]
    growth = [(b - a) / a for a, b in zip(before, after, strict=True)]
    return {
        "deliveries": expected,
        "seconds": max(arrived.values()) - started,
        "rss_before_mb": [round(value / 2**20, 1) for value in before],
        "rss_after_mb": [round(value / 2**20, 1) for value in after],
        "growth": growth,
        "max_growth": max(growth),
    }
