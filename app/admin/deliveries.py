"""An admin's drill-down from an endpoint to its deliveries: anyone's webhook, read-only.

The same history the owner sees (app/webhooks/logs.py), with no action on it: no Redeliver,
no Replay, and no secret (the history never shows one).
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from app.admin import bp
from app.services import webhooks
from app.webhooks.logs import render_logs, render_rows


@bp.get("/webhooks/<id:webhook_id>/logs")
def logs_page(webhook_id: int) -> ResponseReturnValue:
    """Any user's webhook's deliveries, filtered and paged as the owner's page is."""
    return render_logs(webhooks.get_webhook(webhook_id), request.args, read_only=True)


@bp.get("/webhooks/<id:webhook_id>/logs/rows")
def log_rows(webhook_id: int) -> ResponseReturnValue:
    """The rows the page's script asks for again while any is in flight."""
    return render_rows(webhooks.get_webhook(webhook_id), request.args, read_only=True)
