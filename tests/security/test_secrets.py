"""Endpoint secrets at rest: encrypted, and re-encrypted under a new key by one command."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.extensions import db
from app.services import webhooks
from app.services.delivery import test_send
from tests.support.receiver import Reply


def stored(webhook_id: int) -> tuple[str, str | None]:
    row = db.session.execute(
        sa.text("SELECT secret_encrypted, previous_secret_encrypted FROM webhooks WHERE id = :id"),
        {"id": webhook_id},
    ).one()
    return row[0], row[1]


def test_the_stored_columns_hold_no_plaintext_secret(make_webhook, app):
    webhook, secret = make_webhook("http://127.0.0.1:9/hook")
    new_secret = webhooks.rotate_secret(webhook)

    current, previous = stored(webhook.id)

    for plaintext in (secret, new_secret):
        assert plaintext not in current and plaintext not in previous
        assert plaintext.removeprefix("whsec_") not in current + previous
    key = Fernet(app.config["WEBHOOK_ENCRYPTION_KEY"])
    assert key.decrypt(current.encode()).decode() == new_secret
    assert key.decrypt(previous.encode()).decode() == secret


@pytest.fixture
def new_key(app, ctx, runner, monkeypatch):
    """A second key, first in the list; afterwards every secret goes back under the old one."""
    old = app.config["WEBHOOK_ENCRYPTION_KEY"]
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "WEBHOOK_ENCRYPTION_KEY", f"{new},{old}")
    yield new
    app.config["WEBHOOK_ENCRYPTION_KEY"] = f"{old},{new}"
    assert runner.invoke(args=["webhooks", "reencrypt-secrets"]).exit_code == 0


def test_reencrypt_puts_every_secret_under_the_new_key(app, make_webhook, runner, new_key):
    webhook, secret = make_webhook("http://127.0.0.1:9/hook")
    new_secret = webhooks.rotate_secret(webhook)

    result = runner.invoke(args=["webhooks", "reencrypt-secrets"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Re-encrypted the secrets of ")
    db.session.expire_all()
    current, previous = stored(webhook.id)
    only_new = Fernet(new_key)
    assert only_new.decrypt(current.encode()).decode() == new_secret
    assert only_new.decrypt(previous.encode()).decode() == secret
    # The service, under the new key alone, still signs with both secrets.
    app.config["WEBHOOK_ENCRYPTION_KEY"] = new_key
    assert webhooks.signing_secrets(webhook) == [new_secret, secret]


def test_reencrypt_without_the_old_key_changes_nothing(app, make_webhook, runner, monkeypatch):
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    before = stored(webhook.id)
    monkeypatch.setitem(app.config, "WEBHOOK_ENCRYPTION_KEY", Fernet.generate_key().decode())

    result = runner.invoke(args=["webhooks", "reencrypt-secrets"])

    assert result.exit_code == 1
    assert "No key in WEBHOOK_ENCRYPTION_KEY opens the secret of webhook" in result.output
    assert "Nothing was changed." in result.output
    db.session.rollback()
    assert stored(webhook.id) == before


def test_a_list_of_keys_with_a_bad_one_stops_start_up(settings):
    from app import create_app

    with pytest.raises(SystemExit) as stopped:
        create_app({**settings, "WEBHOOK_ENCRYPTION_KEY": f"{Fernet.generate_key().decode()},nope"})
    assert "WEBHOOK_ENCRYPTION_KEY" in str(stopped.value)


def test_no_secret_reaches_the_log(make_webhook, receiver, caplog):
    webhook, secret = make_webhook(receiver.url)
    receiver.default = Reply(500, "down")
    caplog.set_level(logging.DEBUG)

    test_send.test_webhook(webhook)
    rotated = webhooks.rotate_secret(webhook)
    test_send.test_webhook(webhook)

    assert len(receiver.requests) == 2
    assert caplog.records, "something was logged to look through"
    for plaintext in (secret, rotated):
        assert plaintext.removeprefix("whsec_") not in caplog.text
