"""The landing page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.domain.catalog import EVENT_TYPES
from app.extensions import db
from app.main import bp


@bp.get("/")
def index() -> ResponseReturnValue:
    """The webhook list once signed in; otherwise what Signalpost is, with Sign in / Register."""
    if current_user.is_authenticated:
        return redirect(url_for("webhooks.index"))
    return render_template("main/index.html", event_types=EVENT_TYPES)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database and the broker answer; 503 naming what is down."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    status = 200 if all(value == "ok" for value in checks.values()) else 503
    return jsonify(checks), status


def _check_database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return "down"


def _check_broker() -> str:
    try:
        with current_app.extensions["celery"].connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:  # whatever the transport raises, the broker is unreachable
        return "down"
