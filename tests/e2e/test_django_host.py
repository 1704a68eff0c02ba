"""examples/django_host end to end: a real Django host (runserver, its own users and database)
talking to the live Signalpost through signalpost_client, a real receiver, and Chromium.

A user signs up on the host (which makes their tenant), the host's price alert fires
`price_above` through the client, the delivery arrives signed, and the host's "Webhooks" menu
item signs the user into Signalpost's pages through a sign-in link.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from standardwebhooks import Webhook as StandardWebhook

from app.services import operator_keys, sources, users
from tests.support.processes import REPO, free_port, wait_for_port
from tests.support.receiver import Receiver
from tests.support.waiting import wait_for

DJANGO_HOST = REPO / "examples" / "django_host"

pytestmark = pytest.mark.usefixtures("worker")


@dataclass
class Host:
    url: str
    signalpost: str
    tenant_prefix: str
    log: Path


@pytest.fixture
def django_host(linked_live_server: str, ctx: None, tmp_path: Path) -> Iterator[Host]:
    """The example host under `manage.py runserver`, with its own SQLite database, talking to
    a live Signalpost whose sign-in links lead back to it."""
    _, key = operator_keys.create_key(f"django host {uuid.uuid4().hex[:6]}")
    prefix = f"django-{uuid.uuid4().hex[:8]}:"
    env = {
        **os.environ,
        "SIGNALPOST_URL": linked_live_server,
        "SIGNALPOST_KEY": key,
        "SIGNALPOST_TENANT_PREFIX": prefix,
        "DJANGO_DATABASE": str(tmp_path / "host.sqlite3"),
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=DJANGO_HOST, env=env, check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    log = tmp_path / "django.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=DJANGO_HOST,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port)
        yield Host(f"http://127.0.0.1:{port}", linked_live_server, prefix, log)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_host_user_signs_up_fires_an_alert_and_reaches_the_webhook_pages(
    django_host: Host, page, make_webhook, receiver: Receiver
) -> None:
    email = f"ann-{uuid.uuid4().hex[:6]}@example.com"
    page.goto(f"{django_host.url}/signup/")
    page.fill("#id_username", "ann")
    page.fill("#id_email", email)
    page.fill("#id_password1", "correct horse battery staple")
    page.fill("#id_password2", "correct horse battery staple")
    page.click("button:text('Sign up')")
    page.wait_for_selector("h1:text('Price alerts')")

    # Signing up signed the user in, and that made their tenant: our user 1.
    tenant = wait_for(lambda: users.tenant_user(f"{django_host.tenant_prefix}1"))
    assert tenant.email == email
    _, secret = make_webhook(receiver.url, user=tenant, name="Ann's price alerts")

    page.fill("#id_symbol", "ACME")
    page.select_option("#id_condition", "above")
    page.fill("#id_target_price", "100")
    page.click("button:text('Add alert')")
    page.fill("#alert-1 input[name=price]", "101.50")
    page.click("#alert-1 button:text('Record price')")
    page.wait_for_selector("text=ACME alert fired: 1 webhook(s).")

    wait_for(lambda: receiver.requests)
    delivery = receiver.requests[0]
    envelope = StandardWebhook(secret).verify(delivery.body, delivery.headers)
    assert envelope["event"] == "price_above"
    assert envelope["id"] in page.inner_text("#alert-1")
    data = json.loads(delivery.body)["data"]
    alert = SimpleNamespace(
        id=1,
        symbol="ACME",
        condition="above",
        target_price=Decimal("100"),
        current_price=Decimal("101.5"),
        currency="USD",
        triggered_at=datetime.fromisoformat(data["triggered_at"]),
    )
    assert ("price_above", data) == sources.price_alert_data(alert)

    # "Webhooks" on the host: a sign-in link, and the user is in Signalpost's pages as themself.
    page.click("nav a:text('Webhooks')")
    page.wait_for_url(f"{django_host.signalpost}/webhooks")
    assert "Ann's price alerts" in page.content()
    # Each visit makes a new single-use link: the item works every time, in a fresh session too.
    second = page.context.browser.new_context()
    try:
        again = second.new_page()
        again.goto(f"{django_host.url}/login/")
        again.fill("#id_username", "ann")
        again.fill("#id_password", "correct horse battery staple")
        again.click("button:text('Sign in')")
        again.click("nav a:text('Webhooks')")
        again.wait_for_url(f"{django_host.signalpost}/webhooks")
        assert "Ann's price alerts" in again.content()
    finally:
        second.close()
