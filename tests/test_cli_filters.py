"""`flask webhooks create --filter/--rate-limit`, `set-filter`, `set-rate-limit`,
`set-ordered`, and `trigger --expires-in`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.extensions import db
from app.models import Delivery, Webhook
from app.services import users
from tests.test_cli import invoke

TRADES = "trade_executed"


@pytest.fixture
def email(make_user) -> str:
    return make_user().email


def stored(webhook_id: str) -> Webhook:
    db.session.expire_all()
    return db.session.get(Webhook, int(webhook_id))


def fire(runner, email_address: str, **data: object) -> str:
    fired = invoke(
        runner, "webhooks", "trigger", TRADES, "--user", email_address, "--data", json.dumps(data)
    )
    assert fired.exit_code == 0, fired.output
    return fired.output.split()[1]


def test_create_with_a_filter_and_a_rate_limit(runner, email, ctx):
    created = invoke(
        runner,
        "webhooks",
        "create",
        "--user",
        email,
        "--name",
        "Buys",
        "--url",
        "http://127.0.0.1:9/h",
        "--events",
        TRADES,
        "--filter",
        '{"data.side": "buy"}',
        "--rate-limit",
        "5/second",
    )
    assert created.exit_code == 0, created.output
    webhook_id = re.search(r"id: (\d+)", created.output).group(1)
    webhook = stored(webhook_id)
    assert (webhook.filter, webhook.rate_limit) == ('{"data.side":"buy"}', "5/second")
    assert fire(runner, email, side="sell") == "0"
    assert fire(runner, email, side="buy") == "1"


def test_create_refuses_a_bad_filter_in_one_line(runner, email, ctx):
    created = invoke(
        runner,
        "webhooks",
        "create",
        "--user",
        email,
        "--name",
        "Bad",
        "--url",
        "http://127.0.0.1:9/h",
        "--events",
        TRADES,
        "--filter",
        '{"data.x": {"$near": 1}}',
    )
    assert created.exit_code == 1
    assert "Error: filter: data.x: unknown operator $near" in created.output
    assert "Traceback" not in created.output
    assert users.get_user_by_email(email).webhooks == []


def test_set_filter_then_clear_it(runner, email, ctx):
    created = invoke(
        runner,
        "webhooks",
        "create",
        "--user",
        email,
        "--name",
        "All",
        "--url",
        "http://127.0.0.1:9/h",
        "--events",
        TRADES,
    )
    webhook_id = re.search(r"id: (\d+)", created.output).group(1)
    condition = '{"data": {"symbol": {"$in": ["AAPL", "TSLA"]}}}'

    result = invoke(runner, "webhooks", "set-filter", webhook_id, condition)
    assert result.exit_code == 0, result.output
    assert 'filter {"data":{"symbol":{"$in":["AAPL","TSLA"]}}}' in result.output
    assert fire(runner, email, symbol="MSFT") == "0"

    result = invoke(runner, "webhooks", "set-filter", webhook_id, "--clear")
    assert result.exit_code == 0 and "no filter" in result.output
    assert stored(webhook_id).filter is None
    assert fire(runner, email, symbol="MSFT") == "1"

    both = invoke(runner, "webhooks", "set-filter", webhook_id, condition, "--clear")
    assert both.exit_code == 2 and "not both" in both.output
    bad = invoke(runner, "webhooks", "set-filter", webhook_id, '{"data.x": {"$in": 1}}')
    assert bad.exit_code == 1 and "$in takes a list of values" in bad.output


def test_set_rate_limit_and_back_to_the_default(runner, email, ctx):
    created = invoke(
        runner,
        "webhooks",
        "create",
        "--user",
        email,
        "--name",
        "Chat",
        "--url",
        "http://127.0.0.1:9/h",
        "--events",
        TRADES,
        "--format",
        "telegram",
    )
    webhook_id = re.search(r"id: (\d+)", created.output).group(1)

    result = invoke(runner, "webhooks", "set-rate-limit", webhook_id, "2/minute")
    assert result.exit_code == 0 and "rate limit 2/minute" in result.output
    assert stored(webhook_id).rate_limit == "2/minute"

    result = invoke(runner, "webhooks", "set-rate-limit", webhook_id, "--default")
    assert result.exit_code == 0 and "rate limit 20/minute" in result.output
    assert stored(webhook_id).rate_limit is None

    bad = invoke(runner, "webhooks", "set-rate-limit", webhook_id, "2/fortnight")
    assert bad.exit_code == 1 and 'Write it as "N/second"' in bad.output


def create(runner, email_address: str, events: str = TRADES) -> str:
    created = invoke(
        runner,
        "webhooks",
        "create",
        "--user",
        email_address,
        "--name",
        "Bot",
        "--url",
        "http://127.0.0.1:9/h",
        "--events",
        events,
    )
    assert created.exit_code == 0, created.output
    return re.search(r"id: (\d+)", created.output).group(1)


def test_set_ordered_on_then_off(runner, email, ctx):
    webhook_id = create(runner, email)

    turned_on = invoke(runner, "webhooks", "set-ordered", webhook_id, "on")
    assert turned_on.exit_code == 0, turned_on.output
    assert turned_on.output == f"Webhook {webhook_id}: ordered, one delivery at a time.\n"
    assert stored(webhook_id).ordered is True

    turned_off = invoke(runner, "webhooks", "set-ordered", webhook_id, "off")
    assert turned_off.exit_code == 0, turned_off.output
    assert turned_off.output == f"Webhook {webhook_id}: not ordered.\n"
    assert stored(webhook_id).ordered is False


def test_set_ordered_refuses_what_is_not_on_or_off(runner, email, ctx):
    webhook_id = create(runner, email)
    result = invoke(runner, "webhooks", "set-ordered", webhook_id, "yes")
    assert result.exit_code == 2
    assert "'yes' is not one of 'on', 'off'" in result.output
    assert "Traceback" not in result.output
    missing = invoke(runner, "webhooks", "set-ordered", "999999", "on")
    assert missing.exit_code == 1 and missing.output.startswith("Error: ")
    assert "Traceback" not in missing.output


def expiry_of(event_id: str) -> object:
    db.session.expire_all()
    return db.session.scalars(sa.select(Delivery.expires_at).filter_by(event_id=event_id)).one()


def trigger(runner, email_address: str, event_type: str, *options: str):
    return invoke(
        runner, "webhooks", "trigger", event_type, "--user", email_address, "--data", "{}", *options
    )


@pytest.mark.parametrize(("options", "ttl"), [(["--expires-in", "120"], 120), ([], None)])
def test_trigger_expires_in_sets_the_deliverys_expiry(runner, email, ctx, options, ttl):
    create(runner, email, events="custom")
    with freeze_time("2026-03-02 14:30:00"):
        fired = trigger(runner, email, "custom", *options)
    assert fired.exit_code == 0, fired.output
    event_id, deliveries = fired.output.split()
    assert deliveries == "1"
    # custom has no WEBHOOK_EVENT_TTL default: without --expires-in it never expires
    expected = None if ttl is None else datetime(2026, 3, 2, 14, 32, tzinfo=UTC)
    assert expiry_of(event_id) == expected


@pytest.mark.parametrize("value", ["0", "-5", "2592001", "soon"])
def test_trigger_refuses_a_bad_expires_in_in_one_line(runner, email, ctx, value):
    webhook_id = create(runner, email, events="custom")
    fired = trigger(runner, email, "custom", "--expires-in", value)
    assert fired.exit_code == 2
    assert "Invalid value for '--expires-in'" in fired.output
    assert "Traceback" not in fired.output
    assert db.session.scalars(sa.select(Delivery).filter_by(webhook_id=int(webhook_id))).all() == []
