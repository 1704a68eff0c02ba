"""One HTTP call to the API, retried when retrying is safe and useful.

Retried: a connection error or timeout (no answer), 429 (after its `Retry-After`), 5xx, and
409 `idempotency_key_in_progress` (the same key still being answered); each after a capped,
jittered exponential backoff unless the server named a wait. Callers make every retried call
safe to repeat: events carry an idempotency key, the other calls are idempotent by nature
(PUT, GET, DELETE) or harmless to repeat (a sign-in link).

Each attempt opens its own connection (`Connection: close`): nothing is shared between threads,
and no kept-alive connection can go stale between two calls of a quiet host.
"""

from __future__ import annotations

import http.client
import json
import random
import ssl
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from signalpost_client._version import __version__
from signalpost_client.errors import SignalpostError, TransportError, error_for

USER_AGENT = f"signalpost-client-python/{__version__}"
TENANT_HEADER = "Signalpost-Tenant"


@dataclass(frozen=True)
class Answer:
    """A successful answer: status, headers, body, and how many attempts it took."""

    status: int
    headers: Message
    body: bytes
    attempts: int

    def json(self) -> Any:
        """The body as JSON (None when empty); `SignalpostError` when it is not JSON, as from
        something in between that is not Signalpost."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            start = self.body[:200].decode("utf-8", "replace")
            raise SignalpostError(
                f"the answer is not JSON: {start!r}", status=self.status, code="invalid_answer"
            ) from None


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` retries after the first attempt; waits of `backoff` × 2ⁿ, at most
    `max_backoff`, jittered down to half; a `Retry-After` longer than `max_retry_after` is not
    waited for (the error is raised at once, carrying it)."""

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, retry: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * 2**retry)
        return random.uniform(ceiling / 2, ceiling)


def retry_after(headers: Message) -> float | None:
    """`Retry-After` in seconds, from either of its forms (seconds, or an HTTP date)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


# The same idempotency key is still being answered (a repeat that overtook the first call):
# try again, and the first call's answer comes back.
IN_PROGRESS = "idempotency_key_in_progress"


def _retryable(error: SignalpostError) -> bool:
    status = error.status or 0
    return status == 429 or status >= 500 or (status == 409 and error.code == IN_PROGRESS)


class Transport:
    """Sends requests to one Signalpost with one key."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.policy = policy
        self.ssl_context = ssl_context or ssl.create_default_context()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        tenant: str | None = None,
        headers: Mapping[str, str] | None = None,
        done_on_retry: Collection[int] = (),
        retries: int | None = None,
    ) -> Answer:
        """Send, retrying as the policy allows; raise the matching `SignalpostError` otherwise.

        `done_on_retry`: statuses that, on a retry, mean an earlier attempt already did the
        work and only its answer was lost (404 on a repeated DELETE). `retries` overrides
        the policy's `max_retries` for this call.
        """
        sent = self._headers(body, tenant, headers)
        retries = self.policy.max_retries if retries is None else retries
        attempt = 0
        while True:
            try:
                status, answer_headers, data = self._once(method, self.prefix + path, body, sent)
            except ssl.SSLCertVerificationError as exc:
                raise TransportError(f"TLS certificate not trusted: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                if attempt == retries:
                    raise TransportError(
                        f"no answer from {method} {path} after {attempt + 1} attempts: {exc!r}"
                    ) from exc
                time.sleep(self.policy.delay(attempt))
                attempt += 1
                continue
            if status < 400 or (attempt and status in done_on_retry):
                return Answer(status, answer_headers, data, attempt + 1)
            asked = retry_after(answer_headers)
            error = error_for(status, data, asked)
            if _retryable(error) and attempt < retries:
                wait = self.policy.delay(attempt) if asked is None else asked
                if wait <= self.policy.max_retry_after:
                    time.sleep(wait)
                    attempt += 1
                    continue
            raise error

    def _headers(
        self, body: bytes | None, tenant: str | None, extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        sent = {
            "Authorization": f"Bearer {self.key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Connection": "close",
        }
        if body is not None:
            sent["Content-Type"] = "application/json"
        if tenant is not None:
            sent[TENANT_HEADER] = tenant
        sent.update(extra or {})
        return sent

    def _once(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, Message, bytes]:
        connection: http.client.HTTPConnection
        if self.scheme == "https":
            connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()
