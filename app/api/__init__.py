"""The JSON API (docs/api.md), under /api.

Every view is authenticated by `auth.authenticate` before it runs, unless its OpenAPI
description says it is public; errors become JSON in `app/errors.py`.
"""

from __future__ import annotations

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
# Bearer-token calls carry no CSRF token; `auth` checks it itself for session-authenticated calls.
csrf.exempt(bp)


from app.api import auth, events, logs, openapi, tenants, webhooks  # noqa: E402,F401  (registers views)

bp.before_request(auth.authenticate)
