"""Opening a sign-in link the host application made (POST /api/tenants/<id>/sign-in-link)."""

from __future__ import annotations

from flask import redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user

from app.auth import bp
from app.services import sign_in_links
from app.services.errors import ServiceError


@bp.get(sign_in_links.PATH + "<token>")
def sign_in_link(token: str) -> ResponseReturnValue:
    """Sign the link's tenant in, in a fresh session, and land on its `return_to`. A used,
    expired or unknown link signs nobody in, and says so."""
    try:
        user, return_to = sign_in_links.use_link(token)
    except ServiceError as exc:
        page = render_template("auth/sign_in_link.html", status=exc.status, message=exc.message)
        return page, exc.status, {"Cache-Control": "no-store"}
    # Nothing of the session before (another user, a planted session id) carries over.
    session.clear()
    login_user(user)
    return redirect(return_to or url_for("webhooks.index"))
