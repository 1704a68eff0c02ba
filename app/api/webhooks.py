"""Webhooks: list, create, read, change, delete, rotate the secret, send a test; the catalog."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.typing import ResponseReturnValue

from app.api import bp, schemas
from app.api.auth import caller
from app.api.openapi import document
from app.api.parsing import exact, json_object, optional_json_object
from app.domain.catalog import EVENT_TYPES
from app.extensions import limiter
from app.request_limits import TEST_SEND_LIMIT, TEST_SEND_SCOPE, user_key
from app.security_headers import shows_secret
from app.services import webhooks
from app.services.delivery import test_send
from app.services.webhooks import WebhookInput, as_dict


def _input(body: dict[str, Any]) -> WebhookInput:
    if body.get("filter") is not None:
        body = {**body, "filter": exact("filter")}
    return WebhookInput(**body)


@bp.get("/webhooks")
@document("List your webhooks", ok={200: schemas.WEBHOOK_LIST})
def list_webhooks() -> ResponseReturnValue:
    """Your webhooks, oldest first, secrets masked."""
    return {"webhooks": [as_dict(webhook) for webhook in webhooks.list_webhooks(caller())]}


@bp.post("/webhooks")
@document("Create a webhook", ok={201: schemas.WEBHOOK}, errors=(409,), body=schemas.WEBHOOK_FULL)
@shows_secret
def create_webhook() -> ResponseReturnValue:
    """Register an endpoint. The answer holds its signing secret in full: the only time,
    with rotate-secret, that it is shown. 409 when you have WEBHOOK_MAX_PER_USER already."""
    data = _input(json_object(schemas.WEBHOOK_FULL))
    webhook, secret = webhooks.register_webhook(caller(), data)
    location = url_for("api.get_webhook", webhook_id=webhook.id)
    return as_dict(webhook, secret=secret), 201, {"Location": location}


@bp.get("/webhooks/<id:webhook_id>")
@document("Read a webhook", ok={200: schemas.WEBHOOK})
def get_webhook(webhook_id: int) -> ResponseReturnValue:
    """One of your webhooks, secret masked."""
    return as_dict(webhooks.get_webhook(webhook_id, caller()))


@bp.put("/webhooks/<id:webhook_id>")
@document(
    "Replace a webhook's settings",
    ok={200: schemas.WEBHOOK},
    errors=(409,),
    body=schemas.WEBHOOK_FULL,
)
def replace_webhook(webhook_id: int) -> ResponseReturnValue:
    """name, url and events are required; format and is_active are kept when left out."""
    return _update(webhook_id, schemas.WEBHOOK_FULL)


@bp.patch("/webhooks/<id:webhook_id>")
@document(
    "Change some of a webhook's settings",
    ok={200: schemas.WEBHOOK},
    errors=(409,),
    body=schemas.WEBHOOK_PATCH,
)
def patch_webhook(webhook_id: int) -> ResponseReturnValue:
    """Only the fields given change. `is_active: true` re-enables and clears past failures,
    unless an admin disabled the webhook: that is a 409 until an admin enables it."""
    return _update(webhook_id, schemas.WEBHOOK_PATCH)


def _update(webhook_id: int, schema: schemas.Schema) -> ResponseReturnValue:
    webhook = webhooks.get_webhook(webhook_id, caller())
    # The schema makes PUT state name, url and events; the service checks every value given.
    return as_dict(webhooks.update_webhook(webhook, _input(json_object(schema))))


@bp.delete("/webhooks/<id:webhook_id>")
@document("Delete a webhook", ok={204: None})
def delete_webhook(webhook_id: int) -> ResponseReturnValue:
    """The webhook and its delivery log are deleted; deliveries still queued are dropped."""
    webhooks.delete_webhook(webhooks.get_webhook(webhook_id, caller()))
    return "", 204


@bp.post("/webhooks/<id:webhook_id>/rotate-secret")
@document(
    "Rotate the signing secret",
    ok={200: schemas.SECRET},
    body=schemas.ROTATE_INPUT,
    body_optional=True,
)
@shows_secret
def rotate_secret(webhook_id: int) -> ResponseReturnValue:
    """A new secret, shown once. The old one keeps signing too for `overlap_seconds` (default
    24 hours, 0 to 7 days), so receivers can switch over without losing a delivery. The body
    may be left out."""
    webhook = webhooks.get_webhook(webhook_id, caller())
    body = optional_json_object(schemas.ROTATE_INPUT)
    seconds = body.get("overlap_seconds", int(webhooks.ROTATION_OVERLAP.total_seconds()))
    overlap = webhooks.rotation_overlap(int(seconds))
    return {"secret": webhooks.rotate_secret(webhook, overlap)}


@bp.post("/webhooks/<id:webhook_id>/test")
@document("Send a test event now", ok={200: schemas.TEST_RESULT}, errors=(429,))
@limiter.shared_limit(TEST_SEND_LIMIT, scope=TEST_SEND_SCOPE, key_func=user_key)
def test_webhook(webhook_id: int) -> ResponseReturnValue:
    """One synchronous attempt with the `test` event, whatever the webhook subscribes to; not
    retried. 200 whether or not the endpoint accepted it: see `success`. Rate-limited per user."""
    return test_send.test_webhook(webhooks.get_webhook(webhook_id, caller()))


@bp.get("/webhooks/events")
@document("List the event types", ok={200: schemas.EVENT_CATALOG}, tag="events")
def event_catalog() -> ResponseReturnValue:
    """The event types a webhook can subscribe to."""
    return {
        "events": [
            {"value": event.value, "label": event.label, "description": event.description}
            for event in EVENT_TYPES
        ]
    }
