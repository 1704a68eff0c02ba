"""The OpenAPI description matches the code: every route is in it, and a fuzzer finds no
server error and no response that differs from it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api import openapi, schemas
from app.domain import filters
from app.domain.urls import url_problem
from app.services import users
from app.services.webhooks import WebhookInput
from tests.api.conftest import Caller


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
USER_OPERATIONS = 13
TENANT = "Signalpost-Tenant"


def test_every_user_operation_takes_the_tenant_header_and_its_errors(client):
    """A user operation may be called by an operator key acting as a tenant: each one refers to
    the one Signalpost-Tenant parameter and to its 400 and 404, written once in components."""
    document = client.get("/api/openapi.json").get_json()
    components = document["components"]
    header = components["parameters"]["SignalpostTenant"]
    assert header["name"] == TENANT and header["in"] == "header" and not header["required"]
    assert "operator key" in header["description"] and "act as" in header["description"]
    assert "bad_request" in components["responses"]["TenantError400"]["description"]
    assert "tenant" in components["responses"]["TenantError404"]["description"]

    user_operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "security" not in operation
    ]
    assert len(user_operations) == USER_OPERATIONS
    for path, method, operation in user_operations:
        where = f"{method.upper()} {path}"
        assert {"$ref": "#/components/parameters/SignalpostTenant"} in operation["parameters"], (
            where
        )
        assert operation["responses"]["400"] == {"$ref": "#/components/responses/TenantError400"}
        assert operation["responses"]["404"] == {"$ref": "#/components/responses/TenantError404"}
    # Operators' own operations and public ones take no tenant.
    tenants = document["paths"]["/api/tenants/{external_id}"]["get"]
    assert all(parameter.get("name") != TENANT for parameter in tenants["parameters"])


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


def test_the_api_conforms_to_its_description_as_a_tenant(app, hook_url, operator_key):
    """Each user operation again, called by an operator key acting as a tenant of its own
    (`Signalpost-Tenant`): the same cases and checks as with a user token."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    user_operations = [op for op in operations if "security" not in op.definition.raw]
    assert len(user_operations) == USER_OPERATIONS

    for operation in user_operations:
        # A tenant per operation, so that its webhooks and rate limits are fresh.
        tenant = TenantCaller.for_new_tenant(app, operator_key)
        fuzz(operation, POSITIVE, operator_key, {}, hook_url, tenant=tenant.tenant)
        if not takes_input(operation):
            continue
        fuzz(operation, NEGATIVE, operator_key, {}, hook_url, tenant=tenant.tenant)
        if len(operation.path_parameters):
            ids = own_ids(tenant, hook_url)
            fuzz(operation, POSITIVE, operator_key, ids, hook_url, tenant=tenant.tenant)
            if len(operation.query) or len(operation.body):
                fuzz(operation, NEGATIVE, operator_key, ids, hook_url, tenant=tenant.tenant)


@dataclass
class TenantCaller(Caller):
    """An operator key acting as a tenant, with a caller's helpers."""

    tenant: str = ""

    @classmethod
    def for_new_tenant(cls, app: Any, key: str) -> TenantCaller:
        external_id = own_tenant(app, key)
        return cls(users.tenant_user(external_id), key, app.test_client(), external_id)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {TENANT: self.tenant, **kwargs.pop("headers", {})}
        return super().call(method, path, headers=headers, **kwargs)


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


def fuzz(
    operation: Any,
    mode: Any,
    token: str,
    ids: dict[str, int],
    local_url: str,
    *,
    tenant: str | None = None,
) -> None:
    """Up to 25 cases of one operation in one mode; path ids fixed to `ids`, random otherwise.

    With `tenant`, `token` is an operator key acting as that tenant; without, a generated
    Signalpost-Tenant header is left out of valid cases (a user token with one is a 403)."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids or None)

    @given(case=strategy)
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def conforms(case: schemathesis.Case) -> None:
        keep_tenant(case, tenant, always=mode == POSITIVE)
        # A changed header makes schemathesis judge the case afresh: one that broke the
        # description only in its headers may be valid now, and is then held to the checks of
        # valid cases, so its body must be kept as valid ones are.
        valid = mode == POSITIVE or (
            case.meta is not None and case.meta.generation.mode.is_positive
        )
        keep_local(case.body, local_url, always=valid)
        if valid:
            keep_filter_valid(case.body)
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=CROSS_FIELD_RULES.get(operation.label, []),
        )

    try:
        conforms()
    except Exception as exc:
        where = f"as tenant {tenant}" if tenant else "with a token"
        exc.add_note(f"operation: {operation.label}, {mode.value} cases, ids {ids or 'random'}")
        exc.add_note(where)
        raise


def keep_tenant(case: Any, tenant: str | None, *, always: bool) -> None:
    """Name the tenant acted for in the case itself (not only in the request), so the checks
    judge what is sent. `always` (every valid case) replaces any generated header; an invalid
    case keeps one that does not fit, since that may be what it tests (the server must refuse
    it), and made valid it would be judged as valid, on a body nobody kept valid. Without a
    tenant, valid cases drop a generated header: each would be the user token's 403."""
    headers = dict(case.headers or {})
    if tenant is not None:
        sent = headers.get(TENANT)
        if always or sent is None or re.fullmatch(schemas.EXTERNAL_ID["pattern"], str(sent)):
            case.headers = {**headers, TENANT: tenant}
    elif always and TENANT in headers:
        del headers[TENANT]
        case.headers = headers


# Rules JSON Schema cannot state, written in the description instead: a replay's `until` must
# be later than its `since`, so a schema-valid pair may still be a 422; a tenant's email is
# checked as every user's is (app/services/users.py), once trimmed and lower-cased.
CROSS_FIELD_RULES = {
    "POST /api/webhooks/{webhook_id}/replay": [positive_data_acceptance],
    "PUT /api/tenants/{external_id}": [positive_data_acceptance],
}


def keep_filter_valid(body: Any) -> None:
    """Swap a generated `filter` the service refuses for a valid one. Its grammar (operators,
    paths, bounds) is stated in the description in words: a JSON Schema can say it is an object
    but not which objects are conditions. tests/api/test_filters_and_rates.py holds the 422s."""
    spec = body.get("filter") if isinstance(body, dict) else None
    if spec is None:
        return
    try:
        filters.compile_filter(spec)
    except filters.FilterError:
        body["filter"] = {"data.symbol": {"$in": ["AAPL", "TSLA"]}, "data.price": {"$gt": 1}}


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
