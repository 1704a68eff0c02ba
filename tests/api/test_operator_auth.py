"""Operator keys on the API: the mistakes a host can make get clear errors, and a key or a
token reaches only what it is for."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import OperatorKey
from app.services import operator_keys
from app.services.users import hash_token
from tests.api.conftest import error_of
from tests.pages.conftest import page_client, sign_in


def test_an_operator_key_on_a_user_route_needs_the_tenant_header(operator):
    response = operator.call("GET", "/api/webhooks")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request" and "Signalpost-Tenant" in error["message"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_tenant_header_is_the_same_400_as_none(operator, blank):
    response = operator.call("GET", "/api/webhooks", tenant=blank)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert "Signalpost-Tenant" in error["message"] and "empty" in error["message"]


def test_an_unknown_tenant_is_404(operator, new_tenant_id):
    tenant_id = new_tenant_id()
    response = operator.call("POST", "/api/events", tenant=tenant_id, json={"event": "custom"})
    assert response.status_code == 404
    assert tenant_id in error_of(response)["message"]


def test_a_user_token_with_the_tenant_header_is_403(api, operator, new_tenant_id):
    tenant_id = new_tenant_id()
    operator.put_tenant(tenant_id)
    response = api.get("/api/webhooks", headers={"Signalpost-Tenant": tenant_id})
    assert response.status_code == 403
    assert "operator key" in error_of(response)["message"]


def test_a_user_token_never_reaches_the_tenants_api(api, operator, new_tenant_id):
    tenant_id = new_tenant_id()
    operator.put_tenant(tenant_id)
    calls = [
        ("PUT", f"/api/tenants/{tenant_id}", {"email": "taken@host.example"}),
        ("GET", f"/api/tenants/{tenant_id}", None),
        ("POST", f"/api/tenants/{tenant_id}/sign-in-link", {}),
        ("DELETE", f"/api/tenants/{tenant_id}", None),
    ]
    for method, path, body in calls:
        response = api.call(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert error_of(response)["code"] == "forbidden"
    assert operator.call("GET", f"/api/tenants/{tenant_id}").get_json()["email"] != (
        "taken@host.example"
    )


def test_a_signed_in_browser_never_reaches_the_tenants_api(app, make_user, operator, new_tenant_id):
    tenant_id = new_tenant_id()
    operator.put_tenant(tenant_id)
    browser = sign_in(page_client(app), make_user(is_admin=True))
    response = browser.get(f"/api/tenants/{tenant_id}")
    assert response.status_code == 401
    assert "spk_" in error_of(response)["message"]


def test_a_revoked_or_unknown_key_is_401(ctx, operator, new_tenant_id):
    tenant_id = new_tenant_id()
    operator.put_tenant(tenant_id)
    key = operator_keys.key_for(operator.key)
    operator_keys.revoke_key(key.id)
    for path, tenant in ((f"/api/tenants/{tenant_id}", None), ("/api/webhooks", tenant_id)):
        revoked = operator.call("GET", path, tenant=tenant)
        assert revoked.status_code == 401, path
        assert "revoked" in error_of(revoked)["message"]
        assert revoked.headers["WWW-Authenticate"].lower().startswith("bearer")
    unknown = operator.client.get(
        f"/api/tenants/{tenant_id}", headers={"Authorization": "Bearer spk_not-a-key"}
    )
    assert unknown.status_code == 401


def test_an_operator_key_never_opens_the_pages(client, operator):
    response = client.get("/webhooks", headers={"Authorization": f"Bearer {operator.key}"})
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_an_operator_key_records_when_it_was_last_used(ctx, operator, new_tenant_id):
    def stored() -> OperatorKey:
        db.session.rollback()
        return db.session.scalar(
            sa.select(OperatorKey).where(OperatorKey.key_hash == hash_token(operator.key))
        )

    assert stored().last_used_at is None
    operator.put_tenant(new_tenant_id())
    assert stored().last_used_at is not None
