"""The cost of an Idempotency-Key on POST /api/events: `python -m bench.idempotency`.

The same request through Flask's test client (the whole app: authentication, parsing, the
event stored with one delivery, the delivery published to Redis), without a key, with a new
key each time, and repeated with one key (a replay). Blocks of each kind alternate, so a
change in the machine's load falls on all three alike. On SQLite and on PostgreSQL. Shown:
wall time per call (median, and the lower decile, which another process's load disturbs
least) and this process's CPU per call (the database server's own is not in it).
BENCH_CALLS (default 600) is the number of calls of each kind.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter
from app.services import connections, users, webhooks
from bench.stack import bench_database, redis_database, settings_for

CALLS = int(os.environ.get("BENCH_CALLS", "600"))
BLOCK = 10
BODY = {"event": "price_above", "data": {"symbol": "AAPL", "price": "185.50"}}


Samples = dict[str, list[tuple[float, float]]]  # per kind: (wall, CPU) seconds per call


def measure(database_url: str, broker_url: str) -> Samples:
    app = create_app(settings_for(database_url, broker_url, timeout=10))
    limiter.enabled = False  # 600 calls a minute per user is the point here, not a limit
    with app.app_context():
        upgrade()
        owner = users.create_user(f"bench-{uuid.uuid4().hex[:8]}@example.com", "a long password")
        # Never sent: no worker runs. Only the event, its delivery row and its message count.
        webhooks.register_webhook(
            owner,
            webhooks.WebhookInput(name="bench", url="http://127.0.0.1:9/", events=["price_above"]),
        )
        token = users.create_api_token(owner)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    replayed_key = f"replay-{uuid.uuid4().hex}"
    kinds: dict[str, Callable[[], dict[str, str]]] = {
        "no key": lambda: auth,
        "new key": lambda: {**auth, "Idempotency-Key": uuid.uuid4().hex},
        "replay": lambda: {**auth, "Idempotency-Key": replayed_key},
    }
    times: Samples = {kind: [] for kind in kinds}
    for headers in kinds.values():  # warm-up: compiled statements, pools, the first key
        for _ in range(20):
            client.post("/api/events", json=BODY, headers=headers())
    for _ in range(CALLS // BLOCK):
        for kind, headers in kinds.items():
            for _ in range(BLOCK):
                given = headers()
                start, cpu = time.perf_counter(), time.process_time()
                response = client.post("/api/events", json=BODY, headers=given)
                times[kind].append((time.perf_counter() - start, time.process_time() - cpu))
                assert response.status_code == 202, response.get_json()
    with app.app_context():
        connections.dispose()
        db.engine.dispose()
    return times


def figures(samples: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Median wall, lower-decile wall and median CPU, in ms."""
    wall = [sample[0] * 1000 for sample in samples]
    cpu = [sample[1] * 1000 for sample in samples]
    return statistics.median(wall), statistics.quantiles(wall, n=10)[0], statistics.median(cpu)


def show(database: str, times: Samples) -> None:
    base = figures(times["no key"])
    for kind, samples in times.items():
        median, p10, cpu = figures(samples)
        print(
            f"{database:10} {kind:8} wall median {median:6.2f} ms ({median - base[0]:+.2f}), "
            f"p10 {p10:6.2f} ms ({p10 - base[1]:+.2f}); CPU {cpu:5.2f} ms ({cpu - base[2]:+.2f})"
            f"; n={len(samples)}"
        )


def main() -> None:
    with redis_database() as broker_url:
        with tempfile.TemporaryDirectory() as folder:
            show("SQLite", measure(f"sqlite:///{Path(folder) / 'bench.sqlite'}", broker_url))
        with bench_database() as database_url:
            show("PostgreSQL", measure(database_url, broker_url))


if __name__ == "__main__":
    main()
