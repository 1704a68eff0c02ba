"""A webhook's delivery history: filters and search, keyset pages, every attempt's request and
response, Redeliver and Replay. Every action keeps the filters it was made under."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from app.converters import parse_id
from app.domain.payload import envelope
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.domain.waiting import waiting_note
from app.models import Delivery, Webhook, utcnow
from app.services import logs, webhooks
from app.services.delivery import redelivery
from app.services.delivery.attempt import retry_policy
from app.services.errors import ServiceError
from app.template_helpers import EVENT_LABELS
from app.webhooks import bp
from app.webhooks.forms import ReplayForm
from app.webhooks.routes import owned

PAGE_SIZE = 25
# What the status filter offers. Failed is failed for good: a delivery waiting for its next
# attempt is Retrying, not Failed.
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "succeeded": ("Succeeded", (DeliveryStatus.SUCCEEDED,)),
    "failed": ("Failed", (DeliveryStatus.FAILED,)),
    "retrying": ("Retrying", (DeliveryStatus.SCHEDULED,)),
    "queued": ("Queued or sending", (DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
    "skipped": ("Skipped", (DeliveryStatus.SKIPPED,)),
    "expired": ("Expired", (DeliveryStatus.EXPIRED,)),
}
EVENT_FILTERS = [(value, label) for value, label in EVENT_LABELS.items()]
# Event ids are `evt_` and hex (app/services/events.py); a host may have sent its own earlier.
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
# How many rows the script may ask about at once: one page's worth.
POLL_MAX = PAGE_SIZE


def read_filters(values: MultiDict[str, str]) -> dict[str, str]:
    """The filters in use, from a page's query or an action's hidden fields; unknown values
    are dropped, so links and redirects carry only filters that mean something."""
    status = values.get("status", "")
    event_type = values.get("event", "")
    event_id = values.get("event_id", "").strip()
    filters = {
        "status": status if status in STATUS_FILTERS else "",
        "event": event_type if event_type in dict(EVENT_FILTERS) else "",
        "event_id": event_id if EVENT_ID.fullmatch(event_id) else "",
    }
    return {name: value for name, value in filters.items() if value}


def _back(webhook: Webhook) -> ResponseReturnValue:
    return redirect(
        url_for("webhooks.logs_page", webhook_id=webhook.id, **read_filters(request.form))
    )


def as_rows(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    """What the template shows of each delivery, beyond its own columns."""
    again = logs.redeliveries_of(delivery.id for delivery in deliveries)
    carried = logs.carried_by_each(delivery.id for delivery in deliveries)
    retries = retry_policy().max_attempts - 1
    now = utcnow()
    return [
        {
            "delivery": delivery,
            "payload": envelope(
                delivery.event.id,
                delivery.event.event_type,
                delivery.event.created_at,
                delivery.event.data,
            ),
            "note": waiting_note(
                delivery.status,
                delivery.attempts,
                delivery.next_attempt_at,
                delivery.rate_window is not None,
                retries,
                now,
                delivery.waiting_behind,
            ),
            "in_flight": delivery.status in OPEN_STATUSES,
            "redeliveries": again.get(delivery.id, []),
            "carried": carried.get(delivery.id, []),
        }
        for delivery in deliveries
    ]


def render_logs(
    webhook: Webhook,
    values: MultiDict[str, str],
    replay_form: ReplayForm | None = None,
    *,
    read_only: bool = False,
) -> str:
    """The page under the filters and cursor in `values`; with the replay form as typed when
    it has errors to show. `read_only`: an admin's view of anyone's webhook, without actions.

    The templates link to `.logs_page` and `.log_rows`, relative to the blueprint serving the
    request, so the admin's copy of these two views keeps its links on the admin pages."""
    filters = read_filters(values)
    searched = values.get("event_id", "").strip()
    before = _cursor(values.get("before"))
    if searched and "event_id" not in filters:
        deliveries, next_cursor = [], None  # no event has such an id
    else:
        deliveries, next_cursor = logs.get_webhook_logs(
            webhook,
            PAGE_SIZE,
            before,
            statuses=STATUS_FILTERS[filters["status"]][1] if "status" in filters else None,
            event_type=filters.get("event"),
            event_id=filters.get("event_id"),
        )
    return render_template(
        "webhooks/logs.html",
        webhook=webhook,
        rows=as_rows(deliveries),
        next_cursor=next_cursor,
        first_page=before is None,
        filters=filters,
        searched=searched,
        status_filters=STATUS_FILTERS,
        event_filters=EVENT_FILTERS,
        replay_form=replay_form or ReplayForm(formdata=None),
        replay_open=replay_form is not None,
        rate_in_force=webhooks.rate_limit_in_force(webhook),
        read_only=read_only,
    )


