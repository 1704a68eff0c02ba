"""The JSON API (docs/api.md), under /api.

Every view is authenticated by `auth.authenticate` before it runs, unless its OpenAPI
description says it is public; errors become JSON in `app/errors.py`.
"""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from app.api.converters import IdConverter
from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
# Bearer-token calls carry no CSRF token; `auth` checks it itself for session-authenticated calls.
csrf.exempt(bp)


@bp.record_once
def _register_converters(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("id", IdConverter)


from app.api import auth, events, logs, openapi, webhooks  # noqa: E402,F401  (registers views)

bp.before_request(auth.authenticate)
