"""The endpoint page: settings, figures that agree with the chart, the secret, tests with any
subscribed event type and, for chat formats, a preview of the message."""

from __future__ import annotations

import json

from app.domain.catalog import example_data
from app.services import webhooks
from app.services.delivery import test_send
from tests.pages.conftest import text
from tests.support.receiver import Reply

FETCH = {"X-Requested-With": "fetch"}


def test_the_page_shows_state_format_events_and_the_actions(browser, make_webhook):
    me = browser()
    webhook, secret = make_webhook(
        "http://127.0.0.1:9/hook",
        user=me.user,
        events=["price_above", "trade_executed"],
        name="<b>bot</b>",
    )
    page = text(me.get(f"/webhooks/{webhook.id}"))
    assert "<title>&lt;b&gt;bot&lt;/b&gt; · Webhooks · Signalpost</title>" in page
    assert "Active: events are sent" in page and "JSON (signed envelope)" in page
    assert "Price Above Target" in page and "Trade Executed" in page
    assert f"whsec_••••{secret[-4:]}" in page and secret not in page
    for action in ("Deliveries</a>", "Edit</a>", ">Disable</button>", "Rotate…</a>", "Send test"):
        assert action in page
    assert f'href="/webhooks/{webhook.id}/logs"' in page

    webhooks.set_active(webhook, False)
    page = text(me.get(f"/webhooks/{webhook.id}"))
    assert "Disabled: Disabled by its owner." in page and ">Enable</button>" in page


def test_disable_from_the_page_comes_back_to_it(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    response = me.post(f"/webhooks/{webhook.id}/active", {"active": "0", "next": "endpoint"})
    assert response.headers["Location"] == f"/webhooks/{webhook.id}"


def test_the_figures_are_the_charts_sums_and_say_tests_count(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.reply(Reply(200, "ok"), Reply(200, "ok"), Reply(500, "no"))
    for _ in range(3):
        test_send.test_webhook(webhook)
    page = text(me.get(f"/webhooks/{webhook.id}"))
    assert 'aria-label="Last 24 hours: 2 delivered, 1 failed"' in page
    assert '<dd id="day-succeeded">2</dd>' in page and '<dd id="day-failed">1</dd>' in page
    assert "66.7%" in page
    words = " ".join(page.split())
    assert "test sends included" in words and "test sends not counted" in words


def test_the_delivery_settings_show_the_filter_rate_and_order(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    words = " ".join(text(me.get(f"/webhooks/{webhook.id}")).split())
    assert "<dt>Filter</dt>" not in words
    in_force = webhooks.rate_limit_in_force(webhook)
    assert f"<code>{in_force} (the default for the format)</code>" in words
    assert "<dt>Ordered</dt><dd>No</dd>" in words
    webhooks.update_webhook(
        webhook,
        webhooks.WebhookInput(
            filter={"data": {"symbol": "<AAPL>"}}, rate_limit="5/minute", ordered=True
        ),
    )
    page = text(me.get(f"/webhooks/{webhook.id}"))
    assert "Delivery rate" in page and "<code>5/minute</code>" in page
    assert "&#34;symbol&#34;: &#34;&lt;AAPL&gt;&#34;" in page
    assert "Yes: one delivery at a time" in page


def test_a_test_with_a_subscribed_type_sends_its_example_data(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user, events=["price_below", "custom"])
    page = text(me.get(f"/webhooks/{webhook.id}"))
    options = [part.split('"', 1)[0] for part in page.split('<option value="')[1:]]
    assert options == ["test", "custom", "price_below"]

    fragment = text(
        me.post(f"/webhooks/{webhook.id}/test", {"event": "price_below"}, headers=FETCH)
    )

    assert "Sent the <code>price_below</code> event" in fragment
    [sent] = receiver.requests
    assert sent.headers["X-Webhook-Event"] == "price_below"
    assert json.loads(sent.body)["data"] == example_data("price_below")


def test_a_test_with_a_type_not_subscribed_is_refused_in_words(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user, events=["custom"])
    refused = me.post(f"/webhooks/{webhook.id}/test", {"event": "price_above"}, headers=FETCH)
    assert refused.status_code == 422
    assert "does not receive 'price_above'" in text(refused)
    page = me.post(f"/webhooks/{webhook.id}/test", {"event": "price_above"})
    assert "does not receive" in text(me.get(page.headers["Location"]))
    assert receiver.requests == []


def test_a_chat_format_is_previewed_as_the_service_shows_it(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook(
        "http://127.0.0.1:9/hook", user=me.user, events=["price_above"], format="slack"
    )
    page = " ".join(text(me.get(f"/webhooks/{webhook.id}")).split())
    assert "Preview in Slack: Price Above Target" in page
    assert "AAPL rose above 180.00 — now 185.50" in page
    assert "Body sent to Slack" in page and "&#34;blocks&#34;" in page
    json_hook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user, events=["price_above"])
    assert "Preview in" not in text(me.get(f"/webhooks/{json_hook.id}"))
