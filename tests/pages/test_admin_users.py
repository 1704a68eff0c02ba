"""Users on the admin pages: the list, disable and enable (no way in while disabled, and every
session ended), and a password reset link mailed by an admin."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.models import User, Webhook
from app.services import sign_in_links, tenants, users
from app.services.tenants import TenantInput
from tests.pages.conftest import page_client, sign_in, text
from tests.pages.test_auth_pages import address, post_form
from tests.pages.test_password_reset import SUBJECT
from tests.pages.test_registration import LINK, mail_to, path_of

PASSWORD = "a long password"


@pytest.fixture
def tenant(ctx):
    external_id = f"admin-{uuid.uuid4().hex[:12]}"
    user, _ = tenants.put_tenant(
        external_id, TenantInput(email=f"{external_id}@host.example", name="Ada <Lovelace>")
    )
    return user


def row(page: str, user: User) -> str:
    return page.split(f'id="user-{user.id}"', 1)[1].split("</tr>", 1)[0]


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def set_disabled(admin, user: User, disabled: bool):
    return admin.post(f"/admin/users/{user.id}/disabled", {"disabled": "1" if disabled else "0"})


def sign_in_with_password(app, user: User, password: str = PASSWORD):
    client = page_client(app)
    return post_form(
        client, "/sign-in", {"email": user.email, "password": password}, environ_base=address()
    )


def test_the_list_shows_who_each_user_is(browser, make_user, make_webhook, tenant):
    admin = browser(is_admin=True)
    owner = make_user()
    make_webhook("http://127.0.0.1:9/hook", user=owner)
    second, _ = make_webhook("http://127.0.0.1:9/hook", user=owner)
    second.is_active = False
    db.session.commit()

    page = text(admin.get("/admin/users"))

    mine = row(page, owner)
    assert owner.email in mine and "2 (1 active)" in mine and "Active" in mine
    assert "Disable" in mine and "Send reset link" in mine
    theirs = row(page, tenant)
    assert tenant.external_id in theirs and "Ada &lt;Lovelace&gt;" in theirs
    assert "No reset link: signs in through the host application." in theirs
    assert "Send reset link" not in theirs
    me = row(page, admin.user)
    assert "(you)" in me and "You cannot disable yourself." in me and "Disable<" not in me
    assert "operator-notices@signalpost" not in page


def test_users_are_for_admins_only(browser, make_user):
    other = make_user()
    someone = browser()
    assert someone.get("/admin/users").status_code == 403
    assert set_disabled(someone, other, True).status_code == 403
    assert someone.post(f"/admin/users/{other.id}/reset-link").status_code == 403
    assert fresh(other).is_active


def test_every_post_needs_its_csrf_token(browser, make_user):
    admin, other = browser(is_admin=True), make_user()
    refused = admin.client.post(f"/admin/users/{other.id}/disabled", data={"disabled": "1"})
    assert refused.status_code == 400
    assert admin.client.post(f"/admin/users/{other.id}/reset-link").status_code == 400
    assert fresh(other).is_active


def test_an_unknown_user_is_404(browser):
    missing = set_disabled(browser(is_admin=True), User(id=999999999), True)
    assert missing.status_code == 404 and "No user with id 999999999." in text(missing)


def test_a_disabled_user_is_signed_out_and_kept_out_until_enabled(
    app, browser, make_user, make_webhook
):
    admin = browser(is_admin=True)
    user = make_user(password=PASSWORD)
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=user)
    token = users.create_api_token(user)
    elsewhere = sign_in(page_client(app), user)
    assert elsewhere.get("/webhooks").status_code == 200
    api = app.test_client()

    def api_status() -> int:
        return api.get("/api/webhooks", headers={"Authorization": f"Bearer {token}"}).status_code

    done = set_disabled(admin, user, True)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/users"
    page = text(admin.get("/admin/users"))
    assert f"{user.email} is disabled and signed out everywhere." in page
    assert "Disabled" in row(page, user) and "Enable" in row(page, user)
    assert fresh(user).disabled_at is not None

    assert elsewhere.get("/webhooks").status_code == 302, "the session has ended"
    refused = sign_in_with_password(app, user)
    assert refused.status_code == 403 and "This account is disabled." in text(refused)
    wrong = sign_in_with_password(app, user, "not the password")
    assert wrong.status_code == 401 and "This account is disabled." not in text(wrong)
    answer = api.get("/api/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "account_disabled"
    assert "API tokens are refused" in answer.get_json()["error"]["message"]
    held = db.session.get(Webhook, webhook.id)
    assert held.is_active and not held.disabled_by_admin, "the webhooks keep their state"

    assert set_disabled(admin, user, False).status_code == 302
    assert f"{user.email} is enabled again and can sign in." in text(admin.get("/admin/users"))
    assert elsewhere.get("/webhooks").status_code == 302, "old sessions stay ended"
    assert sign_in_with_password(app, user).status_code == 302
    assert api_status() == 200


def test_a_disabled_tenant_gets_no_sign_in_and_no_acting_operator(
    app, browser, tenant, operator_key
):
    earlier = urlsplit(sign_in_links.create_link(tenant).url).path
    set_disabled(browser(is_admin=True), tenant, True)
    operator = app.test_client()
    key = {"Authorization": f"Bearer {operator_key}"}

    acting = operator.get("/api/webhooks", headers={**key, "Signalpost-Tenant": tenant.external_id})
    assert acting.status_code == 403
    error = acting.get_json()["error"]
    assert error["code"] == "account_disabled"
    assert (
        error["message"] == f"Tenant {tenant.external_id!r} is disabled on Signalpost by an admin."
    )
    link = operator.post(f"/api/tenants/{tenant.external_id}/sign-in-link", headers=key, json={})
    assert link.status_code == 403 and link.get_json()["error"]["code"] == "account_disabled"
    assert operator.get(f"/api/tenants/{tenant.external_id}", headers=key).status_code == 200

    browser_client = page_client(app)
    opened = browser_client.get(earlier)
    assert opened.status_code == 403 and "sign-in links sign nobody in" in text(opened)
    assert browser_client.get("/webhooks").status_code == 302, "nobody signed in"


def test_an_admin_cannot_disable_themself(browser):
    admin = browser(is_admin=True)
    assert set_disabled(admin, admin.user, True).status_code == 302
    assert "You cannot disable your own account." in text(admin.get("/admin/users"))
    assert fresh(admin.user).is_active


@pytest.mark.usefixtures("worker")
def test_an_admin_mails_a_reset_link(app, browser, make_user, mail_sink, tenant):
    admin, user = browser(is_admin=True), make_user()

    sent = admin.post(f"/admin/users/{user.id}/reset-link")

    assert sent.status_code == 302 and sent.headers["Location"] == "/admin/users"
    assert f"A reset link is on its way to {user.email}" in text(admin.get("/admin/users"))
    link = LINK.search(mail_to(mail_sink, user.email, SUBJECT)).group(0)
    assert page_client(app).get(path_of(link)).status_code == 200

    admin.post(f"/admin/users/{tenant.id}/reset-link")
    page = text(admin.get("/admin/users"))
    assert f"is tenant {tenant.external_id!r} of the host application" in page.replace("&#39;", "'")
    assert "there is no password to reset" in page
    assert mail_sink.to(tenant.email) == []
