"""Accounts and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, User, utcnow
from app.services.errors import Conflict, NotFound, ValidationError

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "sp_"


def _normalise(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str, *, is_admin: bool = False) -> User:
    email = _normalise(email)
    problems: dict[str, list[str]] = {}
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        problems["email"] = ["Enter a valid email address."]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if problems:
        raise ValidationError.from_fields(problems)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"A user with email {email} already exists.", {"email": ["Already taken."]})
    user = User(email=email, is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def get_user_by_email(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == _normalise(email)))
    if user is None:
        raise NotFound(f"No user with email {email}.")
    return user


def ensure_admin(email: str = "admin@signalpost.local") -> tuple[User, str] | None:
    """Create a first admin when there is none; returns it with its one-time password."""
    if db.session.scalar(sa.select(User.id).where(User.is_admin.is_(True)).limit(1)):
        return None
    password = secrets.token_urlsafe(12)
    return create_user(email, password, is_admin=True), password


def first_admin_email() -> str:
    email = db.session.scalar(
        sa.select(User.email).where(User.is_admin.is_(True)).order_by(User.id).limit(1)
    )
    if email is None:
        raise NotFound("There is no admin.")
    return email


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str = "API token") -> str:
    """A new bearer token; only its hash is kept, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token)))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    api_token = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if api_token is None:
        return None
    api_token.last_used_at = utcnow()
    db.session.commit()
    return api_token.user


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None; the same answer for either mistake."""
    user = db.session.scalar(sa.select(User).where(User.email == _normalise(email)))
    if user is None or not user.check_password(password):
        return None
    return user


def list_api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(user: User, token_id: int) -> None:
    api_token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if api_token is None:
        raise NotFound(f"No API token with id {token_id}.")
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        db.session.commit()
