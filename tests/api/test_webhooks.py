"""Webhook operations through the API: each happy path and each refusal."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.domain.signing import mask
from app.extensions import db
from app.models import Delivery, Webhook, utcnow
from app.services import webhooks
from tests.api.conftest import error_of
from tests.conftest import USE_POSTGRES
from tests.support.waiting import wait_for

WEBHOOK_KEYS = {
    "id",
    "name",
    "url",
    "events",
    "format",
    "filter",
    "rate_limit",
    "ordered",
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


@pytest.mark.parametrize(("overlap", "old_signs"), [(0, False), (3600, True), (604800, True)])
def test_rotate_secret_takes_how_long_the_old_one_keeps_signing(api, hook_url, overlap, old_signs):
    hook = api.create_webhook(hook_url)
    old = webhooks.reveal_secret(db.session.get(Webhook, hook["id"]))

    response = api.post(
        f"/api/webhooks/{hook['id']}/rotate-secret", json={"overlap_seconds": overlap}
    )

    assert response.status_code == 200
    db.session.rollback()
    signing = webhooks.signing_secrets(db.session.get(Webhook, hook["id"]))
    assert signing == [response.get_json()["secret"], *([old] if old_signs else [])]
    until = webhooks.previous_secret_until(db.session.get(Webhook, hook["id"]))
    if old_signs:
        assert abs((until - utcnow()).total_seconds() - overlap) < 60


@pytest.mark.parametrize(
    "body",
    [
        {"overlap_seconds": -1},
        {"overlap_seconds": 604801},
        {"overlap_seconds": 10**30},
        {"overlap_seconds": "1h"},
        {"overlap": 60},
    ],
)
def test_rotate_secret_refuses_a_bad_overlap_and_keeps_the_secret(api, hook_url, body):
    hook = api.create_webhook(hook_url)
    old = webhooks.reveal_secret(db.session.get(Webhook, hook["id"]))
    response = api.post(f"/api/webhooks/{hook['id']}/rotate-secret", json=body)
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == [next(iter(body))]
    db.session.rollback()
    assert webhooks.reveal_secret(db.session.get(Webhook, hook["id"])) == old


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


@pytest.mark.skipif(not USE_POSTGRES, reason="row locks: PostgreSQL only")
def test_delete_waits_for_a_worker_recording_a_delivery_instead_of_deadlocking(api, hook_url):
    """A worker finishing a delivery updates its delivery row, then the webhook's counters."""
    hook = api.create_webhook(hook_url)
    assert api.post(f"/api/webhooks/{hook['id']}/test").get_json()["success"] is True
    (log,) = api.get(f"/api/webhooks/{hook['id']}/logs").get_json()["logs"]
    answers: list[int] = []

    with db.engine.connect() as worker:
        worker.execute(
            sa.update(Delivery)
            .where(Delivery.id == log["id"])
            .values(attempts=Delivery.attempts + 1)
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


def no_store(response) -> bool:
    return response.headers.get("Cache-Control") == "no-store"


def test_api_answers_that_hold_a_secret_are_not_stored(make_caller, hook_url):
    caller = make_caller()
    created = caller.post(
        "/api/webhooks", json={"name": "h", "url": hook_url, "events": ["custom"]}
    )
    assert created.status_code == 201 and no_store(created)
    hook = created.get_json()
    rotated = caller.post(f"/api/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200 and no_store(rotated)
    assert not no_store(caller.get(f"/api/webhooks/{hook['id']}"))
