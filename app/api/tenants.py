"""Tenants, for the host application's backend: operator keys only (docs/host-integration.md)."""

from __future__ import annotations

from flask import url_for
from flask.typing import ResponseReturnValue

from app.api import bp, schemas
from app.api.auth import operator_view
from app.api.openapi import document
from app.api.parsing import json_object, optional_json_object
from app.domain.timestamps import isoformat
from app.security_headers import shows_secret
from app.services import sign_in_links, tenants
from app.services.tenants import TenantInput, as_dict

PATH = {"external_id": schemas.EXTERNAL_ID}
# `path:`, so that an id holding a `/` (sent as %2F, which Werkzeug decodes before routing)
# reaches the view and is refused as a 422 naming it, as any other character outside the set.


@bp.put("/tenants/<path:external_id>")
@document(
    "Create or update a tenant",
    ok={200: schemas.TENANT, 201: schemas.TENANT},
    errors=(409,),
    body=schemas.TENANT_INPUT,
    path=PATH,
    operator=True,
    tag="tenants",
)
@operator_view
def put_tenant(external_id: str) -> ResponseReturnValue:
    """The user standing for the host's user `external_id`: 201 when made, 200 when its email
    or name changed. Tenants sign in only by sign-in links and are never admins. 409 when the
    email belongs to another user."""
    tenants.check_external_id(external_id)
    body = json_object(schemas.TENANT_INPUT)
    user, created = tenants.put_tenant(external_id, TenantInput(**body))
    if not created:
        return as_dict(user)
    location = url_for("api.get_tenant", external_id=external_id)
    return as_dict(user), 201, {"Location": location}


@bp.get("/tenants/<path:external_id>")
@document("Read a tenant", ok={200: schemas.TENANT}, path=PATH, operator=True, tag="tenants")
@operator_view
def get_tenant(external_id: str) -> ResponseReturnValue:
    """The tenant; 404 when there is none by that id."""
    return as_dict(tenants.get_tenant(external_id))


@bp.delete("/tenants/<path:external_id>")
@document("Delete a tenant", ok={204: None}, path=PATH, operator=True, tag="tenants")
@operator_view
def delete_tenant(external_id: str) -> ResponseReturnValue:
    """For account closure: the tenant with all their webhooks, events, deliveries, attempts
    and tokens, in one transaction. Deliveries still queued are dropped."""
    tenants.delete_tenant(external_id)
    return "", 204


@bp.post("/tenants/<path:external_id>/sign-in-link")
@document(
    "Make a sign-in link",
    ok={201: schemas.SIGN_IN_LINK},
    body=schemas.SIGN_IN_LINK_INPUT,
    body_optional=True,
    path=PATH,
    operator=True,
    tag="tenants",
)
@operator_view
@shows_secret
def sign_in_link(external_id: str) -> ResponseReturnValue:
    """A URL that signs the tenant into the pages once, within SIGNALPOST_SIGN_IN_LINK_TTL
    seconds (default 300), landing on `return_to` when that is a path on Signalpost, else on
    the webhook list. The body may be left out. Redirect the tenant's browser to it; never
    show it to anyone else."""
    user = tenants.get_tenant(external_id)
    body = optional_json_object(schemas.SIGN_IN_LINK_INPUT)
    link = sign_in_links.create_link(user, body.get("return_to"))
    return {"url": link.url, "expires_at": isoformat(link.expires_at)}, 201
