"""The processes a bench run needs, started and always stopped again.

A PostgreSQL database of its own on the running server, a Redis database number of its own
(claimed the way the test suite claims one), the receiver under gunicorn + gevent, and
`celery -A tasks worker --pool threads` processes as docs/operations.md runs them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.receiver import ARRIVALS
from tests.support.processes import REPO, Worker, free_port, wait_for_port

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
CLAIM_KEY = "signalpost:test-db:{}"  # shared with tests/conftest.py, so neither takes the other's


@contextmanager
def bench_database() -> Iterator[str]:
    name = f"signalpost_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_database() -> Iterator[str]:
    client = redis.Redis.from_url(f"{REDIS_URL}/0")
    token = uuid.uuid4().hex
    for number in range(1, 16):
        if client.set(CLAIM_KEY.format(number), token, nx=True, ex=3600):
            break
    else:
        raise SystemExit("every Redis database 1-15 is claimed by a test or bench run")
    url = f"{REDIS_URL}/{number}"
    numbered = redis.Redis.from_url(url)
    numbered.flushdb()
    try:
        yield url
    finally:
        numbered.flushdb()
        if client.get(CLAIM_KEY.format(number)) == token.encode():
            client.delete(CLAIM_KEY.format(number))


def settings_for(
    database_url: str, broker_url: str, timeout: int, retry_delays: str = "3600"
) -> dict[str, str]:
    """What the web side and the workers share; retries are pushed past the end of the run
    unless `retry_delays` says otherwise."""
    return {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        # As README's production setup: rate-limit counts in Redis, not the database.
        "REDIS_URL": broker_url,
        "SECRET_KEY": "bench-secret-key-of-at-least-32-bytes",
        "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_REQUIRE_HTTPS": "false",
        "WEBHOOK_RATE_LIMIT": "100000/minute",
        "WEBHOOK_TIMEOUT": str(timeout),
        "WEBHOOK_RETRY_DELAYS": retry_delays,
    }


@dataclass
class Receiver:
    """gunicorn -k gevent serving bench.receiver on a free port of 127.0.0.1."""

    redis_url: str
    log: Path
    hang_seconds: float
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [
            gunicorn, "-k", "gevent", "-w", str(self.workers), "--worker-connections", "2000",
            "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "1", "--log-level", "warning",
            # gunicorn closes idle keep-alive connections after 2 s by default; a worker thread
            # that reuses one just then gets a reset (see docs/performance.md). 75 s, as nginx.
            "--keep-alive", "75",
            "bench.receiver:app",
        ]  # fmt: skip
        env = {
            **os.environ,
            "BENCH_RECEIVER_REDIS": self.redis_url,
            "BENCH_HANG_SECONDS": str(self.hang_seconds),
        }
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class Arrivals:
    """What the receiver recorded: `<path> <event id>` → arrival time."""

    def __init__(self, redis_url: str) -> None:
        self.client = redis.Redis.from_url(redis_url)

    def clear(self) -> None:
        self.client.delete(ARRIVALS)

    def count(self) -> int:
        return int(self.client.hlen(ARRIVALS))

    def wait_for(self, expected: int, timeout: float, stall: float = 60) -> int:
        """Wait until `expected` arrived, or for `timeout`, or until none came for `stall`."""
        deadline = time.monotonic() + timeout
        seen, progressed = 0, time.monotonic()
        while seen < expected:
            now = time.monotonic()
            if now > deadline or now - progressed > stall:
                break
            time.sleep(0.02)
            if (count := self.count()) > seen:
                seen, progressed = count, now
        return seen

    def times(self) -> dict[str, float]:
        raw = self.client.hgetall(ARRIVALS)
        return {key.decode(): float(value) for key, value in raw.items()}


def start_workers(
    settings: dict[str, str], folder: Path, count: int, concurrency: int, pool: str = "threads"
):
    workers = []
    for number in range(count):
        log = folder / f"worker-{number + 1}.log"
        workers.append(Worker(settings, log, concurrency=concurrency, pool=pool).start())
    for worker in workers:
        _wait_ready(worker)
    return workers


def _wait_ready(worker: Worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive:
            raise RuntimeError(f"a worker exited at start; see {worker.log}")
        if b" ready." in worker.log.read_bytes():
            return
        time.sleep(0.1)
    raise RuntimeError(f"a worker was not ready after {timeout}s; see {worker.log}")


def rss_bytes(pid: int) -> int:
    """Resident memory of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextmanager
def profiled(pids: dict[str, int], folder: Path, gil: bool = False) -> Iterator[None]:
    """py-spy samples each named process meanwhile into `<name>.txt` (collapsed stacks);
    with `gil`, only the thread holding the GIL: where the CPU goes."""
    folder.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "-p",
                str(pid),
                "-r",
                "200",
                "--format",
                "raw",
                "-o",
                str(folder / f"{name}.txt"),
                "--nonblocking",
                *(["--gil"] if gil else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            spy.wait(timeout=60)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends_of(database_url: str) -> list[int]:
    """PostgreSQL server processes serving this database (its connections)."""
    name = sa.make_url(database_url).database
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text.startswith("postgres: ") and f" {name} " in text:
            pids.append(int(cmdline.parent.name))
    return pids


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class CpuMeter:
    """CPU seconds spent by each part of the stack between two readings.

    On a shared 2-core machine wall time drifts with whatever else runs; CPU time per delivery
    does not, so it says where the cost is."""

    def __init__(self, parts: dict[str, Callable[[], list[int]]]) -> None:
        self.parts = parts

    def read(self) -> dict[str, float]:
        totals = {}
        for name, pids in self.parts.items():
            total = 0.0
            for pid in pids():
                with suppress(OSError):
                    total += cpu_seconds(pid)
            totals[name] = total
        return totals
