"""The webhook form's filter builder in a real browser: it writes the JSON, the server keeps it,
and the worker delivers only what passes it."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.services import events, users, webhooks
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def test_the_builder_writes_a_filter_that_decides_what_is_delivered(
    page: Page, live_server, receiver, ctx
):
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    user = users.create_user(email, "a long password")
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/webhooks/new")

    page.get_by_label("Name").fill("AAPL and TSLA buys")
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("checkbox", name=re.compile("Trade Executed")).check()
    builder = page.locator("[data-filter-builder]")
    expect(builder).to_be_visible()
    builder.get_by_label("Symbols").fill("AAPL, TSLA")
    builder.get_by_label("Number field").fill("change_percent")
    builder.get_by_label("is").select_option(label="above")
    builder.get_by_label("Threshold").fill("five")
    builder.get_by_role("button", name="Write the filter").click()
    expect(page.locator("#builder-error")).to_have_text(re.compile("Write the threshold"))
    builder.get_by_label("Threshold").fill("5")
    builder.get_by_label("Side").select_option(label="Only buys")
    builder.get_by_role("button", name="Write the filter").click()
    expect(page.locator("#builder-error")).to_be_hidden()

    written = json.loads(page.get_by_label("Filter", exact=True).input_value())
    expected = {
        "data.symbol": {"$in": ["AAPL", "TSLA"]},
        "data.change_percent": {"$gt": 5},
        "data.side": "buy",
    }
    assert written == expected
    page.get_by_label("Rate limit").fill("30/minute")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_text("Webhook “AAPL and TSLA buys” created.")).to_be_visible()

    db.session.expire_all()
    (webhook,) = webhooks.list_webhooks(user)
    assert json.loads(webhook.filter) == expected and webhook.rate_limit == "30/minute"
    small = events.trigger_event(
        user, "trade_executed", {"symbol": "AAPL", "side": "buy", "change_percent": "4.99"}
    )
    sold = events.trigger_event(
        user, "trade_executed", {"symbol": "TSLA", "side": "sell", "change_percent": "7.5"}
    )
    big = events.trigger_event(
        user, "trade_executed", {"symbol": "TSLA", "side": "buy", "change_percent": "5.01"}
    )
    assert (small.deliveries, sold.deliveries, big.deliveries) == (0, 0, 1)
    (received,) = wait_for(lambda: receiver.requests)
    assert json.loads(received.body)["id"] == big.event_id
