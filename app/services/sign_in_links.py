"""Sign-in links: how a tenant reaches the pages from the host application, with no password.

A link is a random token, single use, valid SIGNALPOST_SIGN_IN_LINK_TTL seconds; only its
SHA-256 is stored, so the table cannot sign anyone in. Using it is one conditional UPDATE:
of two requests with the same link, at most one finds it unused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.domain.local_paths import local_path
from app.extensions import db
from app.models import SignInLink, User, utcnow
from app.services.errors import Gone, NotFound
from app.services.users import check_active, hash_token

PATH = "/sign-in/link/"
# Say so on the page: the host app makes a new link each time its menu item is followed.
GO_BACK = "Go back to the application you came from and open Webhooks again."
DISABLED = "This account is disabled on Signalpost: its sign-in links sign nobody in."


@dataclass(frozen=True)
class NewLink:
    url: str
    expires_at: datetime


def create_link(user: User, return_to: str | None = None) -> NewLink:
    """A new link for `user`; `return_to` is kept only when it is a path on Signalpost.
    A disabled user gets none (AccountDisabled)."""
    check_active(user, DISABLED)
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=current_app.config["SIGN_IN_LINK_TTL"])
    db.session.add(
        SignInLink(
            user_id=user.id,
            token_hash=hash_token(token),
            return_to=local_path(return_to),
            expires_at=expires_at,
        )
    )
    db.session.commit()
    return NewLink(current_app.config["BASE_URL"].rstrip("/") + PATH + token, expires_at)


def use_link(token: str) -> tuple[User, str | None]:
    """The link's user and where to land, once; Gone when used or expired, NotFound if unknown."""
    token_hash = hash_token(token)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(SignInLink)
        .where(
            SignInLink.token_hash == token_hash,
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    link = db.session.scalar(sa.select(SignInLink).where(SignInLink.token_hash == token_hash))
    if link is None:
        raise NotFound(f"This sign-in link is not valid. {GO_BACK}")
    if claimed.rowcount != 1:
        raise Gone(f"This sign-in link has been used or has expired. {GO_BACK}")
    user = db.session.get(User, link.user_id)
    if user is None:  # deleted a moment ago, taking its links with it
        raise NotFound(f"This sign-in link is not valid. {GO_BACK}")
    return check_active(user, DISABLED), link.return_to
