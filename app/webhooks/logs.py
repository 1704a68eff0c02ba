"""A webhook's delivery log: filters, keyset pages, every attempt, Retry and Replay."""

from __future__ import annotations

from datetime import UTC

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.converters import parse_id
from app.services import logs
from app.services.delivery import redelivery
from app.services.errors import ServiceError
from app.template_helpers import EVENT_LABELS
from app.webhooks import bp
from app.webhooks.forms import ReplayForm
from app.webhooks.routes import owned

PAGE_SIZE = 25
OUTCOMES = {"succeeded": True, "failed": False}
EVENT_FILTERS = [(value, label) for value, label in EVENT_LABELS.items()]


@bp.get("/<id:webhook_id>/logs")
def logs_page(webhook_id: int) -> ResponseReturnValue:
    """Deliveries newest first; `outcome`, `event` and the `before` cursor come from the query."""
    webhook = owned(webhook_id)
    outcome = request.args.get("outcome", "")
    event_type = request.args.get("event", "")
    if event_type not in dict(EVENT_FILTERS):
        event_type = ""
    before = _cursor(request.args.get("before"))
    rows, next_cursor = logs.get_webhook_logs(
        webhook,
        PAGE_SIZE,
        before,
        success=OUTCOMES.get(outcome),
        event_type=event_type or None,
    )
    # Only the filters in use, so page links carry no empty parameters.
    filters = {"outcome": outcome if outcome in OUTCOMES else "", "event": event_type}
    filters = {name: value for name, value in filters.items() if value}
    return render_template(
        "webhooks/logs.html",
        webhook=webhook,
        rows=[logs.log_as_dict(row) for row in rows],
        next_cursor=next_cursor,
        first_page=before is None,
        filters=filters,
        event_filters=EVENT_FILTERS,
        replay_form=ReplayForm(),
    )


def _cursor(raw: str | None) -> int | None:
    """The `before` cursor, a delivery id. Not a number: the first page, as for any unknown
    filter value; a number no delivery can have: no such page."""
    if raw is None or not (raw.isascii() and raw.isdigit()):
        return None
    cursor = parse_id(raw)
    if cursor is None:
        abort(404, "No such page of the delivery log.")
    return cursor


@bp.post("/<id:webhook_id>/logs/<id:log_id>/retry")
def retry(webhook_id: int, log_id: int) -> ResponseReturnValue:
    """Deliver the same event (same event id) again, with a fresh retry schedule."""
    webhook = owned(webhook_id)
    again = redelivery.redeliver(logs.get_delivery(webhook, log_id))
    flash(f"Event {again.event_id} queued for delivery again, as delivery #{again.id}.", "success")
    return redirect(url_for("webhooks.logs_page", webhook_id=webhook.id))


@bp.post("/<id:webhook_id>/logs/replay")
def replay(webhook_id: int) -> ResponseReturnValue:
    """Deliver again the events of a time range (all, or only failed ones), each under its id."""
    webhook = owned(webhook_id)
    form = ReplayForm()
    if not form.validate_on_submit() or form.since.data is None:
        flash("Give the start of the time range to replay, as a date and time.", "error")
        return redirect(url_for("webhooks.logs_page", webhook_id=webhook.id))
    until = form.until.data.replace(tzinfo=UTC) if form.until.data else None
    try:
        count = redelivery.replay(
            webhook,
            form.since.data.replace(tzinfo=UTC),
            until,
            failed_only=form.failed_only.data,
            missed=form.missed.data,
        )
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{count} deliveries queued again.", "success")
    return redirect(url_for("webhooks.logs_page", webhook_id=webhook.id))
