"""Services refuse bad input with a clear error and store nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, Event, Webhook
from app.services import connections, events, users, webhooks
from app.services.errors import Conflict, PayloadTooLarge, ValidationError
from app.services.webhooks import WebhookInput


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (WebhookInput(name="", url="https://x.example/h", events=["custom"]), "name"),
        (WebhookInput(name="n" * 101, url="https://x.example/h", events=["custom"]), "name"),
        (WebhookInput(name="nul\x00", url="https://x.example/h", events=["custom"]), "name"),
        (WebhookInput(name="half \ud800", url="https://x.example/h", events=["custom"]), "name"),
        (WebhookInput(name="ok", url="ftp://x.example/h", events=["custom"]), "url"),
        (WebhookInput(name="ok", url="not a url", events=["custom"]), "url"),
        (WebhookInput(name="ok", url="", events=["custom"]), "url"),
        (WebhookInput(name="ok", url="https://x.example/h", events=[]), "events"),
        (WebhookInput(name="ok", url="https://x.example/h", events=["price_alert"]), "events"),
        (WebhookInput(name="ok", url="https://x.example/h", events=["test"]), "events"),
        (
            WebhookInput(name="ok", url="https://x.example/h", events=["custom"], format="xml"),
            "format",
        ),
    ],
)
def test_bad_webhooks_are_refused_at_their_field_and_nothing_is_stored(make_user, data, field):
    owner = make_user()
    before = count(Webhook)
    with pytest.raises(ValidationError) as refused:
        webhooks.register_webhook(owner, data)
    assert field in refused.value.fields
    assert count(Webhook) == before


def test_https_is_required_unless_configured_otherwise(make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_REQUIRE_HTTPS", True)
    with pytest.raises(ValidationError, match="https"):
        webhooks.register_webhook(
            make_user(), WebhookInput(name="n", url="http://x.example/h", events=["custom"])
        )


def test_the_secret_is_encrypted_at_rest(make_webhook):
    webhook, secret = make_webhook("https://x.example/h")
    stored = db.session.execute(
        sa.text("SELECT secret_encrypted FROM webhooks WHERE id = :id"), {"id": webhook.id}
    ).scalar_one()
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert webhooks.reveal_secret(webhook) == secret
    assert webhooks.as_dict(webhook)["secret"] == f"whsec_••••{secret[-4:]}"


def test_rotation_keeps_the_old_secret_signing(make_webhook):
    webhook, old = make_webhook("https://x.example/h")
    new = webhooks.rotate_secret(webhook)
    assert new != old
    assert webhooks.signing_secrets(webhook) == [new, old]


def test_the_per_user_limit_is_enforced(make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_PER_USER", 2)
    owner = make_user()
    data = WebhookInput(name="n", url="https://x.example/h", events=["custom"])
    webhooks.register_webhook(owner, data)
    webhooks.register_webhook(owner, data)
    with pytest.raises(Conflict, match="most allowed is 2"):
        webhooks.register_webhook(owner, data)


def test_update_changes_subscriptions_and_validates(make_webhook):
    webhook, _ = make_webhook("https://x.example/h", events=["price_above"])
    webhooks.update_webhook(webhook, WebhookInput(events=["custom", "trade_executed"]))
    assert webhook.events == ["custom", "trade_executed"]
    with pytest.raises(ValidationError):
        webhooks.update_webhook(webhook, WebhookInput(events=[]))
    db.session.rollback()
    assert webhooks.get_webhook(webhook.id).events == ["custom", "trade_executed"]


@pytest.mark.parametrize(
    ("event_type", "data", "error"),
    [
        ("price_alert", {}, ValidationError),
        ("test", {}, ValidationError),
        (None, {}, ValidationError),
        ("custom", ["not", "an", "object"], ValidationError),
        ("custom", "text", ValidationError),
        ("custom", {"text": "half a surrogate \ud800"}, ValidationError),
    ],
)
def test_bad_events_are_refused_and_not_stored(make_user, event_type, data, error):
    owner = make_user()
    before = count(Event)
    with pytest.raises(error):
        events.trigger_event(owner, event_type, data)
    assert count(Event) == before


def test_oversized_event_data_is_refused(make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_PAYLOAD_BYTES", 100)
    with pytest.raises(PayloadTooLarge, match="most accepted is 100"):
        events.trigger_event(make_user(), "custom", {"blob": "x" * 200})


def test_users_need_a_valid_unique_email_and_a_long_password(make_user):
    with pytest.raises(ValidationError) as refused:
        users.create_user("nobody", "short")
    assert set(refused.value.fields) == {"email", "password"}
    user = make_user()
    with pytest.raises(Conflict):
        users.create_user(user.email.upper(), "long enough password")


def test_api_tokens_are_stored_hashed_and_can_be_revoked(make_user):
    user = make_user()
    token = users.create_api_token(user)
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored
    assert users.user_for_token(token).id == user.id
    users.revoke_api_token(user, users.list_api_tokens(user)[0].id)
    assert users.user_for_token(token) is None


def test_authenticate_checks_the_password(make_user):
    user = make_user(password="correct horse")
    assert users.authenticate(user.email, "correct horse").id == user.id
    assert users.authenticate(user.email, "wrong") is None
    assert users.authenticate("nobody@example.com", "correct horse") is None


def test_an_unknown_email_costs_a_password_check_too(make_user, monkeypatch):
    """Without it an unknown address answers ten times faster, telling who has an account."""
    checked: list[str] = []
    real_check = users.check_password_hash

    def check(stored: str, password: str) -> bool:
        checked.append(stored)
        return real_check(stored, password)

    monkeypatch.setattr(users, "check_password_hash", check)
    user = make_user(password="correct horse")
    assert users.authenticate("nobody@example.com", "correct horse") is None
    assert users.authenticate(user.email, "wrong") is None
    unknown, known = checked
    method = known.split("$", 1)[0]  # e.g. scrypt:32768:8:1, the cost of the check
    assert unknown != known and unknown.split("$", 1)[0] == method
    assert not real_check(unknown, "correct horse")


@pytest.mark.parametrize(
    "password", ["12345678", "password", "aaaaaaaa", "qwerty123", "jane.doe2026"]
)
def test_passwords_are_judged_by_strength_not_length(ctx, password):
    with pytest.raises(ValidationError) as refused:
        users.create_user("jane.doe@example.com", password)
    assert refused.value.fields["password"][0].startswith("This password is too easy to guess.")


def test_listing_webhooks_takes_a_fixed_number_of_queries(app, make_webhook):
    owner = make_webhook("http://127.0.0.1:9/a")[0].user
    for n in range(5):
        make_webhook(f"http://127.0.0.1:9/{n}", user=owner)
    db.session.expire_all()
    assert owner.email  # loaded again before counting
    statements = []

    def listener(*args: object) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        listed = webhooks.list_webhooks(owner)
        shown = [(w.events, w.user.email) for w in listed]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert len(shown) == 6
    # The webhooks, then their subscriptions and their owners: one query each, not one per row.
    assert len(statements) == 3, statements


def test_only_a_deliverys_progress_commits_without_waiting_for_the_disk(ctx):
    if not connections.on_postgres():
        pytest.skip("SQLite commits every statement in the session's transaction")
    show = sa.text("SHOW synchronous_commit")
    with connections.progress() as connection:
        assert connection.scalar(show) == "off"
    with connections.autocommit() as connection:  # storing events, among others
        assert connection.scalar(show) == "on"
    assert db.session.scalar(show) == "on"
