"""One place that turns every error into a response: JSON under /api, a page elsewhere.

JSON errors have the contract's shape:
`{"error": {"code": "validation_error", "message": "...", "fields": {"url": ["..."]}}}`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from app.extensions import db
from app.services.errors import ServiceError

log = logging.getLogger(__name__)

# Machine-readable codes for HTTP errors that are not raised by a service.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


KEPT_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def json_error(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> Response:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    return response


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/page.html", status=status, title=title, message=message), status


def handle_http_error(exc: HTTPException) -> Response | tuple[str, int]:
    status = exc.code or 500
    if wants_json():
        response = json_error(status, HTTP_CODES.get(status, "error"), exc.description or "")
    else:
        response = _page(status, exc.name, exc.description or "")
    return _keep_headers(exc, response)


def _keep_headers(exc: HTTPException, response: Response | tuple[str, int]) -> Response | tuple:
    """Keep headers the exception carries: Retry-After on 429, Allow on 405, WWW-Authenticate."""
    extra = exc.get_response().headers
    keep = {name: extra[name] for name in KEPT_HEADERS if name in extra}
    if not keep:
        return response
    if isinstance(response, Response):
        response.headers.update(keep)
        return response
    return (*response, keep)


def handle_service_error(exc: ServiceError) -> Response | tuple[str, int]:
    if wants_json():
        return json_error(exc.status, exc.code, exc.message, exc.fields)
    return _page(exc.status, exc.code.replace("_", " ").capitalize(), exc.message)


def handle_database_down(exc: Exception) -> Response | tuple[str, int]:
    """The database is unreachable (restarting, failing over): 503, and the next request retries."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    db.session.rollback()
    return handle_http_error(
        ServiceUnavailable("The database is unavailable right now; try again shortly.")
    )


def handle_unexpected(exc: Exception) -> Response | tuple[str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(ServiceError, handle_service_error)
    # PendingRollbackError: the connection broke earlier in this session's transaction.
    for database_down in (
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sa.exc.PendingRollbackError,
    ):
        app.register_error_handler(database_down, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)
