"""The tenants API: the host application's users, made, changed, read and removed with an
operator key; and tenants kept apart exactly as users are."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ApiToken,
    Delivery,
    DeliveryAttempt,
    Event,
    SignInLink,
    Subscription,
    User,
    Webhook,
    utcnow,
)
from app.services import tenants, users
from app.services.tenants import TenantInput
from tests.api.conftest import error_of
from tests.support.waiting import wait_for


def test_put_creates_then_updates_and_get_reads(operator, new_tenant_id):
    tenant_id = new_tenant_id()
    created = operator.call(
        "PUT", f"/api/tenants/{tenant_id}", json={"email": " Ada@Host.Example ", "name": "Ada"}
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body == {
        "id": tenant_id,
        "email": "ada@host.example",
        "name": "Ada",
        "created_at": body["created_at"],
    }
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert created.headers["Location"] == f"/api/tenants/{tenant_id}"

    updated = operator.call(
        "PUT", f"/api/tenants/{tenant_id}", json={"email": "ada.l@host.example"}
    )
    assert updated.status_code == 200
    # A name left out is kept; the creation time is the first one.
    assert updated.get_json() == {**body, "email": "ada.l@host.example"}

    cleared = operator.call(
        "PUT", f"/api/tenants/{tenant_id}", json={"email": "ada.l@host.example", "name": ""}
    )
    assert cleared.status_code == 200 and cleared.get_json()["name"] is None

    read = operator.call("GET", f"/api/tenants/{tenant_id}")
    assert read.status_code == 200
    assert read.get_json() == {**body, "email": "ada.l@host.example", "name": None}


def test_a_tenant_has_no_password_a_verified_address_and_no_admin_rights(operator, new_tenant_id):
    tenant_id = new_tenant_id()
    email = operator.put_tenant(tenant_id)["email"]
    user = users.tenant_user(tenant_id)
    assert user.email == email and user.external_id == tenant_id
    assert user.is_admin is False
    assert user.email_verified_at is not None
    for guess in ("", user.password_hash, "a long password", tenant_id):
        assert users.authenticate(email, guess) is None


def test_unknown_tenants_are_404(operator, new_tenant_id):
    for method in ("GET", "DELETE"):
        response = operator.call(method, f"/api/tenants/{new_tenant_id()}")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    link = operator.call("POST", f"/api/tenants/{new_tenant_id()}/sign-in-link", json={})
    assert link.status_code == 404


@pytest.mark.parametrize(
    "external_id",
    ["x" * 65, "a b", "caf%C3%A9", "a%00b", "a+b", "a@b", "a%5Cb", "%20", "a,b", "a%2Fb"],
)
def test_external_ids_outside_the_allowed_characters_are_422(operator, external_id):
    for method, body in (("PUT", {"email": "x@host.example"}), ("GET", None), ("DELETE", None)):
        response = operator.call(method, f"/api/tenants/{external_id}", json=body)
        assert response.status_code == 422, (method, external_id, response.get_json())
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert "A-Z a-z 0-9 . _ : -" in error["fields"]["external_id"][0]
    link = operator.call("POST", f"/api/tenants/{external_id}/sign-in-link", json={})
    assert link.status_code == 422


def test_the_longest_external_id_and_every_allowed_character_are_accepted(operator):
    for external_id in ("x" * 64, "Az09._:-", "1"):
        response = operator.call(
            "PUT", f"/api/tenants/{external_id}", json={"email": f"{len(external_id)}@a.example"}
        )
        assert response.status_code in (200, 201), response.get_json()
        assert response.get_json()["id"] == external_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "a\x00b@host.example"}, "email"),
        ({"email": "x" * 250 + "@host.example"}, "email"),
        ({"email": "a@host.example", "name": "n" * 101}, "name"),
        ({"email": "a@host.example", "name": "a\u202eb"}, "name"),
        ({"email": "a@host.example", "name": 5}, "name"),
        ({"name": "No email"}, "email"),
        ({"email": "a@host.example", "is_admin": True}, "is_admin"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(operator, new_tenant_id, body, field):
    tenant_id = new_tenant_id()
    response = operator.call("PUT", f"/api/tenants/{tenant_id}", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]
    assert users.tenant_user(tenant_id) is None


def test_an_email_used_by_another_user_is_409(operator, new_tenant_id, make_user):
    someone = make_user()
    tenant_id = new_tenant_id()
    taken = operator.call("PUT", f"/api/tenants/{tenant_id}", json={"email": someone.email.upper()})
    assert taken.status_code == 409
    error = error_of(taken)
    assert error["code"] == "conflict"
    assert someone.email in error["message"] and "another user" in error["message"]
    assert error["fields"] == {"email": ["Already used by another user."]}
    assert users.tenant_user(tenant_id) is None

    # Nor may a tenant take another tenant's address on update.
    first = operator.put_tenant(new_tenant_id())
    second_id = new_tenant_id()
    second = operator.put_tenant(second_id)
    moved = operator.call("PUT", f"/api/tenants/{second_id}", json={"email": first["email"]})
    assert moved.status_code == 409
    assert operator.call("GET", f"/api/tenants/{second_id}").get_json() == second
    # The user who had the address is left as they were.
    assert users.get_user_by_email(someone.email).external_id is None


def _rows_of(user_id: int, webhook_ids: list[int]) -> dict[str, int]:
    db.session.rollback()
    deliveries = sa.select(Delivery.id).where(Delivery.webhook_id.in_(webhook_ids))
    counts = {
        "users": sa.select(User.id).where(User.id == user_id),
        "webhooks": sa.select(Webhook.id).where(Webhook.user_id == user_id),
        "subscriptions": sa.select(Subscription.webhook_id).where(Subscription.user_id == user_id),
        "events": sa.select(Event.id).where(Event.user_id == user_id),
        "deliveries": deliveries,
        "attempts": sa.select(DeliveryAttempt.id).where(
            DeliveryAttempt.delivery_id.in_(deliveries)
        ),
        "tokens": sa.select(ApiToken.id).where(ApiToken.user_id == user_id),
        "sign_in_links": sa.select(SignInLink.id).where(SignInLink.user_id == user_id),
    }
    return {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        for name, query in counts.items()
    }


@pytest.mark.usefixtures("worker")
def test_delete_removes_the_tenant_and_everything_of_theirs(operator, new_tenant_id, receiver):
    tenant_id, other_id = new_tenant_id(), new_tenant_id()
    footprints = {}
    for external_id in (tenant_id, other_id):
        operator.put_tenant(external_id)
        hook = operator.call(
            "POST",
            "/api/webhooks",
            tenant=external_id,
            json={"name": "Hook", "url": receiver.url, "events": ["custom"]},
        ).get_json()
        fired = operator.call(
            "POST", "/api/events", tenant=external_id, json={"event": "custom", "data": {}}
        )
        assert fired.get_json()["deliveries"] == 1
        user = users.tenant_user(external_id)
        users.create_api_token(user)
        operator.call("POST", f"/api/tenants/{external_id}/sign-in-link", json={})
        footprints[external_id] = (user.id, [hook["id"]])

    for user_id, hook_ids in footprints.values():
        wait_for(lambda user_id=user_id, hook_ids=hook_ids: _rows_of(user_id, hook_ids)["attempts"])
    before = _rows_of(*footprints[tenant_id])
    assert all(before.values()), before

    deleted = operator.call("DELETE", f"/api/tenants/{tenant_id}")
    assert deleted.status_code == 204 and deleted.data == b""

    assert set(_rows_of(*footprints[tenant_id]).values()) == {0}
    assert _rows_of(*footprints[other_id]) == before
    assert operator.call("GET", f"/api/tenants/{tenant_id}").status_code == 404
    acting = operator.call("GET", "/api/webhooks", tenant=tenant_id)
    assert acting.status_code == 404
    # The id is free again: a new tenant by it starts empty.
    operator.put_tenant(tenant_id)
    again = operator.call("GET", "/api/webhooks", tenant=tenant_id)
    assert again.get_json() == {"webhooks": []}


@pytest.fixture
def two_tenants(operator, new_tenant_id, hook_url, worker):
    """Tenant A with nothing, tenant B with a webhook and a delivered event in its log."""
    a, b = new_tenant_id(), new_tenant_id()
    operator.put_tenant(a)
    operator.put_tenant(b)
    hook = operator.call(
        "POST",
        "/api/webhooks",
        tenant=b,
        json={"name": "B's hook", "url": hook_url, "events": ["custom"]},
    ).get_json()
    operator.call("POST", "/api/events", tenant=b, json={"event": "custom", "data": {"b": 1}})
    # Settled: delivered and counted, so nothing of B's changes while a test looks at it.
    wait_for(
        lambda: operator.call("GET", f"/api/webhooks/{hook['id']}", tenant=b).get_json()[
            "success_count"
        ]
    )
    logs = operator.call("GET", f"/api/webhooks/{hook['id']}/logs", tenant=b).get_json()["logs"]
    return a, b, hook, logs[0]


def test_acting_as_one_tenant_never_reaches_another_tenants_webhooks(operator, two_tenants):
    a, b, hook, log = two_tenants
    base = f"/api/webhooks/{hook['id']}"
    change = {"name": "Taken", "url": hook["url"], "events": ["custom"]}
    tries = [
        ("GET", base, None),
        ("PUT", base, change),
        ("PATCH", base, {"name": "Taken"}),
        ("POST", f"{base}/test", None),
        ("POST", f"{base}/rotate-secret", None),
        ("GET", f"{base}/logs", None),
        ("POST", f"{base}/logs/{log['id']}/retry", None),
        ("POST", f"{base}/replay", {"since": "2000-01-01T00:00:00Z"}),
        ("DELETE", base, None),
    ]
    before = operator.call("GET", base, tenant=b).get_json()
    for method, path, body in tries:
        response = operator.call(method, path, tenant=a, json=body)
        assert response.status_code == 404, (method, path, response.get_json())
        assert error_of(response)["code"] == "not_found"

    listed = operator.call("GET", "/api/webhooks", tenant=a).get_json()
    assert listed == {"webhooks": []}
    # A's events reach none of B's webhooks, even of the type B subscribes to.
    fired = operator.call("POST", "/api/events", tenant=a, json={"event": "custom", "data": {}})
    assert fired.status_code == 202 and fired.get_json()["deliveries"] == 0

    # B's webhook is as it was (name, secret, counters, times), one delivery in its log.
    assert operator.call("GET", base, tenant=b).get_json() == before
    b_logs = operator.call("GET", f"{base}/logs", tenant=b).get_json()["logs"]
    assert [entry["id"] for entry in b_logs] == [log["id"]]


def test_acting_as_a_tenant_is_that_tenants_own_access(operator, two_tenants):
    """The same calls as B succeed, so the 404s above are about whose webhook it is."""
    _, b, hook, log = two_tenants
    base = f"/api/webhooks/{hook['id']}"
    assert operator.call("GET", base, tenant=b).status_code == 200
    assert operator.call("PATCH", base, tenant=b, json={"name": "Renamed"}).status_code == 200
    assert operator.call("GET", f"{base}/logs", tenant=b).status_code == 200
    retried = operator.call("POST", f"{base}/logs/{log['id']}/retry", tenant=b)
    assert retried.status_code == 202
    replay = operator.call(
        "POST", f"{base}/replay", tenant=b, json={"since": "2000-01-01T00:00:00Z"}
    )
    assert replay.status_code == 202
    assert operator.call("POST", f"{base}/rotate-secret", tenant=b).status_code == 200
    assert operator.call("POST", f"{base}/test", tenant=b).get_json()["success"] is True
    fired = operator.call("POST", "/api/events", tenant=b, json={"event": "custom", "data": {}})
    assert fired.get_json()["deliveries"] == 1
    assert operator.call("DELETE", base, tenant=b).status_code == 204


def test_a_sign_in_link_is_made_for_the_tenant_and_never_cached(app, operator, new_tenant_id):
    tenant_id = new_tenant_id()
    operator.put_tenant(tenant_id)
    made = operator.call(
        "POST", f"/api/tenants/{tenant_id}/sign-in-link", json={"return_to": "/webhooks/new"}
    )
    assert made.status_code == 201, made.get_json()
    assert made.headers["Cache-Control"] == "no-store"
    body = made.get_json()
    assert set(body) == {"url", "expires_at"}
    assert body["url"].startswith(app.config["BASE_URL"].rstrip("/") + "/sign-in/link/")
    remaining = datetime.fromisoformat(body["expires_at"]) - utcnow()
    assert timedelta(seconds=295) < remaining <= timedelta(seconds=300)

    browser = app.test_client()
    opened = browser.get(urlsplit(body["url"]).path)
    assert opened.status_code == 302 and opened.headers["Location"] == "/webhooks/new"
    assert users.tenant_user(tenant_id).email in browser.get("/webhooks").get_data(as_text=True)

    plain = operator.call("POST", f"/api/tenants/{tenant_id}/sign-in-link", json={})
    assert plain.status_code == 201
    wrong = operator.call("POST", f"/api/tenants/{tenant_id}/sign-in-link", json={"return_to": 1})
    assert wrong.status_code == 422 and "return_to" in error_of(wrong)["fields"]


def test_a_sign_in_link_needs_no_body(app, operator, new_tenant_id):
    """The body is optional: none at all (no Content-Type) is `{}`; one that is there but is not
    a JSON object is still refused, clearly."""
    tenant_id = new_tenant_id()
    operator.put_tenant(tenant_id)
    path = f"/api/tenants/{tenant_id}/sign-in-link"

    bare = operator.call("POST", path)
    assert bare.status_code == 201, bare.get_json()
    opened = app.test_client().get(urlsplit(bare.get_json()["url"]).path)
    assert opened.status_code == 302 and opened.headers["Location"] == "/webhooks"

    for data, content_type in (("return_to=/x", "text/plain"), ("[]", "application/json")):
        refused = operator.call("POST", path, data=data, content_type=content_type)
        assert refused.status_code == 400, data
        assert error_of(refused)["code"] == "bad_request"


def test_concurrent_puts_of_one_new_tenant_make_it_once(app, ctx, new_tenant_id):
    """Each PUT in a thread and a database connection of its own, released together."""
    tenant_id = new_tenant_id()
    racers = 4
    start = threading.Barrier(racers)
    created: list[bool] = []

    def put() -> None:
        with app.app_context():
            start.wait()
            try:
                email = f"{tenant_id}@host.example"
                created.append(tenants.put_tenant(tenant_id, TenantInput(email=email))[1])
            except Exception as exc:  # shown by the assertion below, not lost in the thread
                created.append(exc)  # type: ignore[arg-type]
            finally:
                db.session.remove()

    threads = [threading.Thread(target=put) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created, key=repr) == [False] * (racers - 1) + [True], created
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.external_id == tenant_id)
        )
        == 1
    )
