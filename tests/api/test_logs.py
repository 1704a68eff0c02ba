"""The delivery log through the API: pages, filters, and delivering an entry again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import error_of
from tests.support.receiver import Reply
from tests.support.waiting import wait_for

LOG_KEYS = {
    "id",
    "event_id",
    "event_type",
    "payload",
    "request_body",
    "status",
    "status_code",
    "response_body",
    "success",
    "attempts",
    "duration_ms",
    "error",
    "next_attempt_at",
    "waiting_behind",
    "carried_by",
    "carried",
    "created_at",
    "attempt_log",
}
ATTEMPT_KEYS = {
    "number",
    "time",
    "request_headers",
    "status",
    "duration_ms",
    "error",
    "response_body",
    "response_headers",
}


def fire(api, event: str, count: int) -> list[str]:
    ids = []
    for number in range(count):
        response = api.post("/api/events", json={"event": event, "data": {"n": number}})
        assert response.get_json()["deliveries"] == 1
        ids.append(response.get_json()["id"])
    return ids


def test_pages_walk_the_whole_log_newest_first(api, hook_url):
    hook = api.create_webhook(hook_url, events=["custom"])
    fired = fire(api, "custom", 5)
    path = f"/api/webhooks/{hook['id']}/logs"

    seen, pages, cursor = [], 0, None
    while True:
        query = {"limit": 2} if cursor is None else {"limit": 2, "before": cursor}
        page = api.get(path, query_string=query)
        assert page.status_code == 200
        body = page.get_json()
        assert len(body["logs"]) <= 2
        seen += body["logs"]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break

    assert pages == 3
    assert [entry["event_id"] for entry in seen] == list(reversed(fired))
    assert set(seen[0]) == LOG_KEYS
    assert seen[0]["payload"]["data"] == {"n": 4} and seen[0]["event_type"] == "custom"


def test_the_default_page_and_an_empty_log(api, hook_url):
    hook = api.create_webhook(hook_url)
    assert api.get(f"/api/webhooks/{hook['id']}/logs").get_json() == {"logs": [], "next": None}


def test_filters_by_outcome_and_event_type(api, receiver):
    # Only the test send succeeds, whether or not a worker delivers the event meanwhile.
    receiver.reply(Reply(200, headers={"X-Receiver": "yes"}))
    receiver.default = Reply(410)
    hook = api.create_webhook(receiver.url, events=["custom", "price_above"])
    path = f"/api/webhooks/{hook['id']}/logs"
    assert api.post(f"/api/webhooks/{hook['id']}/test").get_json()["success"] is True
    fire(api, "price_above", 1)

    tests = api.get(path, query_string={"event_type": "test"}).get_json()["logs"]
    prices = api.get(path, query_string={"event_type": "price_above"}).get_json()["logs"]
    succeeded = api.get(path, query_string={"success": "true"}).get_json()["logs"]

    assert [entry["event_type"] for entry in tests] == ["test"]
    assert [entry["event_type"] for entry in prices] == ["price_above"]
    assert [entry["id"] for entry in succeeded] == [tests[0]["id"]]
    [attempt] = tests[0]["attempt_log"]
    assert set(attempt) == ATTEMPT_KEYS and attempt["status"] == 200
    assert {name.lower(): value for name, value in attempt["response_headers"].items()}[
        "x-receiver"
    ] == "yes"
    assert attempt["request_headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "99999999999999999999"}, "limit"),
        ({"before": "0"}, "before"),
        ({"before": "abc"}, "before"),
        ({"before": "2147483648"}, "before"),
        ({"success": "maybe"}, "success"),
        ({"event_type": "price_sideways"}, "event_type"),
    ],
)
def test_bad_query_values_are_422(api, query, field, hook_url):
    hook = api.create_webhook(hook_url)
    response = api.get(f"/api/webhooks/{hook['id']}/logs", query_string=query)
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == [field]


def test_retry_queues_the_same_event_again_as_a_new_entry(api, hook_url):
    hook = api.create_webhook(hook_url, events=["custom"])
    (event_id,) = fire(api, "custom", 1)
    path = f"/api/webhooks/{hook['id']}/logs"
    (original,) = api.get(path).get_json()["logs"]

    response = api.post(f"{path}/{original['id']}/retry")

    assert response.status_code == 202
    again = response.get_json()
    assert set(again) == LOG_KEYS
    assert again["event_id"] == event_id and again["id"] != original["id"]
    assert [entry["id"] for entry in api.get(path).get_json()["logs"]] == [
        again["id"],
        original["id"],
    ]


def test_retry_and_replay_on_a_disabled_webhook_send_nothing_and_say_why(api, hook_url):
    hook = api.create_webhook(hook_url, events=["custom"])
    fire(api, "custom", 1)
    path = f"/api/webhooks/{hook['id']}/logs"
    (original,) = api.get(path).get_json()["logs"]
    api.patch(f"/api/webhooks/{hook['id']}", json={"is_active": False})

    retried = api.post(f"{path}/{original['id']}/retry")
    replayed = api.post(
        f"/api/webhooks/{hook['id']}/replay", json={"since": "2000-01-01T00:00:00Z"}
    )

    for response in (retried, replayed):
        assert response.status_code == 409
        assert "Nothing was sent: the webhook is disabled." in error_of(response)["message"]
    assert [entry["id"] for entry in api.get(path).get_json()["logs"]] == [original["id"]]


def test_retry_of_an_unknown_entry_is_404(api, hook_url):
    hook = api.create_webhook(hook_url)
    response = api.post(f"/api/webhooks/{hook['id']}/logs/2147483647/retry")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.usefixtures("worker")
def test_replay_queues_a_time_range_again_under_the_same_ids(api, receiver):
    hook = api.create_webhook(receiver.url, events=["custom"])
    receiver.reply(Reply(400, "no"))
    fired = fire(api, "custom", 2)
    wait_for(lambda: len(receiver.requests) == 2)
    wait_for(
        lambda: all(
            entry["status"] in ("failed", "succeeded")
            for entry in api.get(f"/api/webhooks/{hook['id']}/logs").get_json()["logs"]
        )
    )
    path = f"/api/webhooks/{hook['id']}/replay"
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    failed = api.post(path, json={"since": since, "failed_only": True})

    assert failed.status_code == 202 and failed.get_json() == {"deliveries": 1}
    wait_for(lambda: len(receiver.requests) == 3)
    assert (
        receiver.requests[2].headers["X-Webhook-Id"] == receiver.requests[0].headers["X-Webhook-Id"]
    )
    assert receiver.requests[2].headers["X-Webhook-Id"] in fired


@pytest.mark.usefixtures("worker")
def test_replay_with_missed_sends_what_was_fired_while_disabled(api, make_caller, receiver):
    hook = api.create_webhook(receiver.url, events=["custom", "price_above"])
    path = f"/api/webhooks/{hook['id']}"
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    delivered = fire(api, "custom", 1)
    wait_for(lambda: len(receiver.requests) == 1)
    assert api.patch(path, json={"is_active": False}).status_code == 200
    missed = []
    for event in ("custom", "price_above"):
        answer = api.post("/api/events", json={"event": event, "data": {}})
        assert answer.get_json()["deliveries"] == 0
        missed.append(answer.get_json()["id"])
    api.post("/api/events", json={"event": "trade_executed", "data": {}})  # not its type
    make_caller().post("/api/events", json={"event": "custom", "data": {}})  # not its owner
    assert api.patch(path, json={"is_active": True}).status_code == 200

    plain = api.post(f"{path}/replay", json={"since": since, "failed_only": True})
    assert plain.get_json() == {"deliveries": 0}, "nothing failed; missed is not asked for"
    answer = api.post(f"{path}/replay", json={"since": since, "failed_only": True, "missed": True})

    assert answer.status_code == 202 and answer.get_json() == {"deliveries": 2}
    wait_for(lambda: len(receiver.requests) == 3)
    assert sorted(r.headers["X-Webhook-Id"] for r in receiver.requests[1:]) == sorted(missed)
    again = api.post(f"{path}/replay", json={"since": since, "failed_only": True, "missed": True})
    assert again.get_json() == {"deliveries": 0}, "once sent, they are no longer missed"
    assert delivered[0] == receiver.requests[0].headers["X-Webhook-Id"]


def test_replay_refuses_bad_times(api, hook_url):
    hook = api.create_webhook(hook_url)
    path = f"/api/webhooks/{hook['id']}/replay"
    assert "since" in error_of(api.post(path, json={"since": "yesterday"}))["fields"]
    backwards = {"since": "2026-02-02T00:00:00Z", "until": "2026-02-01T00:00:00Z"}
    assert "until" in error_of(api.post(path, json=backwards))["fields"]
    assert "since" in error_of(api.post(path, json={}))["fields"]
    other = api.create_webhook(hook_url)
    stranger = api.post(f"/api/webhooks/{other['id'] + 10**6}/replay", json={"since": "2026"})
    assert stranger.status_code == 404


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_replay_times_with_no_utc_year_are_422(api, hook_url, moment):
    """Valid ISO 8601, but before year 1 or after year 9999 once in UTC."""
    hook = api.create_webhook(hook_url)
    path = f"/api/webhooks/{hook['id']}/replay"
    response = api.post(path, json={"since": moment})
    assert response.status_code == 422 and "since" in error_of(response)["fields"]
    late = api.post(path, json={"since": "2026-01-01T00:00:00Z", "until": moment})
    assert late.status_code == 422 and "until" in error_of(late)["fields"]


def test_the_log_cursor_past_the_id_range_is_422(api, hook_url):
    hook = api.create_webhook(hook_url)
    response = api.get(f"/api/webhooks/{hook['id']}/logs?before={2**63}")
    assert response.status_code == 422 and "before" in error_of(response)["fields"]
