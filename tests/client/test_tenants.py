"""`client.tenants` and `client.sign_in_link` against the live server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests
from signalpost_client import Client, NotFound, ValidationError

from app.services import users
from tests.support.faultproxy import DROP_ANSWER, FaultProxy


def new_id() -> str:
    return f"host-{uuid.uuid4().hex[:12]}"


def test_put_creates_then_updates_get_reads_delete_removes(signalpost: Client) -> None:
    external_id = new_id()
    email = f"{external_id}@example.com"

    created = signalpost.tenants.put(external_id, email=email, name="Ann")
    assert (created.id, created.email, created.name, created.created) == (
        external_id,
        email,
        "Ann",
        True,
    )
    assert created.created_at is not None and created.created_at.tzinfo is not None

    updated = signalpost.tenants.put(external_id, email=email, name="Ann B.")
    assert (updated.created, updated.name) == (False, "Ann B.")
    assert signalpost.tenants.get(external_id) == updated

    signalpost.tenants.delete(external_id)
    with pytest.raises(NotFound):
        signalpost.tenants.get(external_id)
    with pytest.raises(NotFound):
        signalpost.tenants.delete(external_id)


@pytest.mark.parametrize("external_id", ["not allowed!", "é", "x" * 65])
def test_a_tenant_id_the_server_does_not_allow_is_a_validation_error(
    signalpost: Client, external_id: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        signalpost.tenants.put(external_id, email="x@example.com")
    assert refused.value.status == 422


def test_a_bad_email_names_the_field(signalpost: Client) -> None:
    with pytest.raises(ValidationError) as refused:
        signalpost.tenants.put(new_id(), email="not an address")
    assert "email" in refused.value.fields


def test_a_delete_whose_answer_was_lost_is_done_not_an_error(
    signalpost: Client, through_proxy: Client, proxy: FaultProxy
) -> None:
    external_id = new_id()
    signalpost.tenants.put(external_id, email=f"{external_id}@example.com")
    proxy.plan(DROP_ANSWER)

    through_proxy.tenants.delete(external_id)

    assert [seen.fault for seen in proxy.seen] == [DROP_ANSWER, "pass"]
    with pytest.raises(NotFound):
        signalpost.tenants.get(external_id)


@pytest.mark.usefixtures("ctx")
def test_a_sign_in_link_signs_the_tenant_into_the_pages(
    linked_live_server: str, operator_key: str
) -> None:
    live_server = linked_live_server
    signalpost = Client(live_server, operator_key)
    external_id = new_id()
    email = f"{external_id}@example.com"
    signalpost.tenants.put(external_id, email=email)

    link = signalpost.sign_in_link(external_id, return_to="/webhooks")

    assert link.url.startswith(live_server + "/")
    assert link.expires_at is not None and link.expires_at > datetime.now(UTC)
    browser = requests.Session()
    landed = browser.get(link.url, timeout=10)
    assert landed.status_code == 200 and landed.url == f"{live_server}/webhooks"
    assert email in landed.text
    # The session it opened is the tenant's own.
    assert users.tenant_user(external_id) is not None
    assert "Sign in" not in browser.get(f"{live_server}/webhooks", timeout=10).text


def test_events_reach_a_tenant_made_through_the_api(signalpost: Client) -> None:
    external_id = new_id()
    signalpost.tenants.put(external_id, email=f"{external_id}@example.com")
    assert signalpost.events.send(external_id, "custom", {"x": 1}).deliveries == 0
