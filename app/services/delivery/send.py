"""One attempt's request: the URL checked again, then the signed bytes sent to what was checked."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from app import outbound
from app.domain.outgoing import Outgoing, build_request
from app.domain.urls import UrlRefused, check_target
from app.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    """One attempt as made: what went out and what came back."""

    started_at: datetime
    body: bytes | None
    headers: dict[str, str] | None
    result: outbound.AttemptResult


def internal_error(exc: Exception) -> str:
    """How an attempt that raised is logged: the type says what broke, for the operator."""
    text = f"Internal error: {type(exc).__name__}: {exc}"[:1000]
    # Lone surrogates (from a name decoded with surrogateescape) cannot be stored either.
    return outbound.storable(text.encode("utf-8", errors="replace").decode("utf-8"))


def send(outgoing: Outgoing) -> Sent:
    """Check the URL again (its name may resolve elsewhere now), then send to what was checked.

    Whatever raises on the way (a bug in a format, an encoding a library refuses) ends this
    attempt as failed with the error, to be retried like any failure: never a crashed task
    that leaves the delivery `sending`, requeued and crashing again for ever.
    No database transaction is open meanwhile: the request may last WEBHOOK_TIMEOUT.
    """
    started_at = utcnow()
    started = time.monotonic()
    try:
        return _send(outgoing, started_at)
    except Exception as exc:
        log.exception("attempt to %s raised", outgoing.url)
        duration_ms = int((time.monotonic() - started) * 1000)
        failed = outbound.AttemptResult(None, None, duration_ms, internal_error(exc))
        return Sent(started_at, None, None, failed)


def _send(outgoing: Outgoing, started_at: datetime) -> Sent:
    config = current_app.config
    try:
        target = check_target(
            outgoing.url,
            require_https=config["WEBHOOK_REQUIRE_HTTPS"],
            allow_private=config["WEBHOOK_ALLOW_PRIVATE_TARGETS"],
        )
    except UrlRefused as refused:
        # A name that does not resolve may be a passing DNS fault: that is retried.
        refusal = (
            outbound.AttemptResult(None, None, 0, refused.reason)
            if refused.temporary
            else outbound.AttemptResult(
                None, None, 0, f"URL refused: {refused.reason}", refused=True
            )
        )
        return Sent(started_at, None, None, refusal)
    body, headers = build_request(outgoing, int(utcnow().timestamp()))
    result = outbound.post(target, body, headers, config["WEBHOOK_TIMEOUT"])
    return Sent(started_at, body, headers, result)
