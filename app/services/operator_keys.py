"""Operator keys: the host application's backend acts for its tenants with one of these."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import OperatorKey, utcnow
from app.services.errors import NotFound, ValidationError
from app.services.users import hash_token
from app.services.webhooks import NAME_REFUSED_CATEGORIES

KEY_PREFIX = "spk_"
# Writing `last_used_at` on every call would make each API call a write; a minute is precise
# enough to tell a key in use from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


def is_operator_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def create_key(name: str) -> tuple[OperatorKey, str]:
    """A new key and its plaintext; only the hash is kept, so this is the one time it is seen."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError.from_fields({"name": ["Give the key a name of 1 to 100 characters."]})
    if any(unicodedata.category(char) in NAME_REFUSED_CATEGORIES for char in name):
        raise ValidationError.from_fields({"name": ["Use printable characters only."]})
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = OperatorKey(name=name, key_hash=hash_token(plaintext))
    db.session.add(key)
    db.session.commit()
    return key, plaintext


def list_keys() -> list[OperatorKey]:
    return list(db.session.scalars(sa.select(OperatorKey).order_by(OperatorKey.id.desc())))


def revoke_key(key_id: int) -> OperatorKey:
    key = db.session.get(OperatorKey, key_id)
    if key is None:
        raise NotFound(f"No operator key with id {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    return key


def key_for(plaintext: str) -> OperatorKey | None:
    """The live key with this plaintext, or None when it is unknown or revoked."""
    key = db.session.scalar(
        sa.select(OperatorKey).where(
            OperatorKey.key_hash == hash_token(plaintext), OperatorKey.revoked_at.is_(None)
        )
    )
    if key is None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        key.last_used_at = now
        db.session.commit()
    return key
