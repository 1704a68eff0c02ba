"""The admin CLI, end to end: create, trigger, see it arrive, read the logs."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.services import events, logs, users
from tests.support.receiver import Reply
from tests.support.waiting import wait_for


@pytest.fixture
def email(make_user) -> str:
    return make_user().email


def invoke(runner, *args: str):
    return runner.invoke(args=list(args))


def create_webhook(runner, email: str, url: str, events: str = "custom") -> tuple[str, str]:
    """Run `flask webhooks create`; returns the printed id and the whole output."""
    created = invoke(
        runner,
        "webhooks",
        "create",
        "--user",
        email,
        "--name",
        "Bot",
        "--url",
        url,
        "--events",
        events,
    )
    assert created.exit_code == 0, created.output
    return re.search(r"id: (\d+)", created.output).group(1), created.output


def test_users_create_and_token(runner, ctx):
    result = invoke(runner, "users", "create", "CLI@Example.com", "--password", "a long password")
    assert result.exit_code == 0, result.output
    assert "cli@example.com" in result.output
    token = invoke(runner, "users", "token", "cli@example.com").output.strip()
    assert token.startswith("sp_")
    assert users.user_for_token(token).email == "cli@example.com"


def test_users_disable_and_enable(runner, make_user):
    user = make_user()
    disabled = invoke(runner, "users", "disable", user.email.upper())
    assert disabled.exit_code == 0, disabled.output
    assert "their sessions have ended" in disabled.output
    db.session.expire_all()
    assert not users.get_user_by_email(user.email).is_active
    assert users.authenticate(user.email, "a long password") is not None, "the password is kept"
    enabled = invoke(runner, "users", "enable", user.email)
    assert enabled.exit_code == 0 and "can sign in again" in enabled.output
    db.session.expire_all()
    assert users.get_user_by_email(user.email).is_active
    unknown = invoke(runner, "users", "disable", "nobody@example.com")
    assert unknown.exit_code == 1 and "No user with email nobody@example.com." in unknown.output


def test_refusals_are_one_line_errors_not_tracebacks(runner, email):
    duplicate = invoke(runner, "users", "create", email, "--password", "a long password")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    unknown = invoke(runner, "webhooks", "trigger", "price_alert", "--user", email)
    assert unknown.exit_code == 1 and "Unknown event type 'price_alert'" in unknown.output
    bad_json = invoke(runner, "webhooks", "trigger", "custom", "--user", email, "--data", "{x")
    assert bad_json.exit_code == 2 and "not valid JSON" in bad_json.output
    missing = invoke(runner, "webhooks", "enable", "999999")
    assert missing.exit_code == 1 and "No webhook with id 999999" in missing.output
    for result in (duplicate, unknown, bad_json, missing):
        assert "Traceback" not in result.output


@pytest.mark.usefixtures("worker")
def test_create_trigger_deliver_and_read_the_logs(runner, email, receiver):
    webhook_id, output = create_webhook(runner, email, receiver.url, "price_above, trade_executed")
    assert re.search(r"secret: whsec_\S+", output)

    listed = invoke(runner, "webhooks", "list", "--user", email).output
    assert "price_above,trade_executed" in listed and "active" in listed

    data = json.dumps({"symbol": "AAPL", "price": "185.50"})
    fired = invoke(runner, "webhooks", "trigger", "price_above", "--user", email, "--data", data)
    assert fired.exit_code == 0, fired.output
    event_id, deliveries = fired.output.split()
    assert event_id.startswith("evt_") and deliveries == "1"

    wait_for(lambda: receiver.requests)
    assert json.loads(receiver.requests[0].body)["data"] == {"symbol": "AAPL", "price": "185.50"}
    logs = wait_for(
        lambda: (
            "succeeded" in (out := invoke(runner, "webhooks", "logs", webhook_id).output) and out
        )
    )
    assert event_id in logs and "attempt 1" in logs and "status=200" in logs


def test_test_command_reports_the_answer(runner, email, receiver):
    webhook_id, _ = create_webhook(runner, email, receiver.url)
    result = invoke(runner, "webhooks", "test", webhook_id)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status_code"] == 200
    assert json.loads(receiver.requests[0].body)["event"] == "test"


def test_disable_and_enable(runner, email):
    webhook_id, _ = create_webhook(runner, email, "http://127.0.0.1:9/h")
    assert "disabled" in invoke(runner, "webhooks", "disable", webhook_id).output
    assert "disabled (Disabled by an admin.)" in invoke(runner, "webhooks", "list").output
    invoke(runner, "webhooks", "enable", webhook_id)
    fired = invoke(runner, "webhooks", "trigger", "custom", "--user", email)
    assert fired.output.split()[1] == "1"


@pytest.mark.usefixtures("worker")
def test_replay_sends_a_time_range_again_under_the_same_ids(runner, make_webhook, receiver):
    from app.models import utcnow

    webhook, _ = make_webhook(receiver.url)
    receiver.reply(Reply(400, "no"))
    first = events.trigger_event(webhook.user, "price_above", {"n": 1})
    second = events.trigger_event(webhook.user, "price_above", {"n": 2})
    wait_for(lambda: len(receiver.requests) == 2)
    wait_for(
        lambda: (
            logs.get_webhook_logs(webhook)[0][1].status in ("failed", "succeeded")
            and logs.get_webhook_logs(webhook)[0][0].status in ("failed", "succeeded")
        )
    )
    since = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")

    failed = invoke(
        runner, "webhooks", "replay", str(webhook.id), "--since", since, "--failed-only"
    )
    assert failed.output.strip() == "Queued 1 deliveries again."
    wait_for(lambda: len(receiver.requests) == 3)
    replayed = receiver.requests[2].headers["X-Webhook-Id"]
    failed_id = receiver.requests[0].headers["X-Webhook-Id"]
    assert replayed == failed_id and failed_id in (first.event_id, second.event_id)

    everything = invoke(runner, "webhooks", "replay", str(webhook.id), "--since", since)
    assert everything.output.strip() == "Queued 2 deliveries again."
    wait_for(lambda: len(receiver.requests) == 5)
    assert {r.headers["X-Webhook-Id"] for r in receiver.requests[3:]} == {
        first.event_id,
        second.event_id,
    }


def test_replay_missed_queues_the_events_fired_while_disabled(runner, make_webhook):
    from app.models import utcnow

    webhook, _ = make_webhook("http://127.0.0.1:9/hook", events=["price_above"])
    since = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    invoke(runner, "webhooks", "disable", str(webhook.id))
    events.trigger_event(webhook.user, "price_above", {"n": 1})
    invoke(runner, "webhooks", "enable", str(webhook.id))

    plain = invoke(runner, "webhooks", "replay", str(webhook.id), "--since", since)
    assert plain.output.strip() == "Queued 0 deliveries again."
    missed = invoke(runner, "webhooks", "replay", str(webhook.id), "--since", since, "--missed")
    assert missed.output.strip() == "Queued 1 deliveries again."
