"""Real events through the real worker to fake Discord, Slack and Telegram services on 127.0.0.1.

The fakes refuse what the real services refuse (see test_fake_services.py), so a succeeded
delivery here means the body met that service's documented constraints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import regex
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook as StandardWebhook

from app import sources
from app.domain.catalog import EVENT_TYPES, example_data
from app.domain.formats.text import ELLIPSIS
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery
from app.services import events
from app.services.delivery import test_send
from app.services.errors import ValidationError
from tests.support.receiver import Received
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")

FORMATS = ("discord", "slack", "telegram")
OK_STATUS = {"discord": 204, "slack": 200, "telegram": 200}
ALL_TYPES = [event.value for event in EVENT_TYPES]


def finished(webhook_id: int, count: int) -> list[Delivery] | None:
    rows = list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
        )
    )
    done = [row for row in rows if row.status not in OPEN_STATUSES]
    return rows if len(done) >= count else None


def by_event_id(service) -> dict[str, Received]:
    return {r.headers["X-Webhook-Id"]: r for r in service.receiver.requests}


def visible_text(format_name: str, body: dict) -> str:
    """The words a reader sees first: Discord's content, Slack's section, Telegram's text."""
    if format_name == "discord":
        return body["content"]
    if format_name == "slack":
        return body["blocks"][1]["text"]["text"]
    return body["text"].splitlines()[1]  # after the title line


@pytest.mark.parametrize("format_name", FORMATS)
def test_every_event_type_is_accepted_by_the_service(services, make_webhook, format_name):
    service = services[format_name]
    # Room for every type at once: each goes as its own message, none rides in a digest
    # (Slack's own budget is one a second; tests/formats/test_digests.py is about digests).
    webhook, secret = make_webhook(
        service.url, events=ALL_TYPES, format=format_name, rate_limit="100/second"
    )

    fired = [
        events.trigger_event(webhook.user, event_type, example_data(event_type)).event_id
        for event_type in ALL_TYPES
    ]

    rows = wait_for(lambda: finished(webhook.id, len(fired)))
    received = by_event_id(service)
    for row in rows:
        assert row.status == DeliveryStatus.SUCCEEDED, (row.event.event_type, row.response_body)
        assert row.status_code == OK_STATUS[format_name] and row.attempts == 1
        request = received[row.event_id]
        # The log keeps exactly the bytes that were sent, and they are signed as ever.
        assert row.request_body.encode() == request.body
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Webhook-Event"] == row.event.event_type
        StandardWebhook(secret).verify(request.body, request.headers)
    assert sorted(received) == sorted(fired)
    answers = {row.response_body for row in rows}
    if format_name == "slack":
        assert answers == {"ok"}
    elif format_name == "telegram":
        assert all(json.loads(answer)["ok"] is True for answer in answers)
    else:
        assert answers == {""}


NAME = "Retraite 🏖️ 日本株 👨‍👩‍👧‍👦 🇯🇵 Café"


@pytest.mark.parametrize("format_name", FORMATS)
def test_unicode_emoji_and_very_long_names_survive(services, make_webhook, format_name):
    service = services[format_name]
    webhook, _ = make_webhook(service.url, events=["portfolio_change"], format=format_name)
    portfolio = SimpleNamespace(
        id="pf_🏖️",
        name=NAME,
        previous_value=Decimal("100.00"),
        current_value=Decimal("99.50"),
        currency="€",
        valued_at=datetime.now(UTC),
    )
    long_name = " ".join([NAME] * 400)  # about 10,000 code points

    short = sources.on_portfolio_value_change(webhook.user, portfolio)
    long = sources.on_portfolio_value_change(
        webhook.user, SimpleNamespace(**{**vars(portfolio), "name": long_name})
    )

    rows = wait_for(lambda: finished(webhook.id, 2))
    assert [row.status for row in rows] == [DeliveryStatus.SUCCEEDED] * 2
    received = by_event_id(service)
    short_text = visible_text(format_name, json.loads(received[short.event_id].body))
    assert short_text == f"Portfolio “{NAME}” fell 0.50% to 99.50 € (was 100.00)"
    long_text = visible_text(format_name, json.loads(received[long.event_id].body))
    assert long_text.endswith(ELLIPSIS)
    kept = long_text.removeprefix("Portfolio “").removesuffix(ELLIPSIS)
    assert len(kept) > 500 and long_name.startswith(kept)
    # The cut fell between two characters as a reader sees them.
    kept_characters = regex.findall(r"\X", kept)
    assert regex.findall(r"\X", long_name)[: len(kept_characters)] == kept_characters


