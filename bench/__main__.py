"""`make bench`: start the stack, seed it, run the six measurements, report, stop everything.

BENCH_SCALE (default 1) shrinks or grows every count; BENCH_RUNS (default 3) is how many runs
each median is taken over; BENCH_WORKERS / BENCH_CONCURRENCY size the worker pool (default
2 processes × 32 threads, one process per core as docs/operations.md advises) and BENCH_POOL
chooses its kind (threads, or gevent); BENCH_ENDPOINTS (50) is how many endpoints the
throughput events are spread over;
BENCH_MEMORY_DELIVERIES sets the memory run's length; BENCH_ONLY=throughput,logs runs only
those (BENCH_ONLY=client: events fired through signalpost_client, bench/host.py);
BENCH_PROFILE=1 (or `gil`) records py-spy profiles of the throughput runs into
bench/profiles/ (read them with `python -m bench.hot FILE`).

BENCH_ONLY=digests: a burst of price alerts to chat webhooks at their services' budgets, with
digests and without (bench/digests.py, in frozen time).

BENCH_ONLY=soak, never part of the full run, is the long steady-load run of bench/soak.py:
BENCH_SOAK_SECONDS long (default 600 × BENCH_SCALE) at BENCH_SOAK_RATE events a second (20).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.services import connections
from bench import digests, host, logpages, report, scenarios, seed, soak
from bench.stack import (
    Arrivals,
    CpuMeter,
    Receiver,
    backends_of,
    bench_database,
    children_of,
    profiled,
    redis_database,
    settings_for,
    start_workers,
)

PROFILES = Path(__file__).resolve().parent / "profiles"
TIMEOUT = 2  # WEBHOOK_TIMEOUT for the whole run: the isolation case needs a short one


def env_number(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def main() -> None:
    scale = env_number("BENCH_SCALE", 1)
    runs = int(env_number("BENCH_RUNS", 3))
    workers = int(env_number("BENCH_WORKERS", 2))
    concurrency = int(env_number("BENCH_CONCURRENCY", 32))
    pool = os.environ.get("BENCH_POOL") or "threads"
    counts = {
        "throughput_events": max(100, int(5000 * scale)),
        "latency_events": max(50, int(200 * scale)),
        "isolation_events": max(100, int(500 * scale)),
        "webhooks_in_database": max(2000, int(100_000 * scale)),
        "log_attempt_rows": max(10_000, int(1_000_000 * scale)),
        "memory_deliveries": int(
            os.environ.get("BENCH_MEMORY_DELIVERIES") or max(2000, int(100_000 * scale))
        ),
    }
    started = time.time()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg()[0]},
        "setup": {"scale": scale, "runs": runs, "workers": workers, "concurrency": concurrency,
                  "pool": pool, "webhook_timeout": TIMEOUT, **counts},
    }  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="signalpost-bench-") as folder,
        bench_database() as database_url,
        redis_database() as redis_url,
    ):
        retry_delays = soak.RETRY_DELAYS if only("soak") else "3600"
        settings = settings_for(database_url, redis_url, TIMEOUT, retry_delays)
        app = create_app(settings)
        with app.app_context():
            upgrade()
        receiver = Receiver(redis_url, Path(folder) / "receiver.log", hang_seconds=10 * TIMEOUT)
        running = []
        try:
            receiver.start()
            running = start_workers(settings, Path(folder), workers, concurrency, pool)
            cpu = CpuMeter(
                {
                    "workers": lambda: [worker.process.pid for worker in running],
                    "trigger (bench process)": lambda: [os.getpid()],
                    "postgres": lambda: backends_of(database_url),
                    "receiver": lambda: children_of(receiver.process.pid),
                }
            )
            bench = scenarios.Bench(app, Arrivals(redis_url), running, runs, 4, cpu)
            measure(bench, app, receiver.base, settings, counts, results)
        finally:
            for worker in running:
                worker.stop()
            receiver.stop()
            with app.app_context():
                connections.dispose()
    results["seconds"] = round(time.time() - started)
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    if os.environ.get("BENCH_ONLY"):
        print(report.table(results))
    else:
        report.write(results)


def measure(bench, app, base: str, settings, counts, results: dict[str, Any]) -> None:
    secret = seed.sealed_secret(settings["WEBHOOK_ENCRYPTION_KEY"])
    urls: dict[int, str] = {}

    def owners(prefix: str, how_many: int) -> list[seed.Owner]:
        made = []
        for number in range(how_many):
            url = f"{base}/{prefix}/{number}"
            owner = seed.add_owner(connection, secret, [url])
            urls[owner.user_id] = url
            made.append(owner)
        return made

    def fan_owner(size: int) -> seed.Owner:
        return seed.add_owner(connection, secret, [f"{base}/fan{size}/{n}" for n in range(size)])

    with app.app_context():
        connection = db.session.connection()
        fast = owners("fast", int(env_number("BENCH_ENDPOINTS", 50)))
        healthy, hanging = owners("healthy", 80), owners("hang", 20)
        fans = {size: fan_owner(size) for size in (1, 10, 100, 1000)}
        soaked = soak.endpoints(connection, secret, base, urls) if only("soak") else {}
        db.session.commit()

    step("warm-up")
    scenarios.throughput(dataclasses.replace(bench, runs=1), fast, 500)
    if wanted("throughput"):
        step("throughput")
        pids = {"trigger": os.getpid()} | {
            f"worker-{n + 1}": worker.process.pid for n, worker in enumerate(bench.workers)
        }
        profile = os.environ.get("BENCH_PROFILE")
        with profiled(pids, PROFILES, profile == "gil") if profile else nullcontext():
            results["throughput"] = scenarios.throughput(bench, fast, counts["throughput_events"])
    if wanted("latency"):
        step("latency")
        results["latency"] = scenarios.latency(bench, fast, urls, counts["latency_events"], rate=20)
    if wanted("client"):
        step("client: events.send as a tenant, through gunicorn to the receiver")
        results["client"] = host.client_latency(
            bench, settings, base, counts["latency_events"], rate=20
        )
    if wanted("isolation"):
        step("isolation")
        results["isolation"] = scenarios.isolation(
            bench, healthy, hanging, urls, counts["isolation_events"], rate=50, timeout=TIMEOUT
        )
    if wanted("fan_out"):
        step("fan-out, few webhooks in the database")
        small = {size: scenarios.fan_out(bench, owner) for size, owner in fans.items()}
        step(f"fan-out, {counts['webhooks_in_database']:,} webhooks in the database")
        with app.app_context():
            connection = db.session.connection()
            existing = 150 + sum(fans)
            seed.add_filler(connection, secret, counts["webhooks_in_database"] - existing, base)
            db.session.commit()
        large = {size: scenarios.fan_out(bench, owner) for size, owner in fans.items()}
        step("fan-out, the same webhooks, each with a filter the event passes")
        with app.app_context():
            seed.filter_every_webhook(db.session.connection())
            db.session.commit()
        filtered = {size: scenarios.fan_out(bench, owner) for size, owner in fans.items()}
        results["fan_out"] = {
            "small_database": small,
            "large_database": large,
            "large_database_filtered": filtered,
        }
    if wanted("logs"):
        step(f"big logs: {counts['log_attempt_rows']:,} attempt rows")
        rows = counts["log_attempt_rows"]
        with app.app_context():
            # A quiet webhook whose deliveries are all older than a busy owner's three.
            connection = db.session.connection()
            quiet = seed.add_owner(connection, secret, [f"{base}/logs/quiet"])
            seed.add_log_rows(connection, quiet, rows // 10)
            busy = seed.add_owner(connection, secret, [f"{base}/logs/{n}" for n in range(3)])
            seed.add_log_rows(connection, busy, rows - rows // 10)
            db.session.commit()
        results["logs"] = {
            "busy": logpages.big_logs(bench, busy, repeat=5),
            "quiet": logpages.big_logs(bench, quiet, repeat=5),
        }
    if only("soak"):
        seconds = env_number("BENCH_SOAK_SECONDS", 600 * env_number("BENCH_SCALE", 1))
        rate = env_number("BENCH_SOAK_RATE", 20)
        step(f"soak: {seconds:.0f} s at {rate:g} events/s")
        broker = settings["CELERY_BROKER_URL"]
        results["soak"] = soak.soak(bench, soaked, urls, broker, seconds, rate)
    if wanted("digests"):
        alerts = max(100, int(1000 * env_number("BENCH_SCALE", 1)))
        step(f"digests: a burst of {alerts} price alerts to Telegram and Discord, on and off")
        results["digests"] = digests.compare(alerts)
    if wanted("memory"):
        step(f"memory: {counts['memory_deliveries']:,} deliveries")
        results["memory"] = scenarios.memory(bench, fans[1000], counts["memory_deliveries"])


def wanted(phase: str) -> bool:
    """BENCH_ONLY=throughput,logs runs only those phases (and then writes no results file)."""
    only = os.environ.get("BENCH_ONLY")
    return not only or phase in only.split(",")


def only(phase: str) -> bool:
    """A phase that runs only when BENCH_ONLY names it."""
    return phase in (os.environ.get("BENCH_ONLY") or "").split(",")


def step(what: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {what}", flush=True)


if __name__ == "__main__":
    main()
