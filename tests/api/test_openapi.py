"""The OpenAPI description matches the code: every route is in it, and a fuzzer finds no
server error and no response that differs from it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.api import openapi
from app.domain.urls import url_problem


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
    assert set(schema["properties"]) == {"name", "url", "events", "format", "is_active"}
    patch = document["paths"]["/api/webhooks/{webhook_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["required"] == []


MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def test_the_api_conforms_to_its_description(app, make_caller, receiver):
    """Each operation, 25 cases that fit the description and (when it takes any input) 25 that
    do not, with a token.

    Every response must be no 5xx, of a documented status, content type, headers and body;
    cases that break the description must be refused (4xx); calls without the token must be
    refused (401).
    """
    token = make_caller().token
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {token}"},
            # The description cannot say which strings are valid URLs or names: a 422 for a
            # well-typed value is the service doing its job, not a mismatch.
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13

    for operation in operations:
        has_input = any(
            len(inputs) for inputs in (operation.path_parameters, operation.query, operation.body)
        )
        for mode in MODES if has_input else MODES[:1]:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=25,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def conforms(case: schemathesis.Case) -> None:
                point_urls_at(case.body, receiver.url)
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

            try:
                conforms()
            except Exception as exc:
                exc.add_note(f"operation: {operation.label}, {mode.value} cases")
                raise


def point_urls_at(body: Any, local_url: str) -> None:
    """Point a generated URL that would be accepted at a local receiver: the fuzzer must never
    send a delivery, or a test, to the internet."""
    url = body.get("url") if isinstance(body, dict) else None
    if isinstance(url, str) and url_problem(url, require_https=False) is None:
        body["url"] = local_url
