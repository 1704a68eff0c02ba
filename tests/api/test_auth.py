"""Bearer tokens, the browser session with CSRF, and other users' objects."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.services import users
from tests.api.conftest import error_of


def test_no_token_is_401_with_a_bearer_challenge(client):
    response = client.get("/api/webhooks")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    "header", ["Bearer sp_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "]
)
def test_a_bad_authorization_header_is_401(client, header):
    response = client.get("/api/webhooks", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_revoked_token_is_401(api):
    assert api.get("/api/webhooks").status_code == 200
    (token,) = users.list_api_tokens(api.user)
    users.revoke_api_token(api.user, token.id)

    response = api.get("/api/webhooks")
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_token_calls_set_no_session_cookie(api):
    response = api.get("/api/webhooks")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_openapi_description_is_public(client):
    assert client.get("/api/openapi.json").status_code == 200


def sign_in(app, client, user) -> str:
    """Put the user in the client's session as Flask-Login does; returns a CSRF token for it.

    The session value and the signed token are what flask_wtf.csrf.generate_csrf makes.
    """
    raw = "a" * 40
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def test_the_session_reads_without_csrf_and_writes_only_with_it(app, client, make_user, hook_url):
    user = make_user()
    csrf_token = sign_in(app, client, user)
    body = {"name": "From the page", "url": hook_url, "events": ["custom"]}

    assert client.get("/api/webhooks").get_json() == {"webhooks": []}
    refused = client.post("/api/webhooks", json=body)
    assert refused.status_code == 400
    assert "CSRF" in error_of(refused)["message"]
    forged = client.post("/api/webhooks", json=body, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400

    created = client.post("/api/webhooks", json=body, headers={"X-CSRFToken": csrf_token})
    assert created.status_code == 201
    assert [hook["name"] for hook in client.get("/api/webhooks").get_json()["webhooks"]] == [
        "From the page"
    ]


def test_a_bad_token_is_refused_even_with_a_session(app, client, make_user):
    sign_in(app, client, make_user())
    response = client.get("/api/webhooks", headers={"Authorization": "Bearer sp_wrong"})
    assert response.status_code == 401


def test_bearer_calls_need_no_csrf_token(api, hook_url):
    api.create_webhook(hook_url)  # asserts 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/webhooks/{id}"),
        ("PUT", "/api/webhooks/{id}"),
        ("PATCH", "/api/webhooks/{id}"),
        ("DELETE", "/api/webhooks/{id}"),
        ("POST", "/api/webhooks/{id}/test"),
        ("POST", "/api/webhooks/{id}/rotate-secret"),
        ("GET", "/api/webhooks/{id}/logs"),
        ("POST", "/api/webhooks/{id}/logs/{log}/retry"),
    ],
)
def test_another_users_webhook_is_404(make_caller, method, path, hook_url):
    owner, stranger = make_caller(), make_caller()
    hook = owner.create_webhook(hook_url, events=["custom"])
    event = owner.post("/api/events", json={"event": "custom", "data": {}})
    assert event.get_json()["deliveries"] == 1
    log_id = owner.get(f"/api/webhooks/{hook['id']}/logs").get_json()["logs"][0]["id"]
    url = path.format(id=hook["id"], log=log_id)
    body = {"name": "Mine now", "url": hook_url, "events": ["custom"]}

    response = stranger.call(method, url, json=body)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert owner.get(f"/api/webhooks/{hook['id']}").get_json()["name"] == "Hook"
    assert stranger.get("/api/webhooks").get_json() == {"webhooks": []}


def test_another_webhooks_log_entry_is_404(api, hook_url):
    first = api.create_webhook(hook_url, events=["custom"])
    second = api.create_webhook(hook_url, events=["portfolio_change"])
    api.post("/api/events", json={"event": "custom", "data": {}})
    log_id = api.get(f"/api/webhooks/{first['id']}/logs").get_json()["logs"][0]["id"]

    response = api.post(f"/api/webhooks/{second['id']}/logs/{log_id}/retry")

    assert response.status_code == 404


def test_a_token_call_leaves_nothing_behind_for_the_next_call(api, client):
    """Requests may share one app context (as in these tests): the token's user must not
    carry over to a following call that sends none."""
    assert api.get("/api/webhooks").status_code == 200
    response = api.client.post("/api/events", json={"event": "custom", "data": {}})
    assert response.status_code == 401
