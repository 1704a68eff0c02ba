"""Accounts and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.passwords import password_problem
from app.extensions import db
from app.models import ApiToken, User, new_session_token, utcnow
from app.services.errors import AccountDisabled, Conflict, NotFound, ValidationError
from app.services.webhooks import NAME_REFUSED_CATEGORIES

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "sp_"
DISABLED = "This account is disabled. Ask an admin of Signalpost to enable it again."


def _normalise(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """What is wrong with an address (already normalised), or None: the one rule for all users."""
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        return "Enter a valid email address."
    # Mail headers would carry them; PostgreSQL cannot store a NUL at all.
    if any(unicodedata.category(char) in NAME_REFUSED_CATEGORIES for char in email):
        return "Use printable characters only."
    return None


def check_new_account(email: str, password: str) -> str:
    """The normalised email, when it and the password are acceptable; else ValidationError."""
    email = _normalise(email)
    problems: dict[str, list[str]] = {}
    if problem := email_problem(email):
        problems["email"] = [problem]
    problem = password_problem(password, _words_of(email))
    if problem:
        problems["password"] = [problem]
    if problems:
        raise ValidationError.from_fields(problems)
    return email


def _words_of(email: str) -> list[str]:
    """What a password must not be made of: the address and its parts."""
    return [email, email.partition("@")[0], *re.split(r"[@.+_-]", email)]


def find_user(email: str) -> User | None:
    """The user with this address, however it was typed; None for an address no account can
    have (one `email_problem` refuses, a NUL say), without asking the database, which may not
    even take it as a parameter."""
    email = _normalise(email)
    if email_problem(email):
        return None
    return db.session.scalar(sa.select(User).where(User.email == email))


def email_taken(email: str) -> bool:
    return find_user(email) is not None


def create_user(
    email: str, password: str, *, is_admin: bool = False, verified: bool = True
) -> User:
    """A new user. Only self-registration makes one whose address is not verified yet."""
    email = check_new_account(email, password)
    if email_taken(email):
        raise Conflict(f"A user with email {email} already exists.", {"email": ["Already taken."]})
    # sa.null(), not None: a None on a new object would leave the column to its default (now).
    user = User(
        email=email, is_admin=is_admin, email_verified_at=utcnow() if verified else sa.null()
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """A new password, which also ends every session of the user."""
    problem = password_problem(password, _words_of(user.email))
    if problem:
        raise ValidationError.from_fields({"password": [problem]})
    user.set_password(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session names the token this replaces."""
    user.session_token = new_session_token()
    db.session.commit()


def set_disabled(user: User, disabled: bool, *, by: User | None = None) -> None:
    """Disable a user, which ends every session of theirs at once, or enable them again.

    A disabled user cannot get in by any door (check_active), but their webhooks go on
    delivering what was fired before: only access is blocked (docs/operations.md).
    `by` is the admin doing it, who cannot disable themself (nor lock themself out).
    """
    if disabled and by is not None and by.id == user.id:
        raise Conflict("You cannot disable your own account.")
    if disabled == (not user.is_active):
        return
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        # Ended, not only refused: enabling the user again must not bring old sessions back.
        end_sessions(user)
    else:
        db.session.commit()


def check_active(user: User, message: str = DISABLED) -> User:
    """The user, unless an admin disabled them: then AccountDisabled (403), with `message`."""
    if not user.is_active:
        raise AccountDisabled(message)
    return user


def get_user_by_email(email: str) -> User:
    user = find_user(email)
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
    # The name is shown on the tokens page; PostgreSQL cannot store a NUL at all.
    if any(unicodedata.category(char) in NAME_REFUSED_CATEGORIES for char in name):
        raise ValidationError.from_fields({"name": ["Use printable characters only."]})
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
    """The user with this email and password, or None; the same answer for either mistake,
    in the same time: an unknown email costs a password check too."""
    user = find_user(email)
    matches = check_password_hash(user.password_hash if user else dummy_hash(), password)
    return user if user is not None and matches else None


@cache
def dummy_hash() -> str:
    """A hash of no one's password, made as real ones are, so that checking it costs the same."""
    return generate_password_hash(secrets.token_urlsafe(16))


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


def tenant_user(external_id: str) -> User | None:
    """The user standing for the host application's user `external_id`, if there is one."""
    return db.session.scalar(sa.select(User).where(User.external_id == external_id))
