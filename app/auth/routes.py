"""Register, sign in and out, and the API tokens page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import RegisterForm, SignInForm, TokenForm
from app.extensions import limiter
from app.limits import SIGN_IN_LIMIT
from app.security_headers import shows_secret
from app.services import users
from app.services.errors import ServiceError

# A failed sign-in answers 401; only those count towards SIGN_IN_LIMIT, per client address.
FAILED_SIGN_IN = 401


def _home() -> Response:
    return redirect(url_for("pages.index"))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: `next` must never send a user to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    """Create an account and sign in with it."""
    if current_user.is_authenticated:
        return _home()
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(form.email.data or "", form.password.data or "")
        except ServiceError as exc:
            form.show(exc)
        else:
            login_user(user)
            flash("Welcome to Signalpost. Add your first webhook below.", "success")
            return _home()
    return render_template("auth/register.html", form=form)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    SIGN_IN_LIMIT,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == FAILED_SIGN_IN,
    error_message="Too many failed sign-ins from your address. Wait a few minutes and try again.",
)
def sign_in() -> ResponseReturnValue:
    """Sign in with email and password; repeated failures are throttled."""
    if current_user.is_authenticated:
        return _home()
    form = SignInForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("pages.index"))
        form.form_errors.append("That email and password do not match an account.")
        return render_template("auth/sign_in.html", form=form), FAILED_SIGN_IN
    return render_template("auth/sign_in.html", form=form)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """End the session (a POST, so another site cannot sign you out)."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
@shows_secret
def tokens() -> ResponseReturnValue:
    """API tokens: create one (shown once, in this response only) and revoke."""
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        name = (form.name.data or "").strip() or "API token"
        new_token = users.create_api_token(current_user, name=name[:100])
        form = TokenForm(formdata=None)
    return render_template(
        "auth/tokens.html",
        form=form,
        new_token=new_token,
        tokens=users.list_api_tokens(current_user),
    )


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke a token: requests bearing it are refused from now on."""
    users.revoke_api_token(current_user, token_id)
    flash("Token revoked. Requests that use it are now refused.", "success")
    return redirect(url_for("auth.tokens"))
