"""One attempt's request: the URL checked again, then the signed bytes sent to what was checked."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from app import outbound
from app.domain.outgoing import Outgoing, build_request
from app.domain.urls import UrlRefused, check_target
from app.models import utcnow


@dataclass(frozen=True)
class Sent:
    """One attempt as made: what went out and what came back."""

    started_at: datetime
    body: bytes | None
    headers: dict[str, str] | None
    result: outbound.AttemptResult


def send(outgoing: Outgoing) -> Sent:
    """Check the URL again (its name may resolve elsewhere now), then send to what was checked.

    No database transaction is open meanwhile: the request may last WEBHOOK_TIMEOUT.
    """
    started_at = utcnow()
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
    body, headers = build_request(outgoing, int(time.time()))
    result = outbound.post(target, body, headers, config["WEBHOOK_TIMEOUT"])
    return Sent(started_at, body, headers, result)
