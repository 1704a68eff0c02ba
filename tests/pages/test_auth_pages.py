"""Register, sign in and out, the sign-in throttle, the session cookie and API tokens."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken
from app.services import users
from tests.pages.conftest import csrf_token, text


def new_email() -> str:
    return f"page-{uuid.uuid4().hex[:10]}@example.com"


def post_form(client, path, data, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kwargs)


def test_register_errors_show_at_their_fields(client):
    response = post_form(client, "/register", {"email": "not an email", "password": "short"})
    page = text(response)
    assert 'id="email-error">Enter a valid email address.' in page
    assert 'id="password-error">Use at least 8 characters.' in page


def test_sign_in_and_out(client, make_user):
    user = make_user(password="a long password")
    response = post_form(
        client,
        "/sign-in?next=/account/tokens",
        {"email": user.email.upper(), "password": "a long password"},
    )
    assert response.headers["Location"] == "/account/tokens"
    assert user.email in text(client.get("/webhooks"))

    token = csrf_token(client, "/webhooks")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/webhooks").status_code == 302


def test_sign_in_never_redirects_off_site(client, make_user):
    user = make_user(password="a long password")
    data = {"email": user.email, "password": "a long password"}
    response = post_form(client, "/sign-in?next=//evil.example/x", data)
    assert response.headers["Location"] == "/webhooks"


def test_a_wrong_password_is_refused_with_one_message(client, make_user):
    user = make_user(password="a long password")
    response = post_form(
        client, "/sign-in", {"email": user.email, "password": "wrong"}, environ_base=address()
    )
    assert response.status_code == 401
    assert "do not match an account" in text(response)
    assert client.get("/webhooks").status_code == 302


def address() -> dict[str, str]:
    """A client address of this test's own: the throttle counts per address."""
    number = uuid.uuid4().int
    return {"REMOTE_ADDR": f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250}"}


def test_sign_in_is_throttled_after_repeated_failures(client, make_user):
    user = make_user(password="a long password")
    mine, other = address(), address()
    wrong = {"email": user.email, "password": "wrong password"}
    right = {"email": user.email, "password": "a long password"}
    for _ in range(3):  # successes do not count
        assert post_form(client, "/sign-in", right, environ_base=mine).status_code == 302
        client.delete_cookie("session")
    for _ in range(10):
        assert post_form(client, "/sign-in", wrong, environ_base=mine).status_code == 401

    refused = post_form(client, "/sign-in", right, environ_base=mine)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in text(refused)
    assert "Retry-After" in refused.headers
    assert client.get("/sign-in", environ_base=mine).status_code == 200  # the form still shows
    assert post_form(client, "/sign-in", right, environ_base=other).status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user(password="a long password")
    response = post_form(client, "/sign-in", {"email": user.email, "password": "a long password"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sign_in_without_csrf_is_refused(client, make_user):
    user = make_user(password="a long password")
    response = client.post("/sign-in", data={"email": user.email, "password": "a long password"})
    assert response.status_code == 400
    assert client.get("/webhooks").status_code == 302


def test_api_token_is_shown_once_and_stored_hashed(app, browser):
    me = browser()
    made = me.post("/account/tokens", {"name": "<script>bot</script>"})
    assert made.status_code == 302 and made.headers["Location"] == "/account/tokens"
    cookie = app.session_interface.get_signing_serializer(app).loads(
        me.client.get_cookie("session").value
    )
    page = text(me.get("/account/tokens"))
    token = page.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("sp_")
    assert "&lt;script&gt;bot&lt;/script&gt;" in page and "<script>bot" not in page
    stored = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == me.user.id))
    assert stored.token_hash == users.hash_token(token) and token not in stored.token_hash
    assert users.user_for_token(token).id == me.user.id
    assert token not in text(me.get("/account/tokens"))
    assert token not in str(cookie)  # Flask's cookie is readable: the token rode in it sealed


def test_reloading_after_making_a_token_makes_no_second_one(browser):
    me = browser()
    me.post("/account/tokens", {"name": "bot"}, follow_redirects=True)
    reloaded = me.get("/account/tokens")
    assert reloaded.status_code == 200 and 'id="new-token"' not in text(reloaded)
    assert [token.name for token in users.list_api_tokens(me.user)] == ["bot"]


def test_revoke_an_api_token(browser):
    me = browser()
    token = users.create_api_token(me.user, "bot")
    [stored] = users.list_api_tokens(me.user)
    assert me.post(f"/account/tokens/{stored.id}/revoke").status_code == 302
    assert users.user_for_token(token) is None
    assert "Revoked" in text(me.get("/account/tokens"))


def test_another_users_token_cannot_be_revoked(browser):
    owner = browser()
    token = users.create_api_token(owner.user, "bot")
    [stored] = users.list_api_tokens(owner.user)
    assert browser().post(f"/account/tokens/{stored.id}/revoke").status_code == 404
    assert users.user_for_token(token).id == owner.user.id


def test_a_token_name_with_a_nul_is_refused_not_a_server_error(browser):
    """Found by tests/pages/test_hostile_input.py on PostgreSQL, which cannot store a NUL."""
    page = browser().post("/account/tokens", {"name": "bot\x00"})
    assert page.status_code == 200 and "Use printable characters only." in text(page)


@pytest.mark.parametrize("email", ["\x00", "trader\x00@example.com", "a\u2028@example.com"])
@pytest.mark.parametrize("form", ["/sign-in", "/forgot-password"])
def test_an_address_no_account_can_have_is_no_account_not_a_server_error(client, form, email):
    """Found by test_hostile_input on PostgreSQL, which refuses a NUL even as a parameter."""
    data = {"email": email, "password": "a long password"}
    answer = post_form(client, form, data, environ_base=address())
    assert answer.status_code == (401 if form == "/sign-in" else 302)
    assert users.find_user(email) is None
