"""Links mailed to users, signed with SECRET_KEY (itsdangerous) and expiring; nothing stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer


def _signer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign(salt: str, payload: Any) -> str:
    return _signer(salt).dumps(payload)


def read(salt: str, token: str, ttl: timedelta) -> Any:
    """The signed payload, or None when the token is forged, for another salt, or too old."""
    try:
        return _signer(salt).loads(token, max_age=int(ttl.total_seconds()))
    except BadData:
        return None


def absolute(path: str) -> str:
    """A link on this site, as it is mailed."""
    return current_app.config["BASE_URL"].rstrip("/") + path
