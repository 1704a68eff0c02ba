"""One HTTP attempt: POST the bytes, never follow a redirect, keep the first 4 KiB of the answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
import urllib3

RESPONSE_BODY_LIMIT = 4096

_local = threading.local()


def _session() -> requests.Session:
    """One keep-alive session per worker thread: requests' sessions are not thread-safe."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    response_body: str | None
    duration_ms: int
    error: str | None
    retry_after: str | None = None
    refused: bool = False  # never sent: Signalpost itself refused the target; not retried


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "timed out while connecting"
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError):
        return "timed out waiting for the response"
    if isinstance(exc, requests.ConnectionError):
        reason = str(exc.args[0]) if exc.args else str(exc)
        if "Connection refused" in reason:
            return "connection refused"
        return f"connection failed: {reason[:300]}"
    return f"request failed: {str(exc)[:300]}"


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> AttemptResult:
    started = time.monotonic()
    try:
        with _session().post(
            url,
            data=body,
            headers=dict(headers),
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = response.raw.read(RESPONSE_BODY_LIMIT, decode_content=True)
            status = response.status_code
            retry_after = response.headers.get("Retry-After")
            location = response.headers.get("Location")
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        return AttemptResult(None, None, _elapsed_ms(started), _describe(exc))
    return AttemptResult(
        status,
        raw.decode("utf-8", errors="replace"),
        _elapsed_ms(started),
        _status_error(status, location),
        retry_after,
    )


def _status_error(status: int, location: str | None) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
    return f"HTTP {status}"


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
