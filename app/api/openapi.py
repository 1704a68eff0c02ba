"""The OpenAPI 3.1 description, built from the URL map and what each view declares.

Each API view carries its description (`@document`); the paths, methods and path parameters
come from the routes themselves, and the bodies from the schemas the views validate with. A
route without a description fails the build (and the tests), so code and description keep step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.routing import Rule

from app.api import bp, schemas
from app.api.schemas import Schema
from app.version import __version__

F = TypeVar("F", bound=Callable[..., Any])

ERROR_DESCRIPTIONS = {
    400: "The body is not a JSON object, or the CSRF token is missing",
    401: "No valid API token or session",
    403: "This key or token may not do this (tenants, Signalpost-Tenant: operator keys only), "
    "or its user is disabled",
    404: "Not found, or not yours",
    409: "Conflict",
    413: "The body or the event data is too large",
    422: "A field is missing, unknown, of the wrong type or not valid",
    429: "Too many requests; wait for Retry-After seconds",
    503: "A dependency is down",
}
# Every user operation (neither public nor the operator's own) may be called by an operator key
# acting as a tenant: it takes this header and can answer these two errors for it, stated once
# in `components` (app/api/auth.py) and referred to by each such operation.
TENANT_PARAMETER: dict[str, Any] = {
    "name": "Signalpost-Tenant",
    "in": "header",
    "required": False,
    "description": "With an operator key, act as that tenant (the host's external id): "
    "required then, refused (403) with a user token.",
    # The tenant ids' pattern, but not their 422: an id that does not fit names no tenant (404).
    "schema": {"type": "string", "pattern": schemas.EXTERNAL_ID["pattern"]},
}
TENANT_RESPONSES: dict[int, str] = {
    400: "A body that is not a JSON object (where one is taken), a missing CSRF token, or an "
    "operator key without a non-empty Signalpost-Tenant header (`bad_request`)",
    404: "Not found, or not yours; or, with an operator key, no tenant by the "
    "Signalpost-Tenant id (`not_found`)",
}
TENANT_PARAMETER_REF = {"$ref": "#/components/parameters/SignalpostTenant"}
TENANT_RESPONSE_REFS = {
    str(status): {"$ref": f"#/components/responses/TenantError{status}"}
    for status in TENANT_RESPONSES
}
RULE_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
CONVERTER_SCHEMAS = {"id": schemas.ID}


def document(
    summary: str,
    *,
    ok: dict[int, Schema | None],
    errors: tuple[int, ...] = (),
    body: Schema | None = None,
    body_optional: bool = False,
    query: dict[str, Schema] | None = None,
    path: dict[str, Schema] | None = None,
    headers: dict[str, Schema] | None = None,
    ok_headers: dict[str, Schema] | None = None,
    public: bool = False,
    operator: bool = False,
    tag: str = "webhooks",
) -> Callable[[F], F]:
    """Describe a view for the OpenAPI document; `public` views need no authentication,
    `operator` views an operator key (app/api/auth.py:operator_view).

    `ok` maps success statuses to a body schema (None: no body). `errors` lists the error
    statuses beyond those implied: 401 and 403 unless public, 400/413/422 with a body, 422
    with a query or request headers, 404 with a path parameter; and every view neither
    `public` nor `operator` takes the Signalpost-Tenant header, with its 400 and 404. `path`
    gives path parameters a schema of their own, where their converter says too little (422
    when one does not fit). `headers` are optional request headers; `ok_headers` are optional
    headers of the success responses.
    """

    def decorate(view: F) -> F:
        view.api_public = public  # type: ignore[attr-defined]
        view.api_path = path or {}  # type: ignore[attr-defined]
        view.api_operation = operation(  # type: ignore[attr-defined]
            summary,
            view.__doc__,
            ok,
            # A path parameter with a schema of its own is a 422 when it does not fit it.
            (*errors, 422) if path else errors,
            body=body,
            body_optional=body_optional,
            query=query,
            headers=headers,
            ok_headers=ok_headers,
            public=public,
            operator=operator,
            tag=tag,
        )
        return view

    return decorate


def operation(
    summary: str,
    doc: str | None,
    ok: dict[int, Schema | None],
    errors: tuple[int, ...] = (),
    *,
    body: Schema | None = None,
    body_optional: bool = False,
    query: dict[str, Schema] | None = None,
    headers: dict[str, Schema] | None = None,
    ok_headers: dict[str, Schema] | None = None,
    public: bool = False,
    operator: bool = False,
    tag: str = "webhooks",
) -> dict[str, Any]:
    statuses: dict[int, Schema | None] = dict(ok)
    implied = (
        # 403: an operator view called with a user token, or a user view called for a user
        # (or tenant) an admin disabled, or by a user token naming a tenant.
        ((401, 403) if not public else ())
        + ((400, 413, 422) if body is not None else ())
        + ((422,) if query or headers else ())
    )
    statuses.update({status: schemas.ERROR for status in (*implied, *errors)})
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            str(status): _response(status, schema) for status, schema in statuses.items()
        },
    }
    for status in ok if ok_headers else ():
        operation["responses"][str(status)]["headers"] = {
            name: {"required": False, "schema": schema} for name, schema in ok_headers.items()
        }
    user_operation = not public and not operator
    if user_operation:
        operation["responses"].update(TENANT_RESPONSE_REFS)
    if doc:
        operation["description"] = " ".join(doc.split())
    if public:
        operation["security"] = []
    if operator:
        operation["security"] = [{"operatorKey": []}]
    if body is not None:
        operation["requestBody"] = {
            "required": not body_optional,
            "content": {"application/json": {"schema": body}},
        }
    parameters = [
        {"name": name, "in": where, "required": False, "schema": schema}
        for where, described in (("query", query), ("header", headers))
        for name, schema in (described or {}).items()
    ]
    if user_operation:
        parameters.append(TENANT_PARAMETER_REF)
    if parameters:
        operation["parameters"] = parameters
    return operation


def _response(status: int, schema: Schema | None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": ERROR_DESCRIPTIONS.get(status, "Success")}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    if status == 429:
        response["headers"] = {
            "Retry-After": {"required": True, "schema": {"type": "string"}},
        }
    return response


def _path(rule: Rule, schemas_by_name: dict[str, Schema]) -> tuple[str, list[dict[str, Any]]]:
    parameters = []

    def to_template(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "default", match.group(2)
        schema = schemas_by_name.get(name) or CONVERTER_SCHEMAS.get(converter, {"type": "string"})
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return RULE_ARGUMENT.sub(to_template, rule.rule), parameters


# /healthz belongs to the main blueprint; it is described here as part of the API.
EXTRA_OPERATIONS = {
    "main.healthz": operation(
        "Health of the database and the broker",
        "200 when the database and the broker answer; 503 naming what is down.",
        {200: schemas.HEALTH, 503: schemas.HEALTH},
        public=True,
        tag="meta",
    )
}


def described_rules() -> list[Rule]:
    """The routes the document covers: every API route, and /healthz."""
    return [
        rule
        for rule in current_app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{bp.name}.") or rule.endpoint in EXTRA_OPERATIONS
    ]


def build() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(described_rules(), key=lambda rule: rule.rule):
        view = current_app.view_functions[rule.endpoint]
        described = EXTRA_OPERATIONS.get(rule.endpoint) or getattr(view, "api_operation", None)
        if described is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no OpenAPI description")
        template, parameters = _path(rule, getattr(view, "api_path", {}))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            entry = {**described, "operationId": f"{method.lower()}_{view.__name__}"}
            if parameters:
                entry["parameters"] = parameters + entry.get("parameters", [])
                entry["responses"] = {"404": _response(404, schemas.ERROR), **entry["responses"]}
            paths.setdefault(template, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Signalpost API",
            "version": __version__,
            "description": "Manage webhooks and fire events; with an operator key, tenants "
            "(docs/host-integration.md). Errors are "
            '`{"error": {"code", "message", "fields"?}}`. See docs/api.md.',
        },
        "paths": paths,
        "components": {
            "parameters": {"SignalpostTenant": TENANT_PARAMETER},
            "responses": {
                f"TenantError{status}": {
                    "description": description,
                    "content": {"application/json": {"schema": schemas.ERROR}},
                }
                for status, description in TENANT_RESPONSES.items()
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `flask users token EMAIL` or the tokens page.",
                },
                "operatorKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An operator key `spk_…` from `flask keys create NAME`: the "
                    "tenants API, and every other route as the tenant named by the "
                    "`Signalpost-Tenant: <external id>` header (docs/host-integration.md).",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": current_app.config.get("SESSION_COOKIE_NAME", "session"),
                    "description": "The signed-in browser; unsafe methods also need the CSRF "
                    "token in an X-CSRFToken header.",
                },
            },
        },
        "security": [{"bearerAuth": []}, {"operatorKey": []}, {"session": []}],
    }


@bp.get("/openapi.json")
@document("This description", ok={200: schemas.OPENAPI_DOCUMENT}, public=True, tag="meta")
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of the API."""
    return jsonify(build())
