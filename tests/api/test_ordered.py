"""`ordered` on a webhook: set and shown by the API, the form and the CLI."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Webhook
from tests.api.conftest import error_of
from tests.pages.conftest import page_client, sign_in
from tests.pages.test_auth_pages import post_form
from tests.test_cli import invoke


def test_the_api_sets_and_shows_ordered(api, hook_url):
    created = api.create_webhook(hook_url, events=["trade_executed"], ordered=True)
    assert created["ordered"] is True
    path = f"/api/webhooks/{created['id']}"
    assert api.get(path).get_json()["ordered"] is True
    assert api.patch(path, json={"name": "renamed"}).get_json()["ordered"] is True, "kept"
    assert api.patch(path, json={"ordered": False}).get_json()["ordered"] is False
    assert api.create_webhook(hook_url)["ordered"] is False, "off unless asked for"
    refused = api.patch(path, json={"ordered": "yes"})
    assert refused.status_code == 422 and "ordered" in error_of(refused)["fields"]


def test_the_form_sets_ordered(app, make_user):
    user = make_user()
    client = sign_in(page_client(app), user)
    data = {"name": "Bot", "url": "http://127.0.0.1:9/bot", "events": ["trade_executed"]}
    post_form(client, "/webhooks/new", {**data, "format": "json", "ordered": "y"})
    webhook = db.session.scalars(sa.select(Webhook).where(Webhook.user_id == user.id)).one()
    assert webhook.ordered is True
    page = client.get(f"/webhooks/{webhook.id}/edit").get_data(as_text=True)
    (checkbox,) = re.findall(r'<input[^>]*id="ordered"[^>]*>', page)
    assert "checked" in checkbox


def test_the_cli_creates_an_ordered_webhook(runner, make_user):
    email = make_user().email
    created = invoke(
        runner, "webhooks", "create", "--user", email, "--name", "Bot",
        "--url", "http://127.0.0.1:9/bot", "--events", "trade_executed", "--ordered",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    webhook_id = int(re.search(r"id: (\d+)", created.output).group(1))
    db.session.expire_all()
    assert db.session.get(Webhook, webhook_id).ordered is True
