"""Reveal and rotate a webhook's signing secret. Both are POSTs: a secret is only ever in the
response to one, never in a page a GET returns, a cache or the browser's history."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.pages import bp
from app.pages.routes import owned, render_edit
from app.services import webhooks


@bp.post("/webhooks/<int:webhook_id>/secret/reveal")
def reveal_secret(webhook_id: int) -> ResponseReturnValue:
    """The edit page with the current secret in full."""
    webhook = owned(webhook_id)
    return render_edit(webhook, revealed_secret=webhooks.reveal_secret(webhook))


@bp.post("/webhooks/<int:webhook_id>/secret/rotate")
def rotate_secret(webhook_id: int) -> ResponseReturnValue:
    """A new secret, shown once here; the old one keeps signing for 24 hours."""
    webhook = owned(webhook_id)
    return render_edit(webhook, revealed_secret=webhooks.rotate_secret(webhook), rotated=True)
