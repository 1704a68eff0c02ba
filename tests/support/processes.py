"""Real processes for the fault tests: a private Redis, a private PostgreSQL, Celery workers.

Each is started on a free port of 127.0.0.1 in a temporary folder and can be stopped, killed
and started again; the fixtures that make them always stop them.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class PrivateRedis:
    """A Redis that keeps nothing on disk, so a restart loses every queued message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        _stop(self.process)


class PrivatePostgres:
    """A PostgreSQL cluster of its own, so stopping it disturbs nobody else's tests."""

    def __init__(self, folder: Path) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not binaries:
            raise RuntimeError("PostgreSQL server binaries are not installed")
        self.bin = Path(binaries[-1])
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()

    def _as_owner(self, command: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root; CI and sessions here are root.
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/signalpost"

    def init(self) -> PrivatePostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust")
        self.start()
        self._run(
            self.bin / "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            self.port,
            "-U",
            "postgres",
            "signalpost",
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("start", "-w", "-l", str(self.folder / "server.log"), "-o", options)
        wait_for_port(self.port)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", "fast")

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, *arguments)

    def _run(self, *command: object) -> None:
        argv = self._as_owner([str(part) for part in command])
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


class Worker:
    """`celery -A tasks worker` as operators run it, in a process of its own."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        concurrency: int = 8,
        pool: str = "threads",
        app_module: str = "tasks",  # what `-A` loads: a test's own module may wrap `tasks`
    ) -> None:
        self.env = {**os.environ, **env}
        self.log = log
        self.concurrency = concurrency
        self.pool = pool
        self.app_module = app_module
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        celery = str(Path(sys.executable).with_name("celery"))
        command = [
            celery,
            "-A",
            self.app_module,
            "worker",
            "--pool",
            self.pool,
            "--concurrency",
            str(self.concurrency),
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no chance to give messages back."""
        _stop(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None
