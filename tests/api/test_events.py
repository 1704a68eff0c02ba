"""POST /api/events: validation, limits, scoping, and one delivery end to end."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import error_of
from tests.support.waiting import wait_for


@pytest.mark.usefixtures("worker")
def test_an_event_fired_through_the_api_reaches_the_receiver_signed(make_caller, receiver):
    api, other = make_caller(), make_caller()
    hook = api.create_webhook(receiver.url, events=["trade_executed"])
    other.create_webhook(receiver.url, events=["trade_executed"])
    data = {"symbol": "MSFT", "side": "buy", "quantity": 10}

    response = api.post("/api/events", json={"event": "trade_executed", "data": data})

    assert response.status_code == 202
    fired = response.get_json()
    assert fired["id"].startswith("evt_") and fired["deliveries"] == 1
    wait_for(lambda: receiver.requests)
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert body["id"] == fired["id"] and body["event"] == "trade_executed"
    assert body["data"] == data
    assert request.headers["X-Webhook-Id"] == fired["id"]
    assert request.headers["X-Webhook-Signature"].startswith("sha256=")
    logs = wait_for(
        lambda: [
            entry
            for entry in api.get(f"/api/webhooks/{hook['id']}/logs").get_json()["logs"]
            if entry["status"] == "succeeded"
        ]
    )
    assert logs[0]["event_id"] == fired["id"] and logs[0]["status_code"] == 200


def test_only_the_callers_active_subscribed_webhooks_count(make_caller, hook_url):
    api, other = make_caller(), make_caller()
    api.create_webhook(hook_url, events=["custom"])
    api.create_webhook(hook_url, events=["custom", "price_above"])
    api.create_webhook(hook_url, events=["custom"], is_active=False)
    api.create_webhook(hook_url, events=["price_below"])
    other.create_webhook(hook_url, events=["custom"])

    response = api.post("/api/events", json={"event": "custom", "data": {}})

    assert response.status_code == 202
    assert response.get_json()["deliveries"] == 2


@pytest.mark.parametrize("event", ["price_sideways", "test", ""])
def test_unknown_event_types_are_422(api, event):
    response = api.post("/api/events", json={"event": event, "data": {}})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["event"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"event": 3, "data": {}}, {"event": ["Must be a string."]}),
        ({"event": "custom", "data": [1, 2]}, {"data": ["Must be a JSON object."]}),
        ({"event": "custom", "data": "text"}, {"data": ["Must be a JSON object."]}),
        ({"event": "custom"}, {"data": ["This field is required."]}),
        ({"data": {}}, {"event": ["This field is required."]}),
        ({"event": "custom", "data": {}, "when": "now"}, {"when": ["Unknown field."]}),
    ],
)
def test_wrong_types_missing_and_unknown_fields_are_422(api, body, fields):
    response = api.post("/api/events", json=body)
    assert response.status_code == 422
    assert error_of(response)["fields"] == fields


def test_data_over_the_payload_limit_is_413_naming_the_field(app, api, hook_url):
    limit = app.config["WEBHOOK_MAX_PAYLOAD_BYTES"]
    data = {"blob": "x" * limit}  # the quotes and key push it over

    response = api.post("/api/events", json={"event": "custom", "data": data})

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "payload_too_large" and list(error["fields"]) == ["data"]


def test_data_at_the_limit_escaped_in_the_request_is_accepted(app, api, hook_url):
    """Request bodies may be larger than the data they carry: escapes are measured decoded."""
    limit = app.config["WEBHOOK_MAX_PAYLOAD_BYTES"]
    data = {"b": "é" * ((limit - 8) // 2)}  # two UTF-8 bytes each, six bytes escaped
    body = json.dumps({"event": "custom", "data": data}, ensure_ascii=True)
    assert len(body) > limit

    response = api.post("/api/events", data=body, content_type="application/json")

    assert response.status_code == 202


def test_a_request_body_over_the_limit_is_413(app, api):
    body = b'{"event": "custom", "data": {"b": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}}'
    response = api.post("/api/events", data=body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_invalid_json_is_400(api):
    response = api.post("/api/events", data=b"{event: custom}", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_events_without_a_token_are_401(client):
    response = client.post("/api/events", json={"event": "custom", "data": {}})
    assert response.status_code == 401


def test_events_are_rate_limited_per_user_with_retry_after(make_caller):
    from app.request_limits import EVENTS_LIMIT

    api, other = make_caller(), make_caller()
    allowed = int(EVENTS_LIMIT.split("/")[0])
    body = {"event": "custom", "data": {}}  # no webhooks: nothing is queued
    statuses = {api.post("/api/events", json=body).status_code for _ in range(allowed)}
    assert statuses == {202}

    limited = api.post("/api/events", json=body)

    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert other.post("/api/events", json=body).status_code == 202


@pytest.mark.parametrize("expires_in", [0, -5, "60", True, 1.5, 30 * 24 * 3600 + 1])
def test_a_bad_time_to_live_is_422_naming_it(api, expires_in):
    body = {"event": "custom", "data": {}, "expires_in": expires_in}
    response = api.post("/api/events", json=body)
    assert response.status_code == 422
    assert "expires_in" in response.get_json()["error"]["fields"]
