"""/admin/keys: admins list, create (the key shown once, never cached) and revoke operator keys;
every POST answers with a redirect and needs the CSRF token."""

from __future__ import annotations

import re
import uuid

from app.services import operator_keys
from tests.pages.conftest import text

KEY = re.compile(r'id="new-key">(spk_[A-Za-z0-9_-]+)<')


def test_operator_keys_are_for_admins_only(browser, client, operator_key):
    assert client.get("/admin/keys").status_code == 302
    someone = browser()
    assert someone.get("/admin/keys").status_code == 403
    assert someone.post("/admin/keys", {"name": "mine"}).status_code == 403
    key_id = operator_keys.key_for(operator_key).id
    assert someone.post(f"/admin/keys/{key_id}/revoke").status_code == 403
    assert operator_keys.key_for(operator_key) is not None


def test_an_admin_creates_a_key_shown_once_and_never_cached(app, browser):
    admin = browser(is_admin=True)
    name = f"host backend {uuid.uuid4().hex[:6]}"
    created = admin.post("/admin/keys", {"name": name})
    assert created.status_code == 302 and created.headers["Location"] == "/admin/keys"

    shown = admin.get("/admin/keys")
    assert shown.headers["Cache-Control"] == "no-store"
    page = text(shown)
    key = KEY.search(page).group(1)
    assert name in page and "it will not be shown again" in page
    stored = operator_keys.key_for(key)
    assert stored is not None and stored.name == name

    again = text(admin.get("/admin/keys"))
    assert key not in again and name in again
    # The key works on the API.
    response = app.test_client().get(
        "/api/tenants/nobody", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404


def test_a_bad_name_is_said_after_the_redirect(browser):
    admin = browser(is_admin=True)
    refused = admin.post("/admin/keys", {"name": "  "})
    assert refused.status_code == 302
    page = text(admin.get("/admin/keys"))
    assert "Give the key a name" in page and 'id="new-key"' not in page


def test_an_admin_revokes_a_key(browser, operator_key):
    admin = browser(is_admin=True)
    key = operator_keys.key_for(operator_key)
    listed = text(admin.get("/admin/keys"))
    row = listed.split(f'id="operator-key-{key.id}"', 1)[1].split("</tr>", 1)[0]
    assert key.name in row and "Active" in row and "Revoke" in row

    revoked = admin.post(f"/admin/keys/{key.id}/revoke")
    assert revoked.status_code == 302 and revoked.headers["Location"] == "/admin/keys"
    assert operator_keys.key_for(operator_key) is None
    row = text(admin.get("/admin/keys")).split(f'id="operator-key-{key.id}"', 1)[1]
    assert "Revoked" in row.split("</tr>", 1)[0]
    assert admin.post("/admin/keys/999999999/revoke").status_code == 404


def test_posts_without_the_csrf_token_are_refused(browser, operator_key):
    admin = browser(is_admin=True)
    key = operator_keys.key_for(operator_key)
    assert admin.client.post("/admin/keys", data={"name": "forged"}).status_code == 400
    assert admin.client.post(f"/admin/keys/{key.id}/revoke").status_code == 400
    assert operator_keys.key_for(operator_key) is not None
    assert "forged" not in text(admin.get("/admin/keys"))


def test_the_admin_page_links_to_the_keys(browser):
    assert 'href="/admin/keys"' in text(browser(is_admin=True).get("/admin/"))
