"""A token made by a POST and shown once, by the page that POST redirects to.

Post/redirect/get: reloading that page must not make a second token, so the POST only makes
it and redirects. The token rides to the page in the session cookie, sealed under
WEBHOOK_ENCRYPTION_KEY because Flask's cookie is signed, not encrypted; the page takes it out
at once and is sent `no-store` (`shows_secret`).
"""

from __future__ import annotations

from flask import current_app, session

from app.domain.secretbox import InvalidToken, SecretBox


def _box() -> SecretBox:
    return SecretBox(current_app.config["WEBHOOK_ENCRYPTION_KEY"])


def keep(name: str, plaintext: str) -> None:
    """Hand `plaintext` to the next page that calls `take(name)`."""
    session[name] = _box().seal(plaintext)


def take(name: str) -> str | None:
    """The token kept under `name`, removed from the session; None if there is none (a reload)."""
    sealed = session.pop(name, None)
    if not isinstance(sealed, str):
        return None
    try:
        return _box().open(sealed)
    except InvalidToken:  # sealed under a key since dropped from WEBHOOK_ENCRYPTION_KEY
        return None
