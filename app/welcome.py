"""`flask welcome`: what `make run` prints last, where the worker's banner cannot bury it.

make run starts it beside the web process, the worker and beat. It creates the first admin
when there is none, waits until the web UI answers and a worker answers a ping, then prints a
box with the address, the admin's sign-in and the next command to try. It stays up afterwards
(`--stay`), because honcho stops every process as soon as one of them ends.
"""

from __future__ import annotations

import contextlib
import threading
import time

import click
import requests
from celery import Celery
from flask import current_app

from app.services import users

POLL_SECONDS = 0.5


def box(lines: list[str]) -> str:
    """The lines in a frame of plain ASCII, which every terminal and log shows alike."""
    width = max(len(line) for line in lines)
    edge = "+" + "-" * (width + 2) + "+"
    return "\n".join([edge, *(f"| {line.ljust(width)} |" for line in lines), edge])


def welcome_lines(base_url: str, email: str, password: str | None) -> list[str]:
    """What a new user needs first: the address, how to sign in, the next command."""
    if password:
        sign_in = [f"Sign in as {email}", f"  password: {password}  (shown only now)"]
    else:
        sign_in = [
            f"Sign in as {email}; lost the password? Set a new one:",
            f"  flask --app app users set-password {email}",
        ]
    return [
        f"Signalpost is running at {base_url}",
        *sign_in,
        "",
        "Next, in another terminal (README, Quick start):",
        "  source .venv/bin/activate",
        f"  flask --app app webhooks list --user {email}",
    ]


def wait_until_up(base_url: str, celery: Celery, seconds: float) -> list[str]:
    """Wait up to `seconds` for the web UI and a worker; returns those that did not answer."""
    deadline = time.monotonic() + seconds
    missing = {"the web UI": True, "the worker": True}
    while any(missing.values()) and time.monotonic() < deadline:
        if missing["the web UI"]:
            try:
                answer = requests.get(f"{base_url}/healthz", timeout=2)
                missing["the web UI"] = answer.status_code != 200
            except requests.RequestException:
                pass
        if missing["the worker"]:
            missing["the worker"] = not celery.control.ping(timeout=1)
        if any(missing.values()):
            time.sleep(POLL_SECONDS)
    return [name for name, absent in missing.items() if absent]


@click.command("welcome")
@click.option("--wait", "wait_seconds", default=0.0, help="Seconds to wait for web and worker.")
@click.option("--stay", is_flag=True, help="Keep running once printed, until stopped.")
def welcome(wait_seconds: float, stay: bool) -> None:
    """Create the first admin if there is none, and print the box make run ends with."""
    created = users.ensure_admin()
    email = created[0].email if created else users.first_admin_email()
    base_url = current_app.config["BASE_URL"].rstrip("/")
    lines = welcome_lines(base_url, email, created[1] if created else None)
    if wait_seconds:
        silent = wait_until_up(base_url, current_app.extensions["celery"], wait_seconds)
        if silent:
            lines.append(f"({' and '.join(silent)} did not answer within {wait_seconds:g} s)")
    click.echo(box(lines))
    if stay:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: make run stops them all
            threading.Event().wait()
