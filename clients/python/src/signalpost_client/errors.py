"""Errors raised by the client, one class per kind of answer.

Every error the API returns has the shape
`{"error": {"code": "validation_error", "message": "...", "fields": {"url": ["..."]}}}`;
the exception carries those three parts and the HTTP status.
"""

from __future__ import annotations

import json
from typing import Any


class SignalpostError(Exception):
    """Base class of every error this package raises.

    `status` is the HTTP status (None when no answer came), `code` the API's machine-readable
    code (e.g. `validation_error`, `idempotency_key_reused`), `message` its text, and `fields`
    the problems per input field (empty when there are none). From `events.send`,
    `idempotency_key` is the key the event was sent with (None from other calls).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "error",
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields: dict[str, list[str]] = fields or {}
        self.idempotency_key: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.status} {self.code}" if self.status else self.code
        return f"{prefix}: {self.message}"


class ValidationError(SignalpostError):
    """400, 413 or 422: the request was refused for its content; `fields` says what to fix."""


class Unauthorized(SignalpostError):
    """401: the key is missing, unknown or revoked."""


class Forbidden(SignalpostError):
    """403: the key may not call this (e.g. a user token on a tenant route)."""


class NotFound(SignalpostError):
    """404: no such tenant (or object of that tenant)."""


class Conflict(SignalpostError):
    """409: e.g. `idempotency_key_reused`, the same key sent with a different body."""


class RateLimited(SignalpostError):
    """429 after the client's own retries; `retry_after` is the wait the server asked for."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(SignalpostError):
    """5xx after the client's own retries."""


class TransportError(SignalpostError):
    """No answer: the connection failed or timed out on every attempt. `status` is None.

    An event may still have been accepted: sending it again with the same key (the error's
    `idempotency_key`) is safe.
    """


_BY_STATUS: dict[int, type[SignalpostError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: ValidationError,
    422: ValidationError,
    429: RateLimited,
}


def error_for(status: int, body: bytes, retry_after: float | None = None) -> SignalpostError:
    """The exception for an answer with this status and body (the API's JSON error, or not)."""
    code, message = f"http_{status}", ""
    fields: dict[str, list[str]] = {}
    try:
        document = json.loads(body)
        error = document["error"]
        code, message = str(error["code"]), str(error.get("message", ""))
        fields = error.get("fields") or {}
    except (ValueError, KeyError, TypeError):
        # Not the API's shape: a proxy's page, say. Keep the start of it for the reader.
        message = body[:200].decode("utf-8", "replace").strip()
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else SignalpostError)
    kwargs: dict[str, Any] = {"status": status, "code": code, "fields": fields}
    if kind is RateLimited:
        kwargs["retry_after"] = retry_after
    return kind(message or f"HTTP {status}", **kwargs)
