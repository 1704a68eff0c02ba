"""A forgotten password: the same answer for any address, a mailed link that works once and
for an hour, and a reset that ends every session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from app.extensions import db
from app.models import utcnow
from app.services import password_reset, users
from tests.pages.conftest import csrf_token, sign_in, text
from tests.pages.test_auth_pages import address, new_email, post_form
from tests.pages.test_registration import LINK, mail_to, path_of

OLD = "a long password"
NEW = "purple elephant quietly juggling"
SUBJECT = "Reset your Signalpost password"


def ask_for_link(client, email: str, environ=None, follow_redirects=False):
    return post_form(
        client,
        "/forgot-password",
        {"email": email},
        environ_base=environ or address(),
        follow_redirects=follow_redirects,
    )


def test_the_sign_in_page_links_to_the_reset_form(client):
    page = text(client.get("/sign-in"))
    assert 'href="/forgot-password"' in page


@pytest.mark.usefixtures("worker")
def test_a_mailed_link_sets_a_new_password_once_and_ends_every_session(
    app, client, make_user, mail_sink, ctx
):
    user = make_user(password=OLD)
    elsewhere = sign_in(app.test_client(), user)
    assert elsewhere.get("/webhooks").status_code == 200

    answer = ask_for_link(client, user.email, follow_redirects=True)
    assert answer.status_code == 200 and "Check your inbox" in text(answer)
    link = LINK.search(mail_to(mail_sink, user.email, SUBJECT)).group(0)
    path = path_of(link)
    form = client.get(path)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"

    weak = post_form(client, path, {"password": "password"})
    assert weak.status_code == 200 and 'id="password-error"' in text(weak)
    done = post_form(client, path, {"password": NEW})

    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    db.session.expire_all()
    assert users.authenticate(user.email, NEW) is not None
    assert users.authenticate(user.email, OLD) is None
    assert elsewhere.get("/webhooks").status_code == 302, "the other session has ended"
    again = client.get(path)
    assert again.status_code == 410 and "no longer works" in text(again)


def test_the_answer_is_the_same_for_an_unknown_address(client, make_user):
    known = make_user()
    for_known = text(ask_for_link(client, known.email, follow_redirects=True))
    unknown = new_email()
    for_unknown = text(ask_for_link(client, unknown, follow_redirects=True))
    for_known, for_unknown = for_known.replace(known.email, "X"), for_unknown.replace(unknown, "X")
    assert for_known == for_unknown


def test_a_link_expires_after_an_hour(client, make_user):
    user = make_user()
    with freeze_time(utcnow() - password_reset.RESET_TTL - timedelta(minutes=1)):
        path = path_of(password_reset.reset_link(user))
    assert client.get(path).status_code == 410
    assert post_form_blind(client, path).status_code == 410
    assert users.authenticate(user.email, OLD) is not None


def post_form_blind(client, path):
    """A POST to an expired link, with a token from another page: nothing is changed."""
    return client.post(path, data={"csrf_token": csrf_token(client), "password": NEW})


def test_a_forged_or_other_link_is_refused(client, make_user):
    user = make_user()
    path = path_of(password_reset.reset_link(user))
    assert client.get(path + "x").status_code == 410
    assert client.get("/reset-password/not-a-token").status_code == 410
    users.end_sessions(user)  # signing out everywhere also retires the links mailed before
    assert client.get(path).status_code == 410


@pytest.mark.usefixtures("worker")
def test_a_tenant_gets_no_reset_link(client, make_user, mail_sink, ctx):
    tenant = make_user()
    tenant.external_id = f"host-{tenant.id}"
    db.session.commit()
    other = make_user()

    ask_for_link(client, tenant.email)
    ask_for_link(client, other.email)

    mail_to(mail_sink, other.email, SUBJECT)  # mail went out after the tenant's request
    assert mail_sink.to(tenant.email) == []


def test_reset_links_are_throttled_per_address(client, make_user):
    mine = address()
    for _ in range(5):
        assert ask_for_link(client, new_email(), mine).status_code == 302
    refused = ask_for_link(client, new_email(), mine)
    assert refused.status_code == 429
    assert ask_for_link(client, new_email()).status_code == 302, "other addresses may ask"
