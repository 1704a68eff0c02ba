"""The OpenAPI description matches the code: every route is in it, and a fuzzer finds no
server error and no response that differs from it."""

from __future__ import annotations

import re
import uuid
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api import openapi
from app.domain.urls import url_problem
from app.services.webhooks import WebhookInput


def test_every_route_under_api_and_healthz_is_described(app, client):
    document = client.get("/api/openapi.json").get_json()
    described = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}

    assert described == routed
    assert document["openapi"] == "3.1.0"
    assert ("/api/webhooks/{webhook_id}/logs/{log_id}/retry", "POST") in described


def test_a_route_without_a_description_fails_the_build(app):
    with app.test_request_context():
        view = app.view_functions["api.list_webhooks"]
        operation = view.__dict__.pop("api_operation")
        try:
            with pytest.raises(LookupError, match="api.list_webhooks"):
                openapi.build()
        finally:
            view.api_operation = operation


def test_request_schemas_are_the_ones_the_views_check(client):
    document = client.get("/api/openapi.json").get_json()
    create = document["paths"]["/api/webhooks"]["post"]["requestBody"]["content"]
    schema = create["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    # Every field the API takes is one the service takes: WebhookInput(**body) cannot fail.
    assert set(schema["properties"]) == {field.name for field in fields(WebhookInput)}
    patch = document["paths"]["/api/webhooks/{webhook_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["required"] == []


POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
OPERATIONS = 18


def test_the_api_conforms_to_its_description(app, make_caller, hook_url, operator_key):
    """Each operation with a token (an operator key for the tenants API): 25 cases that fit the
    description and, when it takes any input, 25 that do not; then both again on the caller's
    own webhook and log entry, or on a tenant that exists.

    Every response must be no 5xx, of a documented status, content type, headers and body;
    cases that break the description must be refused (4xx); the same calls without the token
    must be refused (401).
    """
    caller = make_caller()
    # Every check, positive_data_acceptance among them: a request the description calls valid
    # must not be refused as invalid (400, 422).
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == OPERATIONS

    for operation in operations:
        token = operator_key if for_operators(operation) else caller.token
        fuzz(operation, POSITIVE, token, {}, hook_url)
        if not takes_input(operation):
            continue
        fuzz(operation, NEGATIVE, token, {}, hook_url)
        if len(operation.path_parameters):
            if for_operators(operation):
                ids = {"external_id": own_tenant(app, operator_key)}
            else:
                # A caller of its own, so that its webhook and rate limits are fresh.
                owner = make_caller()
                token, ids = owner.token, own_ids(owner, hook_url)
            fuzz(operation, POSITIVE, token, ids, hook_url)
            if len(operation.query) or len(operation.body):
                fuzz(operation, NEGATIVE, token, ids, hook_url)


def for_operators(operation: Any) -> bool:
    return operation.definition.raw.get("security") == [{"operatorKey": []}]


def own_tenant(app: Any, key: str) -> str:
    external_id = f"fuzz-{uuid.uuid4().hex}"
    response = app.test_client().put(
        f"/api/tenants/{external_id}",
        json={"email": f"{external_id}@host.example"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.get_json()
    return external_id


def takes_input(operation: Any) -> bool:
    return any(len(part) for part in (operation.path_parameters, operation.query, operation.body))


def own_ids(caller: Any, local_url: str) -> dict[str, int]:
    """Ids of a webhook of the caller's and of an entry in its delivery log."""
    hook = caller.create_webhook(local_url, events=["custom"])
    caller.post("/api/events", json={"event": "custom", "data": {"fuzz": True}})
    (log,) = caller.get(f"/api/webhooks/{hook['id']}/logs").get_json()["logs"]
    return {"webhook_id": hook["id"], "log_id": log["id"]}


def fuzz(operation: Any, mode: Any, token: str, ids: dict[str, int], local_url: str) -> None:
    """Up to 25 cases of one operation in one mode; path ids fixed to `ids`, random otherwise."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids or None)

    @given(case=strategy)
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def conforms(case: schemathesis.Case) -> None:
        keep_local(case.body, local_url, always=mode == POSITIVE)
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=CROSS_FIELD_RULES.get(operation.label, []),
        )

    try:
        conforms()
    except Exception as exc:
        exc.add_note(f"operation: {operation.label}, {mode.value} cases, ids {ids or 'random'}")
        raise


# Rules JSON Schema cannot state, written in the description instead: a replay's `until` must
# be later than its `since`, so a schema-valid pair may still be a 422; a tenant's email is
# checked as every user's is (app/services/users.py), once trimmed and lower-cased.
CROSS_FIELD_RULES = {
    "POST /api/webhooks/{webhook_id}/replay": [positive_data_acceptance],
    "PUT /api/tenants/{external_id}": [positive_data_acceptance],
}


def keep_local(body: Any, local_url: str, *, always: bool) -> None:
    """Point a generated URL that would be accepted at a local receiver: the fuzzer must never
    send a delivery, or a test, to the internet. `always` (every valid case) swaps any URL:
    whether a URL is accepted depends on what its host resolves to, which no schema can say."""
    url = body.get("url") if isinstance(body, dict) else None
    if isinstance(url, str) and (
        always or url_problem(url, require_https=False, allow_private=True) is None
    ):
        body["url"] = local_url


def test_docs_api_md_shows_every_operation(client):
    """docs/api.md has a section, with a curl example, for each operation described."""
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path, item in paths.items():
        written = (
            path.replace("{webhook_id}", "<id>")
            .replace("{log_id}", "<log_id>")
            .replace("{external_id}", "<external_id>")
        )
        for method in item:
            assert f"`{method.upper()} {written}`" in text, f"{method} {path} is not in docs/api.md"
    assert text.count("curl ") >= len(paths)
