"""Rotating a webhook's signing secret: it asks first (GET), rotates (POST) and redirects, so
reloading never rotates again; the page the redirect lands on shows the new secret that once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from app.models import Webhook
from app.services import webhooks
from app.webhooks import bp
from app.webhooks.routes import owned

# The owner's choices of how long the old secret keeps signing, as Stripe offers them.
OVERLAPS: dict[str, tuple[timedelta, str]] = {
    "0": (timedelta(0), "now"),
    "3600": (timedelta(hours=1), "1 hour"),
    "86400": (timedelta(hours=24), "24 hours"),
    "604800": (timedelta(days=7), "7 days"),
}
DEFAULT_OVERLAP = str(int(webhooks.ROTATION_OVERLAP.total_seconds()))
# The session key naming the webhook whose new secret the next page shows, once.
ROTATED = "rotated_secret"


@bp.route("/<id:webhook_id>/secret/rotate", methods=["GET", "POST"])
def rotate_secret(webhook_id: int) -> ResponseReturnValue:
    """Ask how long the old secret keeps signing (GET); rotate and redirect (POST)."""
    webhook = owned(webhook_id)
    if request.method == "GET":
        return render_template(
            "webhooks/rotate.html", webhook=webhook, overlaps=OVERLAPS, default=DEFAULT_OVERLAP
        )
    choice = request.form.get("overlap", DEFAULT_OVERLAP)
    if choice not in OVERLAPS:
        abort(400, "Choose how long the old secret keeps signing.")
    webhooks.rotate_secret(webhook, OVERLAPS[choice][0])
    session[ROTATED] = {"webhook": webhook.id, "overlap": choice}
    return redirect(url_for("webhooks.endpoint", webhook_id=webhook.id, _anchor="secret"))


def shown_once(webhook: Webhook) -> dict[str, Any]:
    """What the page after a rotation shows this once: the new secret and how long the old one
    keeps signing. Nothing on any later request."""
    rotated = session.get(ROTATED)
    if not isinstance(rotated, dict) or rotated.get("webhook") != webhook.id:
        return {}
    session.pop(ROTATED)
    overlap = OVERLAPS.get(str(rotated.get("overlap")), OVERLAPS[DEFAULT_OVERLAP])[1]
    return {"revealed_secret": webhooks.reveal_secret(webhook), "rotated": overlap}
