"""The landing page and the health check."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.domain.catalog import EVENT_TYPES
from app.main import bp
from app.services import monitoring


@bp.get("/")
def index() -> ResponseReturnValue:
    """The webhook list once signed in; otherwise what Signalpost is, with Sign in / Register."""
    if current_user.is_authenticated:
        return redirect(url_for("webhooks.index"))
    return render_template("main/index.html", event_types=EVENT_TYPES)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database and the broker answer; 503 naming what is down."""
    checks = {"database": monitoring.check_database(), "broker": monitoring.check_broker()}
    status = 200 if all(value == "ok" for value in checks.values()) else 503
    return jsonify(checks), status
