"""The admin page: admins only, every user's webhooks, and enable/disable for anyone's."""

from __future__ import annotations

from app.extensions import db
from app.models import Webhook
from app.services import users
from tests.api.conftest import Caller
from tests.pages.conftest import text


def test_admin_is_for_admins_only(browser, client):
    assert client.get("/admin/").status_code == 302
    response = browser().get("/admin/")
    assert response.status_code == 403
    assert "This page is for administrators." in text(response)
    assert browser().post("/admin/webhooks/1/active", {"active": "0"}).status_code == 403


def test_admin_sees_every_users_webhooks_and_counts(browser, make_user, make_webhook):
    owner = make_user()
    webhook, secret = make_webhook(
        "http://127.0.0.1:9/<script>", user=owner, name="<script>x</script>"
    )
    # More failures in a row than any other test's webhook: the list shows the worst first.
    webhook.consecutive_failures = 10**6
    db.session.commit()
    admin = browser(is_admin=True)
    page = text(admin.get("/admin/"))
    assert f'id="admin-webhook-{webhook.id}"' in page
    assert owner.email in page
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert secret not in page
    troubled = page.split('id="troubled"', 1)[1].split("</table>", 1)[0]
    assert "&lt;script&gt;x&lt;/script&gt;" in troubled
    assert "1000000 failed deliveries in a row" in troubled
    assert 'id="deliveries-last-hour"' in page and 'id="success-rate"' in page
    users = text(admin.get("/admin/users")).split('id="users"', 1)[1].split("</table>", 1)[0]
    assert owner.email in users


def test_admin_disables_and_enables_anyones_webhook(browser, make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    admin = browser(is_admin=True)
    assert admin.post(f"/admin/webhooks/{webhook.id}/active", {"active": "0"}).status_code == 302
    db.session.rollback()
    saved = db.session.get(Webhook, webhook.id)
    assert not saved.is_active and saved.disabled_reason == "Disabled by an admin."
    owner_view = text(browser(saved.user).get("/webhooks"))
    assert "Disabled by an admin." in owner_view
    admin.post(f"/admin/webhooks/{webhook.id}/active", {"active": "1"})
    db.session.rollback()
    assert db.session.get(Webhook, webhook.id).is_active


def test_admin_link_only_for_admins(browser):
    assert 'href="/admin/"' not in text(browser().get("/webhooks"))
    assert 'href="/admin/"' in text(browser(is_admin=True).get("/webhooks"))


def test_an_admins_disable_holds_against_its_owner(app, browser, make_webhook, make_user):
    user = make_user()
    owner = Caller(user, users.create_api_token(user), app.test_client())
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=user)
    admin, page = browser(is_admin=True), browser(user)
    admin.post(f"/admin/webhooks/{webhook.id}/active", {"active": "0"})
    why = "Disabled by an admin. Only an admin can enable it again."

    patched = owner.patch(f"/api/webhooks/{webhook.id}", json={"is_active": True, "name": "x"})
    assert patched.status_code == 409
    assert patched.get_json()["error"]["message"] == why
    put = owner.put(
        f"/api/webhooks/{webhook.id}",
        json={"name": "x", "url": webhook.url, "events": ["custom"], "is_active": True},
    )
    assert put.status_code == 409
    enabled = page.post(f"/webhooks/{webhook.id}/active", {"active": "1"}, follow_redirects=True)
    assert why in text(enabled)
    assert "Only an admin can enable it." in text(page.get("/webhooks"))
    form = page.post(
        f"/webhooks/{webhook.id}/edit",
        {"name": "Mine", "url": webhook.url, "events": ["custom"], "format": "json",
         "is_active": "y"},
    )  # fmt: skip
    assert why in text(form)
    db.session.rollback()
    held = db.session.get(Webhook, webhook.id)
    assert not held.is_active and held.disabled_by_admin and held.name == "Test hook"

    # Other changes are the owner's to make; disabling again changes nothing.
    renamed = owner.patch(f"/api/webhooks/{webhook.id}", json={"name": "Renamed"})
    assert renamed.status_code == 200 and renamed.get_json()["disabled_reason"] == (
        "Disabled by an admin."
    )
    assert owner.patch(f"/api/webhooks/{webhook.id}", json={"is_active": False}).status_code == 200

    admin.post(f"/admin/webhooks/{webhook.id}/active", {"active": "1"})
    owner.patch(f"/api/webhooks/{webhook.id}", json={"is_active": False})
    again = owner.patch(f"/api/webhooks/{webhook.id}", json={"is_active": True})
    assert again.status_code == 200 and again.get_json()["is_active"] is True


def test_an_admin_disabling_an_already_disabled_webhook_makes_it_hold(browser, make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    owner = browser(webhook.user)
    owner.post(f"/webhooks/{webhook.id}/active", {"active": "0"})
    browser(is_admin=True).post(f"/admin/webhooks/{webhook.id}/active", {"active": "0"})
    owner.post(f"/webhooks/{webhook.id}/active", {"active": "1"})
    db.session.rollback()
    held = db.session.get(Webhook, webhook.id)
    assert not held.is_active and held.disabled_reason == "Disabled by an admin."