@pytest.mark.parametrize(
    ("format_name", "answer"),
    [
        ("discord", '"code": 50006'),
        ("slack", "no_text"),
        ("telegram", "chat_id is empty"),
    ],
)
def test_the_json_envelope_is_refused_as_the_service_refuses_it(
    services, make_webhook, format_name, answer
):
    webhook, _ = make_webhook(services[format_name].url, events=["custom"], format="json")

    events.trigger_event(webhook.user, "custom", {"message": "hi"})

    (row,) = wait_for(lambda: finished(webhook.id, 1))
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert row.status_code == 400 and answer in row.response_body


def test_telegram_without_a_chat_in_the_url_gets_telegram_s_answer(telegram_service, make_webhook):
    url = telegram_service.url.split("?")[0]
    webhook, _ = make_webhook(url, events=["custom"], format="telegram")

    events.trigger_event(webhook.user, "custom", {"message": "hi"})

    (row,) = wait_for(lambda: finished(webhook.id, 1))
    assert row.status == DeliveryStatus.FAILED
    assert json.loads(row.response_body)["description"] == "Bad Request: chat_id is empty"


def test_the_test_action_sends_the_example_of_a_subscribed_type(discord_service, make_webhook):
    webhook, _ = make_webhook(
        discord_service.url, events=["trade_executed", "custom"], format="discord"
    )

    result = test_send.test_webhook(webhook, "trade_executed")

    assert set(result) == {"success", "status_code", "response_body", "duration_ms", "error"}
    assert (result["success"], result["status_code"], result["error"]) == (True, 204, None)
    (request,) = discord_service.receiver.requests
    assert request.headers["X-Webhook-Event"] == "trade_executed"
    body = json.loads(request.body)
    assert body["content"] == "Bought 10 AAPL at 185.50 USD (total 1855.00 USD)"
    (row,) = finished(webhook.id, 1)
    assert row.event.event_type == "trade_executed"
    assert row.event.data == example_data("trade_executed")
    assert row.request_body.encode() == request.body


def test_the_test_action_refuses_a_type_the_webhook_does_not_receive(discord_service, make_webhook):
    webhook, _ = make_webhook(discord_service.url, events=["custom"], format="discord")

    with pytest.raises(ValidationError) as refused:
        test_send.test_webhook(webhook, "price_above")

    assert "price_above" in refused.value.fields["event"][0]
    assert discord_service.receiver.requests == []
    default = test_send.test_webhook(webhook)
    assert default["success"] is True
    assert discord_service.receiver.requests[0].headers["X-Webhook-Event"] == "test"


def test_the_cli_test_command_takes_an_event_type(runner, slack_service, make_webhook):
    webhook, _ = make_webhook(slack_service.url, events=["dividend_payment"], format="slack")

    sent = runner.invoke(args=["webhooks", "test", str(webhook.id), "--event", "dividend_payment"])
    refused = runner.invoke(args=["webhooks", "test", str(webhook.id), "--event", "custom"])

    assert sent.exit_code == 0 and json.loads(sent.output)["status_code"] == 200
    assert slack_service.receiver.requests[0].headers["X-Webhook-Event"] == "dividend_payment"
    assert refused.exit_code == 1 and "does not receive 'custom'" in refused.output
