"""Which user a session cookie names, checked against the database on every request.

Flask-Login keeps `User.get_id()` in the signed session: the user's id and their current
session token. A session is valid only while the token is the user's current one, so a new
token (`services.users.end_sessions`: sign-out, a password change, an admin disabling them)
ends every session of that user at once, on every device, however the cookie was kept.
Sign-in links and the sign-in page alike go through `login_user`, and so through `get_id`.
"""

from __future__ import annotations

import hmac

from app.converters import parse_id
from app.extensions import db
from app.models import User


def load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    number = parse_id(user_id)
    if number is None or not token:
        return None
    user = db.session.get(User, number)
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user
