"""Webhook operations through the API: each happy path and each refusal."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.domain.signing import mask
from app.extensions import db
from app.models import Webhook, WebhookEvent
from tests.api.conftest import error_of
from tests.conftest import USE_POSTGRES
from tests.support.waiting import wait_for

WEBHOOK_KEYS = {
    "id",
    "name",
    "url",
    "events",
    "format",
    "is_active",
    "disabled_reason",
    "last_triggered",
    "success_count",
    "failure_count",
    "consecutive_failures",
    "secret",
    "created_at",
    "updated_at",
}


def test_create_answers_201_with_the_full_secret_then_masks_it(api, hook_url):
    response = api.post(
        "/api/webhooks",
        json={"name": " Alerts ", "url": hook_url, "events": ["price_below", "price_above"]},
    )

    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == WEBHOOK_KEYS
    assert created["name"] == "Alerts"
    assert created["events"] == ["price_above", "price_below"]
    assert created["format"] == "json" and created["is_active"] is True
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert response.headers["Location"].endswith(f"/api/webhooks/{created['id']}")

    shown = api.get(f"/api/webhooks/{created['id']}").get_json()
    assert shown["secret"] == mask(created["secret"]) != created["secret"]
    assert {key: shown[key] for key in WEBHOOK_KEYS - {"secret"}} == {
        key: created[key] for key in WEBHOOK_KEYS - {"secret"}
    }


def test_list_holds_only_the_callers_webhooks(make_caller, hook_url):
    mine, theirs = make_caller(), make_caller()
    first = mine.create_webhook(hook_url, name="One")
    second = mine.create_webhook(hook_url, name="Two")
    theirs.create_webhook(hook_url, name="Not yours")

    listed = mine.get("/api/webhooks").get_json()["webhooks"]

    assert [hook["id"] for hook in listed] == [first["id"], second["id"]]
    assert all(hook["secret"] != first["secret"] for hook in listed)


def test_patch_changes_only_the_fields_given(api, hook_url):
    hook = api.create_webhook(hook_url, events=["custom"])

    response = api.patch(f"/api/webhooks/{hook['id']}", json={"name": "Renamed"})

    assert response.status_code == 200
    changed = response.get_json()
    assert changed["name"] == "Renamed"
    assert changed["url"] == hook_url and changed["events"] == ["custom"]


def test_patch_disables_and_re_enabling_clears_the_reason(api, hook_url):
    hook = api.create_webhook(hook_url)
    disabled = api.patch(f"/api/webhooks/{hook['id']}", json={"is_active": False}).get_json()
    assert disabled["is_active"] is False and disabled["disabled_reason"]

    enabled = api.patch(f"/api/webhooks/{hook['id']}", json={"is_active": True}).get_json()
    assert enabled["is_active"] is True and enabled["disabled_reason"] is None


def test_put_needs_name_url_and_events_and_keeps_the_rest(api, hook_url):
    hook = api.create_webhook(hook_url, is_active=False)
    path = f"/api/webhooks/{hook['id']}"

    partial = api.put(path, json={"name": "Only a name"})
    assert partial.status_code == 422
    assert set(error_of(partial)["fields"]) == {"url", "events"}

    body = {"name": "Replaced", "url": hook_url + "2", "events": ["trade_executed"]}
    replaced = api.put(path, json=body)
    assert replaced.status_code == 200
    assert {key: replaced.get_json()[key] for key in body} == body
    assert replaced.get_json()["is_active"] is False


def test_delete_answers_204_and_the_webhook_is_gone(api, hook_url):
    hook = api.create_webhook(hook_url)

    response = api.delete(f"/api/webhooks/{hook['id']}")

    assert response.status_code == 204 and response.data == b""
    assert api.get(f"/api/webhooks/{hook['id']}").status_code == 404
    assert db.session.get(Webhook, hook["id"]) is None


def test_rotate_secret_returns_a_new_secret_once(api, hook_url):
    hook = api.create_webhook(hook_url)

    response = api.post(f"/api/webhooks/{hook['id']}/rotate-secret")

    assert response.status_code == 200
    secret = response.get_json()["secret"]
    assert response.get_json() == {"secret": secret}
    assert secret.startswith("whsec_") and secret != hook["secret"]
    assert api.get(f"/api/webhooks/{hook['id']}").get_json()["secret"] == mask(secret)


def test_test_send_reports_what_the_endpoint_answered(api, receiver):
    hook = api.create_webhook(receiver.url)

    response = api.post(f"/api/webhooks/{hook['id']}/test")

    assert response.status_code == 200
    result = response.get_json()
    assert set(result) == {"success", "status_code", "response_body", "duration_ms", "error"}
    assert result["success"] is True and result["status_code"] == 200
    assert result["response_body"] == "ok" and result["error"] is None
    assert receiver.requests[0].headers["X-Webhook-Event"] == "test"


def test_test_send_to_a_dead_endpoint_is_still_200_with_the_error(api):
    hook = api.create_webhook("http://127.0.0.1:9/closed")

    result = api.post(f"/api/webhooks/{hook['id']}/test").get_json()

    assert result["success"] is False and result["status_code"] is None
    assert result["error"]


def test_test_send_is_rate_limited_per_user_with_retry_after(make_caller, receiver):
    api, other = make_caller(), make_caller()
    hook = api.create_webhook(receiver.url)
    path = f"/api/webhooks/{hook['id']}/test"
    statuses = [api.post(path).status_code for _ in range(10)]
    assert statuses == [200] * 10

    limited = api.post(path)

    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert len(receiver.requests) == 10
    # Another user's budget is their own.
    other_hook = other.create_webhook(receiver.url)
    assert other.post(f"/api/webhooks/{other_hook['id']}/test").status_code == 200


def test_event_catalog_lists_exactly_the_model_event_types(api):
    from app.domain.catalog import EVENT_TYPES

    response = api.get("/api/webhooks/events")

    assert response.status_code == 200
    listed = response.get_json()["events"]
    assert [(event["value"], event["label"]) for event in listed] == [
        (event.value, event.label) for event in EVENT_TYPES
    ]
    assert listed[0] == {
        "value": "price_above",
        "label": "Price Above Target",
        "description": EVENT_TYPES[0].description,
    }


def test_the_webhook_limit_is_a_409(app, api, hook_url):
    app.config["WEBHOOK_MAX_PER_USER"], before = 1, app.config["WEBHOOK_MAX_PER_USER"]
    try:
        api.create_webhook(hook_url)
        response = api.post(
            "/api/webhooks", json={"name": "n", "url": hook_url, "events": ["custom"]}
        )
    finally:
        app.config["WEBHOOK_MAX_PER_USER"] = before
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


# --- refusals of bad input ----------------------------------------------------------------


@pytest.fixture
def valid(hook_url):
    return {
        "name": "Hook",
        "url": hook_url,
        "events": ["custom"],
        "format": "json",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", 42, "Must be a string."),
        ("name", None, "Must be a string."),
        ("url", ["http://a.example"], "Must be a string."),
        ("events", "custom", "Must be a list."),
        ("events", ["custom", 7], "Must be a list of strings."),
        ("format", {"name": "json"}, "Must be a string."),
        ("is_active", "yes", "Must be true or false."),
        ("is_active", 1, "Must be true or false."),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_wrong_type_for_each_field_is_422_naming_it(
    api, method, field, value, message, hook_url, valid
):
    path = "/api/webhooks"
    if method != "POST":
        path = f"/api/webhooks/{api.create_webhook(hook_url)['id']}"

    response = api.call(method, path, json={**valid, field: value})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"] == {field: [message]}


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unknown_fields_are_refused(api, method, hook_url, valid):
    path = "/api/webhooks"
    if method == "PATCH":
        path = f"/api/webhooks/{api.create_webhook(hook_url)['id']}"

    response = api.call(method, path, json={**valid, "secret": "whsec_mine", "colour": "red"})

    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "secret": ["Unknown field."],
        "colour": ["Unknown field."],
    }


def test_values_are_checked_by_the_same_rules_as_the_form(api):
    response = api.post(
        "/api/webhooks",
        json={"name": "  ", "url": "ftp://example.com", "events": ["price_above", "nope"]},
    )

    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert fields["name"] == ["Enter a name."]
    assert "https://" in fields["url"][0]
    assert fields["events"] == ["Unknown event type: nope."]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Null\x00byte"),
        ("name", "Two\nlines"),
        ("url", "http://127.0.0.1:9/\x00"),
        ("url", "http://127.0.0.1:9/a b"),
    ],
)
def test_control_characters_are_refused_not_stored(api, field, value, valid):
    """PostgreSQL cannot store NUL at all; line breaks in a name or URL are never meant."""
    response = api.post("/api/webhooks", json={**valid, field: value})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == [field]


def test_unknown_event_types_on_update_are_422(api, hook_url):
    hook = api.create_webhook(hook_url)
    response = api.patch(f"/api/webhooks/{hook['id']}", json={"events": ["price_sideways"]})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"events": ["Unknown event type: price_sideways."]}


def test_an_unknown_format_is_422(api, valid):
    response = api.post("/api/webhooks", json={**valid, "format": "fax"})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["format"]


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b'{"name": "Hook",', "application/json", "not valid JSON"),
        (b"", "application/json", "not valid JSON"),
        (b'{"name": NaN}', "application/json", "not valid JSON"),
        (b'{"name": "\\ud800"}', "application/json", "not valid JSON"),
        (b"\xff\xfe{", "application/json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "not valid JSON"),
        (b'["Hook"]', "application/json", "must be a JSON object"),
        (b"null", "application/json", "must be a JSON object"),
        (b"name=Hook", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        (b'{"name": "Hook"}', "text/plain", "Content-Type: application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(api, data, content_type, message):
    response = api.post("/api/webhooks", data=data, content_type=content_type)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert message in error["message"]


def test_a_body_over_the_request_limit_is_413(app, api, valid):
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = api.post("/api/webhooks", json={**valid, "name": padding})
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


@pytest.mark.parametrize("path", ["/api/webhooks/0", "/api/webhooks/2147483648", "/api/webhooks/x"])
def test_ids_that_cannot_exist_are_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405_with_allow(api):
    response = api.call("PATCH", "/api/webhooks")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


@pytest.mark.skipif(not USE_POSTGRES, reason="row locks: PostgreSQL only")
def test_delete_waits_for_a_worker_recording_a_delivery_instead_of_deadlocking(api, hook_url):
    """A worker finishing a delivery updates its delivery row, then the webhook's counters."""
    hook = api.create_webhook(hook_url)
    assert api.post(f"/api/webhooks/{hook['id']}/test").get_json()["success"] is True
    (log,) = api.get(f"/api/webhooks/{hook['id']}/logs").get_json()["logs"]
    answers: list[int] = []

    with db.engine.connect() as worker:
        worker.execute(
            sa.update(WebhookEvent)
            .where(WebhookEvent.id == log["id"])
            .values(attempts=WebhookEvent.attempts + 1)
        )
        deleting = threading.Thread(
            target=lambda: answers.append(api.delete(f"/api/webhooks/{hook['id']}").status_code)
        )
        deleting.start()
        wait_for(lambda: blocked_backends(worker) > 0)
        worker.execute(
            sa.update(Webhook)
            .where(Webhook.id == hook["id"])
            .values(success_count=Webhook.success_count + 1)
        )
        worker.commit()
    deleting.join(timeout=30)

    assert answers == [204]


def blocked_backends(connection: sa.Connection) -> int:
    return connection.scalar(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )
