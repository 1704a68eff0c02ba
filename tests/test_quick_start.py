"""The README's quick start, run as written by real processes in the checkout.

The commands come from the README itself, so the README cannot drift from what works. The
development settings are left out of the environment: the `flask` command must find them in
`.flaskenv`, and the worker through the Procfile's own command line. Only the receiver's port
(8000 may be taken here) and the database and broker folders (not the checkout's instance/)
differ from what a new user runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.support.processes import REPO, free_port

BIN = Path(sys.executable).parent
DEVELOPMENT_SETTINGS = ("WEBHOOK_REQUIRE_HTTPS", "WEBHOOK_ALLOW_PRIVATE_TARGETS")


def quick_start_blocks() -> list[list[str]]:
    """The shell commands of each ```sh block of the README's Quick start, one per line."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    commands = []
    for block in blocks:
        lines = [
            re.sub(r"(^|\s+)#\s.*$", "", line).strip()
            for line in block.replace("\\\n", " ").splitlines()
        ]
        commands.append([line for line in lines if line])
    return commands


@pytest.fixture
def checkout_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DEVELOPMENT_SETTINGS and key != "FLASK_SKIP_DOTENV"
    }
    env |= {
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'signalpost.sqlite'}",
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "SIGNALPOST_BROKER_DIR": str(tmp_path / "broker"),
        "SECRET_KEY": "quick-start-secret-key-of-32-bytes-or-more",
        "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    return env


def shell(command: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, shell=True, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A command that keeps running, in a process group of its own (its shell and children)."""
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            shell=True,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_text(path: Path, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {path} after {timeout}s:\n{content}")


def procfile_command(name: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} in the Procfile")


def test_the_blocks_are_the_ones_this_test_runs():
    make, second, listener, trigger = quick_start_blocks()
    assert make[0].startswith("make run")
    assert second[0] == "source .venv/bin/activate"
    assert "webhooks listen" in listener[-1] and "webhooks trigger" in trigger[0]


def test_the_quick_start_works_as_written(checkout_env, tmp_path):
    _, second, listener, trigger = quick_start_blocks()
    port = str(free_port())
    shell("flask --app app db upgrade", checkout_env)  # what make run does first

    created = "".join(shell(line.replace("8000", port), checkout_env) for line in second[1:])
    secret = re.search(r"secret: (whsec_\S+)", created).group(1)
    assert re.search(r"id: 1\b", created), created

    listen_log, worker_log = tmp_path / "listen.log", tmp_path / "worker.log"
    command = listener[-1].replace("8000", port).replace("'whsec_...'", f"'{secret}'")
    processes = []
    try:
        processes.append(start(command, checkout_env, listen_log))
        processes.append(start(procfile_command("worker"), checkout_env, worker_log))
        wait_for_text(listen_log, "Listening on")

        fired = shell(trigger[0], checkout_env)
        assert re.fullmatch(r"evt_[0-9a-f]+ 1\n", fired), fired
        received = wait_for_text(listen_log, "signature OK")
        assert fired.split()[0] in received and '"symbol":"AAPL"' in received

        logs = shell(trigger[1], checkout_env)
        assert f"{fired.split()[0]} price_above succeeded attempts=1" in logs
        assert "status=200" in logs
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
