"""A forgotten password: a mailed link, valid RESET_TTL and good for one reset.

The link signs a stamp of the user's password hash and session token: once the password has
changed, or the user has signed out everywhere, every link mailed before stops working. So a
link is single use with nothing stored.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from app.extensions import db
from app.models import User, utcnow
from app.services import queue, signed_links, users
from app.services.errors import Conflict, ServiceError

RESET_SALT = "signalpost-password-reset"
RESET_TTL = timedelta(hours=1)
RESET_MINUTES = int(RESET_TTL.total_seconds() // 60)


def _stamp(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}:{user.session_token}".encode()).hexdigest()[:32]


def reset_link(user: User) -> str:
    token = signed_links.sign(RESET_SALT, {"user": user.id, "stamp": _stamp(user)})
    return signed_links.absolute(f"/reset-password/{token}")


def no_reset(user: User) -> str | None:
    """Why `user` can be sent no reset link, or None."""
    # A tenant of the host application signs in through the host, never with a password.
    if user.external_id is not None:
        return (
            f"{user.email} is tenant {user.external_id!r} of the host application and signs "
            "in through it, by sign-in links: there is no password to reset."
        )
    return None


def send_reset_link(email: str) -> None:
    """Mail a reset link when the address has an account; say nothing either way, so the
    caller's answer is the same for any address."""
    user = users.find_user(email)
    if user is not None and no_reset(user) is None:
        mail_reset_link(user)


def mail_reset_link(user: User) -> None:
    """Mail `user` a reset link (an admin's button does it by name); Conflict saying why not."""
    if problem := no_reset(user):
        raise Conflict(problem)
    body = _RESET.format(link=reset_link(user), minutes=RESET_MINUTES)
    queue.enqueue_mail(user.email, "Reset your Signalpost password", body)


def user_for(token: str) -> User | None:
    """The user a live reset link is for; None when it is forged, old, or already used."""
    payload: Any = signed_links.read(RESET_SALT, token, RESET_TTL)
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        return None
    user = db.session.get(User, payload["user"])
    if user is None or payload.get("stamp") != _stamp(user):
        return None
    return user


def reset_password(token: str, password: str) -> User:
    """Set the new password, which ends every session of the user and uses the link up."""
    user = user_for(token)
    if user is None:
        raise ServiceError(EXPIRED)
    users.set_password(user, password)
    # The link was mailed to the address: opening it proved the address is the user's.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.commit()
    return user


EXPIRED = "This reset link has expired or has already been used. Ask for a new one."

_RESET = """Hello,

Someone (we hope you) asked to reset the password of your Signalpost account.
Open this link within {minutes} minutes to choose a new one:
{link}

If it was not you, ignore this message: your password stays as it is.
"""
