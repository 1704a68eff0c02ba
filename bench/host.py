"""`BENCH_ONLY=client`: the host's view. Its backend fires events as tenants through
`signalpost_client`, over HTTP, to the web process run as operators run it
(`gunicorn 'app:create_app()'`), and on through the workers to the receiver.

Measured at a light load, from one thread: the `events.send` call, the time from its start to
the delivery's arrival, and what the idempotency key costs the call (each other call is sent
without one, through `Client.request`, for the difference).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from signalpost_client import Client

from app.extensions import db
from app.services import operator_keys
from bench import seed
from bench.scenarios import Bench, _wait_all, percentile, summary
from tests.support.processes import REPO, free_port, wait_for_port

TENANTS = 10  # events spread over them, so none meets the API's per-user request limit
DATA = {"symbol": "ACME", "price": Decimal("101.50"), "target": Decimal("100")}


@dataclass
class WebServer:
    """`gunicorn 'app:create_app()'` on a free port of 127.0.0.1, with the bench's settings."""

    settings: dict[str, str]
    log: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, "-w", str(self.workers), "--threads", "4",
                   "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                   "app:create_app()"]  # fmt: skip
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, **self.settings},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, timeout=60)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def _tenants(app: Flask, secret: str, base: str) -> list[tuple[str, str]]:
    """TENANTS tenants, each with one webhook to the receiver: (external id, its path)."""
    made = []
    with app.app_context():
        connection = db.session.connection()
        for number in range(TENANTS):
            owner = seed.add_owner(connection, secret, [f"{base}/client/{number}"])
            external_id = f"bench-host:{owner.user_id}"
            connection.execute(
                sa.text("UPDATE users SET external_id = :external_id WHERE id = :id"),
                {"external_id": external_id, "id": owner.user_id},
            )
            made.append((external_id, f"/client/{number}"))
        db.session.commit()
    return made


def client_latency(
    bench: Bench, settings: dict[str, str], base: str, count: int, rate: float
) -> dict[str, Any]:
    secret = seed.sealed_secret(settings["WEBHOOK_ENCRYPTION_KEY"])
    tenants = _tenants(bench.app, secret, base)
    with bench.app.app_context():
        _, key = operator_keys.create_key("bench host backend")
        db.session.remove()
    web = WebServer(settings, Path(tempfile.mkdtemp(prefix="signalpost-bench-web-")) / "web.log")
    # No retries: a failed call must fail the bench, not hide in its figures.
    client = Client(web.url, key, timeout=10, max_retries=0)
    figures: dict[str, list[float]] = {}
    try:
        web.start()
        for _ in range(bench.runs):
            for name, value in _run(bench, client, tenants, count, rate).items():
                figures.setdefault(name, []).append(value)
    finally:
        web.stop()
    return {
        "events": count,
        "rate_per_s": rate,
        "tenants": TENANTS,
        **{name: summary(values) for name, values in figures.items()},
    }


def _run(bench: Bench, client: Client, tenants, count: int, rate: float) -> dict[str, float]:
    bench.arrivals.clear()
    keyed, unkeyed, fired = [], [], {}
    began = time.monotonic()
    for index in range(count):
        time.sleep(max(0.0, began + index / rate - time.monotonic()))
        external_id, path = tenants[index % len(tenants)]
        started, clock = time.time(), time.perf_counter()
        if index % 2:
            body = {"event": "price_above", "data": DATA}
            answer = client.request("POST", "/api/events", tenant=external_id, json=body)
            event_id = answer.json()["id"]
            unkeyed.append(time.perf_counter() - clock)
        else:
            event_id = client.events.send(external_id, "price_above", DATA).id
            keyed.append(time.perf_counter() - clock)
        fired[f"{path} {event_id}"] = started
    arrived = _wait_all(bench, count, "client")
    end_to_end = [arrived[name] - started for name, started in fired.items() if name in arrived]
    ms = 1000
    return {
        "send_p50_ms": percentile(keyed, 0.50) * ms,
        "send_p99_ms": percentile(keyed, 0.99) * ms,
        "end_to_end_p50_ms": percentile(end_to_end, 0.50) * ms,
        "end_to_end_p99_ms": percentile(end_to_end, 0.99) * ms,
        "unkeyed_p50_ms": percentile(unkeyed, 0.50) * ms,
        "key_cost_ms": (percentile(keyed, 0.50) - percentile(unkeyed, 0.50)) * ms,
    }
