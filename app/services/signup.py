"""Self-registration: `SIGNALPOST_REGISTRATION` open, by invitation or closed; one answer
whether or not the address already has an account; a signed link that verifies the address.

Links are signed and expire (app/services/signed_links.py); nothing about them is stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User, utcnow
from app.services import queue, signed_links, users
from app.services.errors import Conflict, Forbidden, ServiceError, ValidationError

VERIFY_SALT = "signalpost-verify-email"
INVITE_SALT = "signalpost-invite"
VERIFY_TTL = timedelta(days=3)
INVITE_TTL = timedelta(days=7)


def invitation(token: str | None) -> str | None:
    """The address an invitation is for (None without one), if registering is allowed at all.

    Raises Forbidden when registration is closed, or by invitation and this is none.
    """
    mode = current_app.config["REGISTRATION"]
    if mode == "closed":
        raise Forbidden("Registration is closed here. Ask an administrator for an account.")
    if token:
        payload = signed_links.read(INVITE_SALT, token, INVITE_TTL)
        if not isinstance(payload, dict) or not isinstance(payload.get("email"), str):
            raise Forbidden("This invitation has expired or is not valid. Ask for a new one.")
        return payload["email"]
    if mode == "invite":
        raise Forbidden("Registration here is by invitation. Ask an administrator for one.")
    return None


def register(email: str, password: str, *, invite: str | None = None) -> str:
    """Make the account, or mail the address's owner that someone tried to: the caller answers
    the same either way, so registering tells no one which addresses have accounts.

    Returns the normalised address. An invited account is verified (the invitation was mailed
    there); any other gets a link that verifies it.
    """
    invited = invitation(invite)
    email = users.check_new_account(invited or email, password)
    if users.email_taken(email):
        generate_password_hash(password)  # what making the account would have cost
        _mail_account_exists(email)
        return email
    user = users.create_user(email, password, verified=invited is not None)
    if invited:
        queue.enqueue_mail(
            email,
            "Your Signalpost account",
            _WELCOME.format(link=signed_links.absolute("/sign-in")),
        )
    else:
        send_verification(user)
    return email


def send_verification(user: User) -> None:
    body = _VERIFY.format(link=_verification_link(user), days=VERIFY_TTL.days)
    queue.enqueue_mail(user.email, "Confirm your address", body)


def _verification_link(user: User) -> str:
    token = signed_links.sign(VERIFY_SALT, {"user": user.id, "email": user.email})
    return signed_links.absolute(f"/verify-email/{token}")


def verify_email(token: str) -> User:
    """Mark the address the link was mailed to as verified; the link holds for VERIFY_TTL."""
    payload = signed_links.read(VERIFY_SALT, token, VERIFY_TTL)
    user = db.session.get(User, payload["user"]) if _is_verification(payload) else None
    if user is None or user.email != payload["email"]:
        raise ServiceError("This confirmation link has expired or is not valid.")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.commit()
    return user


def _is_verification(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("user"), int)
        and isinstance(payload.get("email"), str)
    )


def invite(email: str) -> None:
    """Mail an invitation to register with this address (valid INVITE_TTL)."""
    email = email.strip().lower()
    if not users.EMAIL_PATTERN.match(email):
        raise ValidationError.from_fields({"email": ["Enter a valid email address."]})
    if users.email_taken(email):
        raise Conflict(f"{email} already has an account.")
    token = signed_links.sign(INVITE_SALT, {"email": email})
    link = signed_links.absolute(f"/register?invite={token}")
    queue.enqueue_mail(
        email, "You are invited to Signalpost", _INVITE.format(link=link, days=INVITE_TTL.days)
    )


def _mail_account_exists(email: str) -> None:
    owner = users.get_user_by_email(email)
    note = ""
    if owner.email_verified_at is None:
        link = _verification_link(owner)
        note = f"\nYou have not confirmed this address yet; this link does:\n{link}\n"
    body = _EXISTS.format(link=signed_links.absolute("/sign-in"), note=note)
    queue.enqueue_mail(email, "Someone tried to register with your address", body)


_VERIFY = """Hello,

Open this link to confirm that this address is yours:
{link}

It holds for {days} days. Until then Signalpost mails you no notices about your webhooks.
If you did not register with Signalpost, ignore this message.

-- Signalpost
"""

_EXISTS = """Hello,

Someone (perhaps you) tried to register with Signalpost using this address, which already
has an account. Nothing has changed. If it was you, sign in instead:
{link}
{note}
If it was not you, you need do nothing.

-- Signalpost
"""

_WELCOME = """Hello,

Your Signalpost account is ready. Sign in with your address and the password you chose:
{link}

-- Signalpost
"""

_INVITE = """Hello,

You are invited to Signalpost, where you can have events delivered to your own endpoints.
Create your account here (the link holds for {days} days):
{link}

-- Signalpost
"""
