"""Who is calling the API: a bearer token, or else the browser session.

A request that carries an `Authorization` header is judged by that header alone, so a bad or
revoked token is refused even from a signed-in browser. Session calls are same-origin calls
from the pages, and must then carry the CSRF token in `X-CSRFToken` for anything but a read.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized
from wtforms import ValidationError as CSRFInvalid

from app.extensions import login_manager
from app.models import User
from app.services import users

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRFToken"


def _refuse(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", {"realm": "api"}))


def authenticate() -> None:
    """Run before every API view: refuse the caller (401) unless the view is public."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "api_public", False):
        return
    # Decide afresh for every request: when requests share one app context (a test client
    # used inside `app.app_context()`), `g` would otherwise still hold the previous caller.
    g.pop("_login_user", None)
    header = request.headers.get("Authorization")
    if header is not None:
        _authenticate_token(header)
        return
    if not current_user.is_authenticated:
        raise _refuse("Send 'Authorization: Bearer <token>' (flask users token EMAIL), or sign in.")
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except CSRFInvalid as exc:
            raise CSRFError(f"{exc.args[0]} Send it in the {CSRF_HEADER} header.") from None


def _authenticate_token(header: str) -> None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("Use 'Authorization: Bearer <token>'.")
    user = users.user_for_token(token.strip())
    if user is None:
        raise _refuse("This API token is unknown or has been revoked.")
    # Make the token's user `current_user` for this request only: no session cookie is written.
    login_manager._update_request_context_with_user(user)


def caller() -> User:
    """The authenticated user of this request."""
    return current_user._get_current_object()
