"""The admin's overview: the last hour's deliveries, the endpoints to look at, every webhook."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.admin import bp
from app.services import stats, webhooks


@bp.get("/")
def index() -> ResponseReturnValue:
    """The last hour, the endpoints to look at (each linked to its deliveries), every webhook."""
    return render_template(
        "admin/index.html",
        summary=stats.admin_summary(),
        webhooks=webhooks.list_webhooks(),
        success_rate=stats.success_rate,
    )


@bp.post("/webhooks/<id:webhook_id>/active")
def set_active(webhook_id: int) -> ResponseReturnValue:
    """Enable or disable anyone's webhook; the owner sees why on their list, and cannot enable
    what an admin disabled."""
    webhook = webhooks.get_webhook(webhook_id)
    active = request.form.get("active") == "1"
    webhooks.set_active(webhook, active, by_admin=True)
    flash(f"Webhook #{webhook.id} of {webhook.user.email} {'enabled' if active else 'disabled'}.")
    return redirect(url_for("admin.index"))
