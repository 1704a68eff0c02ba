"""Who is calling the API: a bearer token, or else the browser session.

A request that carries an `Authorization` header is judged by that header alone, so a bad or
revoked token is refused even from a signed-in browser. Session calls are same-origin calls
from the pages, and must then carry the CSRF token in `X-CSRFToken` for anything but a read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Forbidden, NotFound, Unauthorized
from wtforms import ValidationError as CSRFInvalid

from app.extensions import login_manager
from app.models import User
from app.services import operator_keys, users

P = ParamSpec("P")
R = TypeVar("R")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRFToken"
TENANT_HEADER = "Signalpost-Tenant"


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
    g.pop("operator_key", None)
    header = request.headers.get("Authorization")
    if header is not None:
        _authenticate_token(header, operator_only=getattr(view, "api_operator", False))
        return
    if getattr(view, "api_operator", False):
        raise _refuse("Send 'Authorization: Bearer spk_…' (flask keys create NAME).")
    if not current_user.is_authenticated:
        raise _refuse("Send 'Authorization: Bearer <token>' (flask users token EMAIL), or sign in.")
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except CSRFInvalid as exc:
            raise CSRFError(f"{exc.args[0]} Send it in the {CSRF_HEADER} header.") from None


def _authenticate_token(header: str, *, operator_only: bool) -> None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("Use 'Authorization: Bearer <token>'.")
    token = token.strip()
    if operator_keys.is_operator_key(token):
        _authenticate_operator(token, acting=not operator_only)
        return
    if operator_only:
        raise Forbidden("Only an operator key may call this (flask keys create NAME).")
    if TENANT_HEADER in request.headers:
        raise Forbidden(f"Only an operator key may act for a tenant; leave out {TENANT_HEADER}.")
    user = users.user_for_token(token)
    if user is None:
        raise _refuse("This API token is unknown or has been revoked.")
    _act_as(user, "This account is disabled: its API tokens are refused until an admin enables it.")


def _authenticate_operator(token: str, *, acting: bool) -> None:
    """An operator key calls the operator's own views as itself, and user views as a tenant."""
    key = operator_keys.key_for(token)
    if key is None:
        raise _refuse("This operator key is unknown or has been revoked.")
    g.operator_key = key
    if not acting:
        return
    header = request.headers.get(TENANT_HEADER)
    external_id = (header or "").strip()
    if not external_id:
        # A blank header is the same mistake as none (a host's template with an unset id), not
        # a tenant called '' that does not exist.
        empty = "" if header is None else f" ({TENANT_HEADER} was empty)"
        raise BadRequest(
            f"An operator key acts for a tenant: send {TENANT_HEADER}: <external id>{empty}."
        )
    user = users.tenant_user(external_id)
    if user is None:
        raise NotFound(f"No tenant {external_id!r}.")
    _act_as(user, f"Tenant {external_id!r} is disabled on Signalpost by an admin.")


def _act_as(user: User, disabled: str) -> None:
    """Make `user` `current_user` for this request only (no session cookie is written), unless
    an admin disabled them: a 403 `account_disabled` saying `disabled`."""
    users.check_active(user, disabled)
    login_manager._update_request_context_with_user(user)


def operator_view(view: Callable[P, R]) -> Callable[P, R]:
    """Mark an API view as the operator's own (tenants, metrics): for operator keys only."""
    view.api_operator = True  # type: ignore[attr-defined]
    return view


def is_operator() -> bool:
    return g.get("operator_key") is not None


def caller() -> User:
    """The authenticated user of this request."""
    return current_user._get_current_object()
