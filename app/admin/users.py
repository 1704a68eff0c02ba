"""Users on the admin pages: the list, disable and enable, and a password reset link by mail.

Every POST answers with a redirect to the list and a flash message (post/redirect/get).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.admin import bp
from app.extensions import db
from app.models import User
from app.services import password_reset, stats, users
from app.services.errors import NotFound, ServiceError
from app.services.operator_notices import SYSTEM_EMAIL


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.email == SYSTEM_EMAIL:
        raise NotFound(f"No user with id {user_id}.")
    return user


@bp.get("/users")
def users_page() -> ResponseReturnValue:
    """Every user: who they are, their webhooks, whether they are disabled, and the actions."""
    return render_template(
        "admin/users.html",
        rows=stats.user_counts(),
        no_reset=password_reset.no_reset,
        reset_minutes=password_reset.RESET_MINUTES,
    )


@bp.post("/users/<id:user_id>/disabled")
def set_disabled(user_id: int) -> ResponseReturnValue:
    """Disable a user (`disabled=1`: every session ends, no way in) or enable them again."""
    user = _user(user_id)
    disabled = request.form.get("disabled") == "1"
    try:
        users.set_disabled(user, disabled, by=current_user._get_current_object())
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if disabled:
            flash(f"{user.email} is disabled and signed out everywhere.", "success")
        else:
            flash(f"{user.email} is enabled again and can sign in.", "success")
    return redirect(url_for("admin.users_page"))


@bp.post("/users/<id:user_id>/reset-link")
def send_reset_link(user_id: int) -> ResponseReturnValue:
    """Mail the user a link to choose a new password, as "Forgot password?" would."""
    user = _user(user_id)
    try:
        password_reset.mail_reset_link(user)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        minutes = password_reset.RESET_MINUTES
        flash(f"A reset link is on its way to {user.email}; it works once, for {minutes} minutes.")
    return redirect(url_for("admin.users_page"))
