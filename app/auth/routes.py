"""Register, sign in and out, and the API tokens page."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app import shown_once
from app.auth import bp
from app.auth.forms import (
    ForgotPasswordForm,
    RegisterForm,
    ResetPasswordForm,
    SignInForm,
    TokenForm,
)
from app.domain.local_paths import local_path
from app.extensions import limiter
from app.request_limits import (
    REGISTER_LIMIT,
    RESET_LIMIT,
    SIGN_IN_LIMIT,
    VERIFY_RESEND_LIMIT,
    user_key,
)
from app.security_headers import shows_secret
from app.services import password_reset, signup, users
from app.services.errors import ServiceError

# A failed sign-in answers 401; only those count towards SIGN_IN_LIMIT, per client address.
FAILED_SIGN_IN = 401
DISABLED_SIGN_IN = 403

# Session keys carrying what a POST did to the page it redirects to (post/redirect/get).
MAILED = "mailed"
NEW_TOKEN = "new_api_token"


def _home() -> Response:
    return redirect(url_for("webhooks.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    REGISTER_LIMIT,
    methods=["POST"],
    deduct_when=lambda response: g.get("registration_mailed", False),
    error_message="Too many registrations from your address. Try again in an hour.",
)
def register() -> ResponseReturnValue:
    """Create an account; the answer is the same whether or not the address had one."""
    if current_user.is_authenticated:
        return _home()
    invite = request.values.get("invite") or None
    invited = signup.invitation(invite)  # Forbidden (a 403 page) when not open to this caller
    form = RegisterForm()
    if invited:
        form.email.data = invited
    if form.validate_on_submit():
        try:
            email = signup.register(form.email.data or "", form.password.data or "", invite=invite)
        except ServiceError as exc:
            form.show(exc)
        else:
            g.registration_mailed = True
            session[MAILED] = {"email": email, "invited": bool(invited)}
            return redirect(url_for("auth.check_inbox"))
    return render_template("auth/register.html", form=form, invite=invite, invited=invited)


@bp.get("/register/check-inbox")
def check_inbox() -> ResponseReturnValue:
    """Where a registration lands: the address it mailed (a reload mails nothing more)."""
    mailed = session.get(MAILED)
    if not isinstance(mailed, dict):
        return redirect(url_for("auth.register"))
    return render_template(
        "auth/check_inbox.html", email=mailed.get("email"), invited=mailed.get("invited")
    )


@bp.get("/verify-email/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """The link mailed at registration: the address is confirmed, notices can be mailed to it."""
    signup.verify_email(token)
    flash("Your address is confirmed. Notices about your webhooks will be mailed to it.", "success")
    return redirect(url_for("webhooks.index" if current_user.is_authenticated else "auth.sign_in"))


@bp.post("/account/verify-email")
@login_required
@limiter.limit(VERIFY_RESEND_LIMIT, key_func=user_key)
def resend_verification() -> ResponseReturnValue:
    """Mail the confirmation link again."""
    if current_user.email_verified_at is None:
        signup.send_verification(current_user)
    flash(f"A confirmation link is on its way to {current_user.email}.", "info")
    return _home()


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
        if user is None:
            form.form_errors.append("That email and password do not match an account.")
            return render_template("auth/sign_in.html", form=form), FAILED_SIGN_IN
        if not user.is_active:  # said only to whoever knows the password
            form.form_errors.append(users.DISABLED)
            return render_template("auth/sign_in.html", form=form), DISABLED_SIGN_IN
        login_user(user)
        return redirect(local_path(request.args.get("next")) or url_for("webhooks.index"))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(
    RESET_LIMIT,
    methods=["POST"],
    error_message="Too many reset links asked for from your address. Try again in an hour.",
)
def forgot_password() -> ResponseReturnValue:
    """Mail a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        password_reset.send_reset_link(email)
        session[MAILED] = {"email": email}
        return redirect(url_for("auth.reset_sent"))
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/forgot-password/sent")
def reset_sent() -> ResponseReturnValue:
    """Where asking for a reset link lands (a reload mails nothing more)."""
    mailed = session.get(MAILED)
    if not isinstance(mailed, dict):
        return redirect(url_for("auth.forgot_password"))
    return render_template("auth/reset_sent.html", email=mailed.get("email"))


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@shows_secret
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password with a mailed link; it ends every session and works once."""
    if password_reset.user_for(token) is None:
        return render_template("auth/reset_expired.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(token, form.password.data or "")
        except ServiceError as exc:
            form.show(exc)
        else:
            logout_user()
            flash("Your password is changed. Sign in with it.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """End every session of the user, this one and any other (a POST, so another site cannot
    sign you out)."""
    if current_user.is_authenticated:
        users.end_sessions(current_user._get_current_object())
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
@shows_secret
def tokens() -> ResponseReturnValue:
    """API tokens: create one (shown once, by the page the POST redirects to) and revoke."""
    form = TokenForm()
    if form.validate_on_submit():
        name = (form.name.data or "").strip() or "API token"
        try:
            token = users.create_api_token(current_user, name=name[:100])
        except ServiceError as exc:
            form.show(exc)
        else:
            shown_once.keep(NEW_TOKEN, token)
            flash(f"Token {name[:100]!r} created.", "success")
            return redirect(url_for("auth.tokens"))
    return render_template(
        "auth/tokens.html",
        form=form,
        new_token=shown_once.take(NEW_TOKEN),
        tokens=users.list_api_tokens(current_user),
    )


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke a token: requests bearing it are refused from now on."""
    users.revoke_api_token(current_user, token_id)
    flash("Token revoked. Requests that use it are now refused.", "success")
    return redirect(url_for("auth.tokens"))
