"""Reveal and rotate a webhook's signing secret. Both are POSTs: a secret is only ever in the
response to one, never in a page a GET returns, and never stored by a cache."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from app.security_headers import shows_secret
from app.services import webhooks
from app.webhooks import bp
from app.webhooks.routes import owned, render_edit


@bp.post("/<id:webhook_id>/secret/reveal")
@shows_secret
def reveal_secret(webhook_id: int) -> ResponseReturnValue:
    """The edit page with the current secret in full; the Copy button's script gets it alone."""
    webhook = owned(webhook_id)
    secret = webhooks.reveal_secret(webhook)
    if request.headers.get("X-Requested-With") == "fetch":
        return secret, 200, {"Content-Type": "text/plain"}
    return render_edit(webhook, revealed_secret=secret)


@bp.post("/<id:webhook_id>/secret/rotate")
@shows_secret
def rotate_secret(webhook_id: int) -> ResponseReturnValue:
    """A new secret, shown once here; the old one keeps signing for 24 hours."""
    webhook = owned(webhook_id)
    secret = webhooks.rotate_secret(webhook)
    return render_edit(webhook, revealed_secret=secret, rotated=True)
