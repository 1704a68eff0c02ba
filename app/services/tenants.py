"""Tenants: the users that stand for the host application's own users, named by its ids.

A tenant has no usable password (they come in by sign-in links, app/services/sign_in_links.py),
counts as having a verified address (the host vouches for it) and is never an admin.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.domain.timestamps import isoformat
from app.extensions import db
from app.models import Delivery, User, Webhook, utcnow
from app.services import users
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.webhooks import NAME_MAX_LENGTH, NAME_REFUSED_CATEGORIES

EXTERNAL_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
EXTERNAL_ID_RULE = "1 to 64 characters of A-Z a-z 0-9 . _ : -"
# What `check_password_hash` can never match: werkzeug reads no method out of it.
NO_PASSWORD = "!tenant: signs in by link only"


@dataclass(frozen=True)
class TenantInput:
    """What the host sets on a tenant; a name of None leaves the current one as it is."""

    email: str
    name: str | None = None


def check_external_id(external_id: str) -> str:
    if not EXTERNAL_ID_PATTERN.fullmatch(external_id):
        raise ValidationError.from_fields({"external_id": [f"Use {EXTERNAL_ID_RULE}."]})
    return external_id


def _checked(data: TenantInput) -> tuple[str, str | None]:
    """The normalised email and name (None: unchanged, "" clears it), or ValidationError."""
    email = data.email.strip().lower()
    problems: dict[str, list[str]] = {}
    if problem := users.email_problem(email):
        problems["email"] = [problem]
    name = None if data.name is None else data.name.strip()
    if name is not None:
        if len(name) > NAME_MAX_LENGTH:
            problems["name"] = [f"Use at most {NAME_MAX_LENGTH} characters."]
        elif any(unicodedata.category(char) in NAME_REFUSED_CATEGORIES for char in name):
            problems["name"] = ["Use printable characters only."]
    if problems:
        raise ValidationError.from_fields(problems)
    return email, name


def get_tenant(external_id: str) -> User:
    user = users.tenant_user(check_external_id(external_id))
    if user is None:
        raise NotFound(f"No tenant {external_id!r}.")
    return user


def put_tenant(external_id: str, data: TenantInput) -> tuple[User, bool]:
    """Create the tenant, or change its email and name; True when it was created."""
    check_external_id(external_id)
    email, name = _checked(data)
    user = users.tenant_user(external_id)
    created = user is None
    if user is None:
        user = User(
            external_id=external_id,
            email=email,
            password_hash=NO_PASSWORD,
            is_admin=False,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
    try:
        if _email_owner(email) not in (None, user.id):
            raise _email_taken(email)
        user.email = email
        if name is not None:
            user.name = name or None
        db.session.commit()
    except (Conflict, sa.exc.IntegrityError):
        # Another request took the address, or made this very tenant, in the meantime: then
        # this one is an update of it.
        db.session.rollback()
        if created and users.tenant_user(external_id) is not None:
            return put_tenant(external_id, data)[0], False
        raise _email_taken(email) from None
    return user, created


def _email_owner(email: str) -> int | None:
    with db.session.no_autoflush:
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def _email_taken(email: str) -> Conflict:
    return Conflict(
        f"The email {email} belongs to another user of Signalpost; give this tenant another.",
        {"email": ["Already used by another user."]},
    )


def delete_tenant(external_id: str) -> None:
    """The tenant, with all their webhooks, events, deliveries, attempts, tokens and links, in
    one transaction (the database's cascades remove what refers to the user)."""
    user = get_tenant(external_id)
    # Lock the deliveries, then the webhooks, before the user: the order a worker finishing a
    # delivery takes them in, so on PostgreSQL the delete waits for it rather than deadlocks.
    webhook_ids = sa.select(Webhook.id).where(Webhook.user_id == user.id)
    db.session.execute(
        sa.select(Delivery.id).where(Delivery.webhook_id.in_(webhook_ids)).with_for_update()
    )
    db.session.execute(webhook_ids.with_for_update())
    db.session.execute(sa.delete(User).where(User.id == user.id))
    db.session.commit()


def as_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.external_id,
        "email": user.email,
        "name": user.name,
        "created_at": isoformat(user.created_at),
    }
