"""A webhook's `filter` and `rate_limit` through the API: set, shown, refused, and the fan-out."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import error_of

AAPL_OR_TSLA = {"data": {"symbol": {"$in": ["AAPL", "TSLA"]}}}


def test_a_filter_and_a_rate_limit_are_stored_and_shown(api, hook_url):
    created = api.create_webhook(hook_url, filter=AAPL_OR_TSLA, rate_limit="2/minute")
    assert created["filter"] == AAPL_OR_TSLA and created["rate_limit"] == "2/minute"

    shown = api.get(f"/api/webhooks/{created['id']}").get_json()
    assert shown["filter"] == AAPL_OR_TSLA and shown["rate_limit"] == "2/minute"
    (listed,) = api.get("/api/webhooks").get_json()["webhooks"]
    assert listed["filter"] == AAPL_OR_TSLA


def test_both_default_to_null(api, hook_url):
    created = api.create_webhook(hook_url)
    assert created["filter"] is None and created["rate_limit"] is None


def test_patch_changes_only_what_is_given_and_null_clears(api, hook_url):
    hook = api.create_webhook(hook_url, filter=AAPL_OR_TSLA, rate_limit="5/second")
    path = f"/api/webhooks/{hook['id']}"

    kept = api.patch(path, json={"name": "Renamed"}).get_json()
    assert kept["filter"] == AAPL_OR_TSLA and kept["rate_limit"] == "5/second"

    changed = api.patch(path, json={"filter": {"data.side": "buy"}}).get_json()
    assert changed["filter"] == {"data.side": "buy"} and changed["rate_limit"] == "5/second"

    cleared = api.patch(path, json={"filter": None, "rate_limit": None}).get_json()
    assert cleared["filter"] is None and cleared["rate_limit"] is None

    empty = api.patch(path, json={"filter": {}}).get_json()
    assert empty["filter"] is None, "an empty filter lets everything through: no filter"


def test_put_keeps_them_when_left_out(api, hook_url):
    hook = api.create_webhook(hook_url, filter=AAPL_OR_TSLA, rate_limit="1/hour")
    body = {"name": "Again", "url": hook_url, "events": ["price_above"]}
    replaced = api.put(f"/api/webhooks/{hook['id']}", json=body).get_json()
    assert replaced["filter"] == AAPL_OR_TSLA and replaced["rate_limit"] == "1/hour"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"data.symbol": {"$regex": "A.*"}}, "unknown operator $regex"),
        ({"data.symbol": {"$in": "AAPL"}}, "$in takes a list of values"),
        ({"price": {"$gt": 1}}, "a filter looks at `event` or `data.…`"),
        ({"data.x": {"$in": list(range(20000))}}, "too large"),
        ([1, 2], "Must be a JSON object or null."),
        ("AAPL", "Must be a JSON object or null."),
    ],
)
def test_an_invalid_filter_is_a_422_naming_filter(api, hook_url, value, message):
    response = api.post(
        "/api/webhooks",
        json={"name": "Hook", "url": hook_url, "events": ["price_above"], "filter": value},
    )
    assert response.status_code == 422
    error = error_of(response)
    assert list(error["fields"]) == ["filter"]
    assert message in error["fields"]["filter"][0]


def test_a_deep_filter_is_a_422_on_patch_too(api, hook_url):
    hook = api.create_webhook(hook_url)
    deep: dict = {"data.x": 1}
    for _ in range(20):
        deep = {"$not": deep}
    response = api.patch(f"/api/webhooks/{hook['id']}", json={"filter": deep})
    assert response.status_code == 422
    assert "nests too deep" in error_of(response)["fields"]["filter"][0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10/day", 'Write it as "N/second"'),
        ("ten/minute", 'Write it as "N/second"'),
        ("0/minute", "from 1 to 100000"),
        ("1000000/second", "from 1 to 100000"),
        (10, "Must be a string or null."),
    ],
)
def test_an_invalid_rate_limit_is_a_422_naming_rate_limit(api, hook_url, value, message):
    response = api.post(
        "/api/webhooks",
        json={"name": "Hook", "url": hook_url, "events": ["price_above"], "rate_limit": value},
    )
    assert response.status_code == 422
    error = error_of(response)
    assert list(error["fields"]) == ["rate_limit"]
    assert message in error["fields"]["rate_limit"][0]


def trade(api, **data):
    response = api.post("/api/events", json={"event": "trade_executed", "data": data})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["deliveries"]


def test_an_event_that_does_not_pass_a_filter_is_not_counted(make_caller, hook_url):
    api, other = make_caller(), make_caller()
    events = ["trade_executed"]
    api.create_webhook(hook_url, events=events)
    api.create_webhook(hook_url, events=events, filter=AAPL_OR_TSLA)
    api.create_webhook(hook_url, events=events, filter={"data.side": "buy"})
    api.create_webhook(hook_url, events=events, filter={"data.quantity": {"$gte": "100"}})
    api.create_webhook(hook_url, events=events, filter={"data.side": "buy"}, is_active=False)
    api.create_webhook(hook_url, events=["price_above"], filter={"data.side": "buy"})
    other.create_webhook(hook_url, events=events, filter={"data.side": "buy"})

    assert trade(api, symbol="MSFT", side="sell", quantity=5) == 1
    assert trade(api, symbol="AAPL", side="sell", quantity=5) == 2
    assert trade(api, symbol="AAPL", side="buy", quantity=5) == 3
    assert trade(api, symbol="TSLA", side="buy", quantity=100.0) == 4
    assert trade(api, symbol="MSFT", quantity="99.99") == 1


def test_a_filter_compares_the_digits_it_was_sent_with(api, hook_url):
    # As floats both numbers are 0.1: only exact decimals tell them apart.
    raw = '{"name": "Hook", "url": "%s", "events": ["custom"], "filter": %s}'
    exact = '{"data.p": {"$gt": 0.10000000000000001}}'
    response = api.post(
        "/api/webhooks", data=raw % (hook_url, exact), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.get_json()

    def fire(price: str) -> int:
        answer = api.post("/api/events", json={"event": "custom", "data": {"p": price}})
        return answer.get_json()["deliveries"]

    assert fire("0.10000000000000002") == 1
    assert fire("0.1") == 0
    assert fire("0.10000000000000001") == 0


def test_a_changed_filter_decides_the_next_events(api, hook_url):
    hook = api.create_webhook(hook_url, events=["trade_executed"], filter=AAPL_OR_TSLA)
    assert trade(api, symbol="MSFT") == 0
    api.patch(f"/api/webhooks/{hook['id']}", json={"filter": {"data.symbol": "MSFT"}})
    assert trade(api, symbol="MSFT") == 1
    api.patch(f"/api/webhooks/{hook['id']}", json={"filter": None})
    assert trade(api, symbol="GOOG") == 1


def test_the_openapi_description_documents_both(api):
    document = api.get("/api/openapi.json").get_json()
    text = json.dumps(document)
    assert "$nin" in text and "exact decimals" in text and "30/minute" in text
