"""The operator's probes: GET /metrics for Prometheus and GET /readyz (docs/operations.md).

/healthz, the cheap liveness check, stays with the front page (app/main).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app import metrics
from app.errors import json_error
from app.extensions import db
from app.monitoring import bp
from app.services import monitoring, operator_keys

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="metrics"'}


@bp.get("/metrics")
def scrape() -> ResponseReturnValue:
    """Prometheus text format, for an operator key, or anyone with SIGNALPOST_METRICS_PUBLIC."""
    try:
        refused = None if current_app.config["METRICS_PUBLIC"] else _refused()
    except sa.exc.SQLAlchemyError:  # the key cannot be checked
        db.session.rollback()
        return json_error(503, "unavailable", "The database is down: the key cannot be checked.")
    if refused is not None:
        return refused
    body = metrics.exposition(monitoring.gauges())
    return Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE)


def _refused() -> Response | None:
    """401 without a usable operator key, 403 for a user's token: only operators scrape."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        response = json_error(
            401, "unauthorized", "Send 'Authorization: Bearer spk_…' (flask keys create NAME)."
        )
    elif not operator_keys.is_operator_key(token):
        return json_error(403, "forbidden", "Only an operator key may read the metrics.")
    elif operator_keys.key_for(token) is None:
        response = json_error(401, "unauthorized", "This operator key is unknown or revoked.")
    else:
        return None
    response.headers.update(UNAUTHORIZED_HEADERS)
    return response


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """200 when the database and broker answer and a worker and beat were seen lately; else
    503 with `problems` naming each. Also reports the overdue deliveries."""
    readiness = monitoring.readiness()
    body = {"ready": readiness.ready, **readiness.checks, "problems": readiness.problems}
    return jsonify(body), 200 if readiness.ready else 503
