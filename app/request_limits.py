"""Request limits of the web process (Flask-Limiter), declared once for pages and API alike.

Per-endpoint *delivery* rate limiting is a different rule and lives in the delivery path.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

# Test sends make an outgoing request each: limit them per user, from the page and the API.
TEST_SEND_LIMIT = "10/minute"
# Use with `limiter.shared_limit(TEST_SEND_LIMIT, scope=TEST_SEND_SCOPE, key_func=user_key)`
# so the page's button and the API draw on one budget.
TEST_SEND_SCOPE = "test-send"
# Events fired through the API, per user.
EVENTS_LIMIT = "600/minute"
# Failed sign-ins per client address.
SIGN_IN_LIMIT = "10/5 minutes"
# Registrations that send a mail, per client address; and the confirmation link sent again,
# per user. Both mail an address no one has verified, so they are kept few.
REGISTER_LIMIT = "5/hour"
VERIFY_RESEND_LIMIT = "3/hour"
# Password reset links asked for, per client address: each may mail someone else's address.
RESET_LIMIT = "5/hour"


def user_key() -> str:
    """Limit per signed-in user (session or API token), per address otherwise."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"ip:{request.remote_addr}"
