"""`Client.request`: any other route, as a tenant, with the same errors; only calls that are
safe to repeat are retried."""

from __future__ import annotations

import pytest
from signalpost_client import Client, ServerError, SignalpostError
from signalpost_client.transport import RetryPolicy

from tests.support.faultproxy import Answer, FaultProxy


def test_a_route_called_as_a_tenant_sees_only_that_tenants_objects(
    signalpost: Client, make_tenant, make_webhook
) -> None:
    external_id, user = make_tenant()
    other_id, other = make_tenant()
    make_webhook("http://127.0.0.1:9/hook", user=user, name="mine")
    make_webhook("http://127.0.0.1:9/hook", user=other, name="theirs")

    answer = signalpost.request("GET", "/api/webhooks", tenant=external_id)

    assert answer.status == 200
    assert [hook["name"] for hook in answer.json()["webhooks"]] == ["mine"]


def test_a_get_is_retried_and_a_post_is_not(
    through_proxy: Client, proxy: FaultProxy, make_tenant
) -> None:
    external_id, _ = make_tenant()
    proxy.plan(Answer(503, {"Retry-After": "0"}))
    assert through_proxy.request("GET", "/api/webhooks", tenant=external_id).status == 200
    assert len(proxy.seen) == 2

    proxy.plan(Answer(503, {"Retry-After": "0"}))
    with pytest.raises(ServerError):
        through_proxy.request("POST", "/api/webhooks", tenant=external_id, json={"name": "x"})
    assert len(proxy.seen) == 3


def test_an_answer_that_is_not_json_is_a_signalpost_error(signalpost: Client) -> None:
    front_page = signalpost.request("GET", "/")  # HTML, not the API
    with pytest.raises(SignalpostError) as failed:
        front_page.json()
    assert (failed.value.status, failed.value.code) == (200, "invalid_answer")


def test_backoff_doubles_jittered_and_is_capped() -> None:
    policy = RetryPolicy()
    assert 0.25 <= policy.delay(0) <= 0.5
    assert 0.5 <= policy.delay(1) <= 1.0
    assert all(4.0 <= policy.delay(n) <= 8.0 for n in range(4, 40))
