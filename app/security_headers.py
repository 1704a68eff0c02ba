"""What browsers are told about every response: where scripts may come from, who may frame
the pages, https only, no sniffing, how much of a URL goes in a Referer; and that a page
showing a secret once must not be stored by any cache.

Flask-Talisman sets the headers; the policy is decided here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, make_response
from flask_talisman import Talisman

F = TypeVar("F", bound=Callable[..., Any])

talisman = Talisman()

# Scripts and styles only from the site's own files, so an injected <script> or on* handler
# never runs; nothing may be fetched, posted or framed elsewhere.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}
# A year; never includeSubDomains: the operator's other sites under the same name are theirs.
HSTS_SECONDS = 365 * 24 * 3600


def register(app: Flask) -> None:
    ancestors = app.config["FRAME_ANCESTORS"]
    talisman.init_app(
        app,
        # TLS is the proxy's job; HSTS (sent on https requests only) keeps browsers on it.
        force_https=False,
        strict_transport_security=True,
        strict_transport_security_max_age=HSTS_SECONDS,
        strict_transport_security_include_subdomains=False,
        content_security_policy={
            **CONTENT_SECURITY_POLICY,
            "frame-ancestors": " ".join(ancestors) if ancestors else "'none'",
        },
        # X-Frame-Options cannot name several origins; browsers that know frame-ancestors
        # ignore it, older ones then get no framing at all unless embedding is configured.
        frame_options="DENY" if not ancestors else None,
        referrer_policy="strict-origin-when-cross-origin",
        # Talisman writes the session cookie's settings into the config: give it ours.
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )


def shows_secret(view: F) -> F:
    """For a view whose response holds a secret or token shown this once: `no-store`, so no
    browser history, back button or shared cache keeps a copy."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper  # type: ignore[return-value]
