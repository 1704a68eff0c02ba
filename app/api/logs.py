"""A webhook's delivery log, newest first, a page at a time; and delivering one entry again."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.api import bp, schemas
from app.api.auth import caller
from app.api.openapi import document
from app.api.parsing import json_object, query_params, timestamp
from app.domain.timestamps import isoformat
from app.services import logs, webhooks
from app.services.delivery import redelivery


@bp.get("/webhooks/<id:webhook_id>/logs")
@document("Read the delivery log", ok={200: schemas.LOG_PAGE}, query=schemas.LOG_QUERY)
def list_logs(webhook_id: int) -> ResponseReturnValue:
    """Deliveries newest first, `limit` (1-100, default 50) at a time. Pass `next` back as
    `before` for the following page. `success` and `event_type` narrow the list."""
    webhook = webhooks.get_webhook(webhook_id, caller())
    query = query_params(schemas.LOG_QUERY)
    rows, next_cursor = logs.get_webhook_logs(
        webhook,
        query["limit"],
        query.get("before"),
        success=query.get("success"),
        event_type=query.get("event_type"),
    )
    carried = logs.carried_by_each(row.id for row in rows)
    entries = [logs.log_as_dict(row, carried.get(row.id, ())) for row in rows]
    return {"logs": entries, "next": next_cursor}


@bp.post("/webhooks/<id:webhook_id>/logs/<id:log_id>/retry")
@document("Deliver a logged event again", ok={202: schemas.LOG_ENTRY}, errors=(409,))
def retry_log(webhook_id: int, log_id: int) -> ResponseReturnValue:
    """The same event, same event id, queued to this webhook again with a fresh retry
    schedule. The answer is the new log entry; the original is left as it was. 409 when the
    webhook is disabled: nothing is sent."""
    webhook = webhooks.get_webhook(webhook_id, caller())
    again = redelivery.redeliver(logs.get_delivery(webhook, log_id))
    return logs.log_as_dict(again), 202


@bp.post("/webhooks/<id:webhook_id>/replay")
@document(
    "Deliver a time range again",
    ok={202: schemas.REPLAYED},
    errors=(409,),
    body=schemas.REPLAY_INPUT,
)
def replay(webhook_id: int) -> ResponseReturnValue:
    """Every event this webhook was sent between `since` and `until` (default: now), or only
    those whose delivery failed, is queued to it again under its own event id. With `missed`,
    so are the owner's events of its types it was never sent (fired while it was disabled).
    At most 10,000 at a time, oldest first: when more remain, `next_since` says where they
    start, to be asked for next. 409 when the webhook is disabled: nothing is sent."""
    webhook = webhooks.get_webhook(webhook_id, caller())
    body = json_object(schemas.REPLAY_INPUT)
    replayed = redelivery.replay(
        webhook,
        timestamp(body, "since"),
        timestamp(body, "until") if "until" in body else None,
        failed_only=body.get("failed_only", False),
        missed=body.get("missed", False),
    )
    answer: dict[str, object] = {"deliveries": replayed.deliveries}
    if replayed.next_since is not None:
        answer["next_since"] = isoformat(replayed.next_since)
    return answer, 202
