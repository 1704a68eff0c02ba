"""Sessions end server-side: a session cookie kept from before a sign-out or a password change
no longer works, for the pages or for the API, on any device."""

from __future__ import annotations

from app.extensions import db
from app.services import users
from tests.pages.conftest import csrf_token, page_client
from tests.pages.test_auth_pages import post_form

PASSWORD = "a long password"


def signed_in(app, user):
    """A client signed in through the sign-in form, as a browser is."""
    client = page_client(app)
    response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def with_cookie_of(app, other):
    """Another client holding a copy of `other`'s session cookie, as an attacker would."""
    client = page_client(app)
    client.set_cookie("session", other.get_cookie("session").value)
    return client


def works(client) -> bool:
    pages = client.get("/webhooks").status_code
    api = client.get("/api/webhooks").status_code
    assert (pages == 200) == (api == 200), (pages, api)
    return pages == 200


def test_a_cookie_saved_before_signing_out_no_longer_works(app, make_user):
    user = make_user(password=PASSWORD)
    browser = signed_in(app, user)
    saved = with_cookie_of(app, browser)
    assert works(saved)

    browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/webhooks")})

    assert not works(saved)
    assert saved.get("/webhooks").headers["Location"].startswith("/sign-in")
    assert saved.get("/api/webhooks").status_code == 401


def test_signing_out_ends_the_users_other_sessions_too(app, make_user):
    user = make_user(password=PASSWORD)
    laptop, phone = signed_in(app, user), signed_in(app, user)
    stranger = signed_in(app, make_user(password=PASSWORD))

    laptop.post("/sign-out", data={"csrf_token": csrf_token(laptop, "/webhooks")})

    assert not works(phone)
    assert works(stranger), "other users stay signed in"
    assert works(signed_in(app, user)), "signing in again works"


def test_a_password_change_ends_every_session(app, runner, make_user):
    user = make_user(password=PASSWORD)
    browser = signed_in(app, user)
    new_password = "another long passphrase"

    result = runner.invoke(args=["users", "set-password", user.email, "--password", new_password])

    assert result.exit_code == 0, result.output
    assert not works(browser)
    db.session.refresh(user)
    assert users.authenticate(user.email, new_password).id == user.id
    assert users.authenticate(user.email, PASSWORD) is None


def test_a_weak_new_password_is_refused_and_nothing_changes(app, runner, make_user):
    user = make_user(password=PASSWORD)
    browser = signed_in(app, user)
    result = runner.invoke(args=["users", "set-password", user.email, "--password", "password1"])
    assert result.exit_code == 1 and "too easy to guess" in result.output
    assert works(browser)


def test_a_session_naming_only_the_user_id_is_refused(app, make_user):
    """What sessions held before they carried a token, or what a forger would try."""
    user = make_user()
    client = page_client(app)
    for forged in (str(user.id), f"{user.id}:", f"{user.id}:wrong", f"{'9' * 5000}:x"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert not works(client), forged
