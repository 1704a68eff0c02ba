"""The webhook form's filter (raw JSON, and the builder's markup) and rate limit; the logs page."""

from __future__ import annotations

import json

import pytest

from app.services import webhooks
from tests.pages.conftest import text
from tests.pages.test_webhook_pages import form_data, fresh

AAPL_OR_TSLA = '{"data.symbol": {"$in": ["AAPL", "TSLA"]}, "data.change_percent": {"$gt": 5.0}}'


def test_a_filter_and_a_rate_limit_are_saved_from_the_form(browser):
    me = browser()
    response = me.post(
        "/webhooks/new", form_data(filter=AAPL_OR_TSLA, rate_limit=" 20/minute ", format="slack")
    )
    assert response.status_code == 302, text(response)
    [webhook] = webhooks.list_webhooks(me.user)
    assert json.loads(webhook.filter) == json.loads(AAPL_OR_TSLA)
    assert (
        webhook.filter
        == '{"data.symbol":{"$in":["AAPL","TSLA"]},"data.change_percent":{"$gt":5.0}}'
    )
    assert webhook.rate_limit == "20/minute"

    page = text(me.get(f"/webhooks/{webhook.id}/edit"))
    assert "&#34;data.symbol&#34;" in page or "&quot;data.symbol&quot;" in page
    assert 'value="20/minute"' in page
    assert "In force for this webhook now: <strong>20/minute</strong>" in page


def test_empty_fields_mean_no_filter_and_the_formats_default(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook(
        "http://127.0.0.1:9/hook", user=me.user, filter=AAPL_OR_TSLA, rate_limit="1/hour"
    )
    response = me.post(
        f"/webhooks/{webhook.id}/edit", form_data(filter="  ", rate_limit="", format="discord")
    )
    assert response.status_code == 302
    saved = fresh(webhook.id)
    assert saved.filter is None and saved.rate_limit is None
    page = text(me.get(f"/webhooks/{saved.id}/edit"))
    assert "In force for this webhook now: <strong>30/minute</strong>" in page
    assert "discord 30/minute" in page and "slack 1/second" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("filter", '{"data.price": {"$above": 5}}', "unknown operator $above"),
        ("filter", '{"data.symbol": {"$in": "AAPL"}}', "$in takes a list of values"),
        ("filter", "{not json", "The filter is not valid JSON"),
        ("filter", '["AAPL"]', "A filter is a JSON object"),
        ("rate_limit", "fast", 'Write it as "N/second"'),
    ],
)
def test_a_bad_filter_or_rate_shows_beside_its_field(browser, field, value, message):
    me = browser()
    response = me.post("/webhooks/new", form_data(**{field: value}))
    assert response.status_code == 200
    page = text(response)
    error = page.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error beside {field}"
    assert message in error[1].split("</p>", 1)[0].replace("&#34;", '"').replace("&quot;", '"')
    assert webhooks.list_webhooks(me.user) == []


def test_the_builder_is_markup_for_a_script_of_our_own(browser):
    page = text(browser().get("/webhooks/new"))
    assert '<script src="/static/filter-builder.js" defer></script>' in page
    # Hidden until the script shows it: without scripts, the textarea alone.
    assert "data-filter-builder hidden" in page
    for control in ("builder-symbols", "builder-field", "builder-operator", "builder-side"):
        assert f'id="{control}"' in page
    assert "onclick" not in page


def test_the_logs_page_shows_the_filter_and_the_rate(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user, filter=AAPL_OR_TSLA)
    page = text(me.get(f"/webhooks/{webhook.id}/logs"))
    assert "Only events that pass the filter" in page and "data.change_percent" in page
    assert "Rate limit: 1000/second (the default for json)." in page
    plain, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user, rate_limit="2/minute")
    page = text(me.get(f"/webhooks/{plain.id}/logs"))
    assert "Rate limit: 2/minute." in page and "no filter" in page
