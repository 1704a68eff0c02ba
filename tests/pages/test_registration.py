"""Registration: one answer whether or not the address has an account, a throttle per address,
strong passwords, the address verified by a mailed link, and open, invite or closed modes."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.extensions import db
from app.models import User, utcnow
from app.services import signed_links, signup
from tests.pages.conftest import csrf_token, text
from tests.pages.test_auth_pages import address, new_email, post_form
from tests.support.waiting import wait_for

PASSWORD = "correct horse battery staple"
LINK = re.compile(r"https?://\S+")


def user_with(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def mail_to(mail_sink, email: str, subject: str):
    def arrived():
        return [mail for mail in mail_sink.to(email) if mail["Subject"] == subject]

    (mail,) = wait_for(arrived)
    return mail.get_payload(decode=True).decode()


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def register(client, email: str, password: str = PASSWORD, follow_redirects=False, **data):
    return post_form(
        client,
        "/register",
        {"email": email, "password": password, **data},
        environ_base=address(),
        follow_redirects=follow_redirects,
    )


def page_without_tokens(response) -> str:
    """The page as a visitor reads it: the CSRF token is the only part that differs by right."""
    return re.sub(r'value="[^"]+"', "", text(response))


@pytest.mark.usefixtures("worker")
def test_a_taken_address_gets_the_same_answer_and_its_owner_a_mail(
    client, make_user, mail_sink, ctx
):
    owner = make_user(password="a long password")
    fresh = new_email()

    new_account = register(client, fresh, follow_redirects=True)
    taken = register(client, owner.email.upper(), follow_redirects=True)

    assert new_account.status_code == taken.status_code == 200
    assert new_account.request.path == taken.request.path == "/register/check-inbox"
    assert page_without_tokens(taken) == page_without_tokens(new_account).replace(
        fresh, owner.email
    )
    assert "Check your inbox" in text(taken) and "taken" not in text(taken).lower()
    assert db.session.scalar(sa.select(sa.func.count()).where(User.email == owner.email)) == 1
    db.session.refresh(owner)
    assert owner.check_password("a long password"), "the account is left as it was"
    notice = mail_to(mail_sink, owner.email, "Someone tried to register with your address")
    assert "which already\r\nhas an account" in notice and "/sign-in" in notice
    assert "/verify-email/" not in notice  # the owner's address is verified already


@pytest.mark.usefixtures("worker")
def test_the_mailed_link_verifies_the_address(client, mail_sink, ctx):
    email = new_email()
    assert register(client, email).status_code == 302
    user = user_with(email)
    assert user is not None and user.email_verified_at is None

    body = mail_to(mail_sink, email, "Confirm your address")
    (link,) = [url for url in LINK.findall(body) if "/verify-email/" in url]
    response = client.get(path_of(link))

    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    db.session.refresh(user)
    assert user.email_verified_at is not None


def test_signed_in_before_verifying_the_page_says_so(browser, make_user):
    unverified = browser(make_user(verified=False))
    page = text(unverified.get("/webhooks"))
    assert "Confirm your address" in page and 'action="/account/verify-email"' in page
    assert "Confirm your address" not in text(browser().get("/webhooks"))


def test_a_forged_or_expired_link_verifies_nothing(client, make_user, ctx):
    user = make_user(verified=False)
    with freeze_time(utcnow() - signup.VERIFY_TTL - timedelta(minutes=1)):
        expired = signed_links.sign(signup.VERIFY_SALT, {"user": user.id, "email": user.email})
    for token in (expired, "forged", expired[:-2] + "xx"):
        response = client.get(f"/verify-email/{token}")
        assert response.status_code == 400 and "expired or is not valid" in text(response)
    db.session.refresh(user)
    assert user.email_verified_at is None


def test_registrations_are_throttled_per_address(client, ctx):
    mine = address()
    for _ in range(5):
        data = {"email": new_email(), "password": PASSWORD}
        assert post_form(client, "/register", data, environ_base=mine).status_code == 302
    refused = post_form(
        client, "/register", {"email": new_email(), "password": PASSWORD}, environ_base=mine
    )
    assert refused.status_code == 429 and "Too many registrations" in text(refused)
    # Mistakes in the form send no mail and do not count; other addresses are not held up.
    other = address()
    for _ in range(6):
        weak = {"email": new_email(), "password": "password"}
        assert post_form(client, "/register", weak, environ_base=other).status_code == 200
    assert register(client, new_email()).status_code == 302


@pytest.mark.usefixtures("worker")
def test_reloading_the_page_a_registration_lands_on_mails_nothing_more(client, mail_sink, ctx):
    email = new_email()
    answer = register(client, email)
    assert answer.status_code == 302 and answer.headers["Location"] == "/register/check-inbox"
    for _ in range(2):
        page = client.get("/register/check-inbox")
        assert page.status_code == 200 and email in text(page)
    mail_to(mail_sink, email, "Confirm your address")
    assert len(mail_sink.to(email)) == 1


def test_the_inbox_page_without_a_registration_leads_to_the_form(client):
    answer = client.get("/register/check-inbox")
    assert answer.status_code == 302 and answer.headers["Location"] == "/register"


@pytest.mark.parametrize("password", ["12345678", "password", "aaaaaaaa", "qwertyuiop"])
def test_weak_passwords_are_refused_by_strength(client, password, ctx):
    email = new_email()
    page = text(register(client, email, password))
    assert 'id="password-error">This password is too easy to guess.' in page
    assert user_with(email) is None


def test_closed_registration_refuses_and_hides_the_link(make_app):
    closed = make_app(SIGNALPOST_REGISTRATION="closed").test_client()
    assert closed.get("/register").status_code == 403
    token = csrf_token(closed)
    refused = closed.post(
        "/register", data={"email": new_email(), "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 403 and "Registration is closed" in text(refused)
    assert 'href="/register"' not in text(closed.get("/")) + text(closed.get("/sign-in"))


@pytest.mark.usefixtures("worker")
def test_by_invitation_only_an_invited_address_registers_verified(make_app, mail_sink, ctx):
    invite_only = make_app(SIGNALPOST_REGISTRATION="invite")
    visitor = invite_only.test_client()
    assert "by invitation" in text(visitor.get("/register"))
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"

    result = invite_only.test_cli_runner().invoke(args=["users", "invite", email])
    assert result.exit_code == 0 and f"Invitation mailed to {email}" in result.output
    body = mail_to(mail_sink, email, "You are invited to Signalpost")
    (link,) = [url for url in LINK.findall(body) if "/register?invite=" in url]
    path = path_of(link)

    form = text(visitor.get(path))
    assert f'value="{email}"' in form and "readonly" in form
    token = csrf_token(visitor, path)
    invite = path.split("invite=", 1)[1]
    answer = visitor.post(
        "/register",
        data={"email": "someone-else@example.com", "password": PASSWORD, "invite": invite,
              "csrf_token": token},
        follow_redirects=True,
    )  # fmt: skip
    assert answer.status_code == 200 and "Check your inbox" in text(answer)
    user = user_with(email)
    assert user is not None and user.email_verified_at is not None
    assert user_with("someone-else@example.com") is None
    mail_to(mail_sink, email, "Your Signalpost account")

    forged = visitor.get("/register?invite=" + invite[:-3] + "abc")
    assert forged.status_code == 403 and "invitation has expired or is not valid" in text(forged)