@bp.get("/<id:webhook_id>/logs")
def logs_page(webhook_id: int) -> ResponseReturnValue:
    """Deliveries newest first; `status`, `event`, `event_id` and the `before` cursor come
    from the query."""
    return render_logs(owned(webhook_id), request.args)


@bp.get("/<id:webhook_id>/logs/rows")
def log_rows(webhook_id: int) -> ResponseReturnValue:
    """The rows named by `ids`, rendered again, for the page's script while any is in flight;
    `in_flight` says whether it should ask again."""
    return render_rows(owned(webhook_id), request.args)


def render_rows(
    webhook: Webhook, values: MultiDict[str, str], *, read_only: bool = False
) -> dict[str, Any]:
    """The JSON the page's script polls for: the rows named by `ids`, and whether to ask again."""
    ids = [parse_id(part) for part in values.get("ids", "").split(",")[:POLL_MAX]]
    deliveries = logs.get_deliveries(webhook, [number for number in ids if number is not None])
    rows = as_rows(deliveries)
    filters = read_filters(values)
    return {
        "rows": {
            str(row["delivery"].id): render_template(
                "webhooks/_log_row.html",
                webhook=webhook,
                row=row,
                filters=filters,
                read_only=read_only,
            )
            for row in rows
        },
        "in_flight": any(row["in_flight"] for row in rows),
    }


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
    """Deliver the same event (same event id) again, with a fresh retry schedule, whatever
    became of it; with `enable`, enable the webhook first. A disabled webhook is sent
    nothing, and told so."""
    webhook = owned(webhook_id)
    original = logs.get_delivery(webhook, log_id)
    try:
        if request.form.get("enable") == "1":
            webhooks.set_active(webhook, True)
        again = redelivery.redeliver(original)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        message = f"Event {again.event_id} queued for delivery again, as delivery #{again.id}."
        flash(message, "success")
    return _back(webhook)


@bp.post("/<id:webhook_id>/logs/replay")
def replay(webhook_id: int) -> ResponseReturnValue:
    """Deliver again the events of a time range (all, or only failed ones), each under its id.
    A mistake shows the page again with what was typed and the error beside its field."""
    webhook = owned(webhook_id)
    form = ReplayForm()
    valid = form.validate_on_submit()
    if valid and form.since.data is None:
        form.since.errors = ["Give the start of the time range to replay, as a date and time."]
    elif valid:
        until = form.until.data.replace(tzinfo=UTC) if form.until.data else None
        try:
            replayed = redelivery.replay(
                webhook,
                form.since.data.replace(tzinfo=UTC),
                until,
                failed_only=form.failed_only.data,
                missed=form.missed.data,
            )
        except ServiceError as exc:
            form.show(exc)
        else:
            flash(f"{replayed.deliveries} deliveries queued again.{_rest(replayed)}", "success")
            return _back(webhook)
    return render_logs(webhook, request.form, form), 422


def _rest(replayed: redelivery.Replayed) -> str:
    if replayed.next_since is None:
        return ""
    return f" More remain: replay again from {replayed.next_since:%Y-%m-%d %H:%M:%S} UTC."
