"""One HTTP attempt: POST the bytes to a checked address, never follow a redirect, keep the
first 4 KiB of the answer, and give up when the whole attempt has lasted the timeout.

The connection goes to an address `urls.check_target` has already judged, never to a fresh
lookup of the name; the name is still what the request carries (Host), what TLS asks for
(SNI) and what the certificate must match.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import certifi

from app.domain.retry import is_success
from app.domain.urls import DEFAULT_PORTS, Target
from app.outbound import pool
from app.outbound.deadline import Deadline

RESPONSE_BODY_LIMIT = 4096
# What is kept of an answer's headers: enough to debug with, bounded against a hostile endpoint.
RESPONSE_HEADERS_LIMIT = 50
RESPONSE_HEADER_VALUE_LIMIT = 1024


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    response_body: str | None
    duration_ms: int
    error: str | None
    retry_after: str | None = None
    refused: bool = False  # never sent: Signalpost itself refused the target; not retried
    response_headers: dict[str, str] | None = None


@cache
def tls_context() -> ssl.SSLContext:
    """Certificates are verified against the host name: the system's CAs and certifi's."""
    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


def _connect(target: Target, timeout: float, deadline: Deadline) -> socket.socket:
    """A connection to the first checked address that answers."""
    error: OSError = OSError("no address to connect to")
    for address in target.addresses:
        try:
            sock = socket.create_connection((address, target.port), timeout=timeout)
        except OSError as exc:
            error = exc
            continue
        # http.client writes the headers and the body in two sends: with Nagle's algorithm
        # the body would wait for the endpoint's delayed ACK of the headers, 40 ms a request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline.watch(sock)
        if target.scheme != "https":
            return sock
        try:
            sock = tls_context().wrap_socket(
                sock, server_hostname=target.host, do_handshake_on_connect=False
            )
            deadline.watch(sock)
            sock.do_handshake()
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == DEFAULT_PORTS[target.scheme] else f"{host}:{target.port}"


def post(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> AttemptResult:
    started = time.monotonic()
    kept = pool.check_out(target)
    if kept is not None:
        result = _exchange(target, kept, body, headers, timeout, started)
        if result is not None:
            return result
    # A new connection: first use, or the kept one had been closed by the endpoint.
    result = _exchange(target, None, body, headers, timeout, started)
    assert result is not None
    return result


def _exchange(
    target: Target,
    connection: http.client.HTTPConnection | None,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    started: float,
) -> AttemptResult | None:
    """One request on a kept connection or a new one; None when the kept one had gone stale."""
    reused = connection is not None
    deadline = Deadline(max(0.0, timeout - (time.monotonic() - started)))
    stage = "connecting"
    try:
        if connection is None:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
            # Never let http.client reconnect by itself: it would look the name up again.
            connection.auto_open = 0
            connection.sock = _connect(target, timeout, deadline)
        else:
            deadline.watch(connection.sock)
        stage = "waiting for the response"
        connection.request(
            "POST", target.path, body=body, headers={**headers, "Host": _host_header(target)}
        )
        response = connection.getresponse()
        raw = response.read(RESPONSE_BODY_LIMIT)
        if deadline.expired:  # a cut connection can look like a short, complete answer
            raise TimeoutError
    except (OSError, http.client.HTTPException) as exc:
        if connection is not None:
            connection.close()
        if reused and not deadline.expired and isinstance(exc, _STALE):
            return None
        error = _describe(exc, stage, timeout, deadline.expired)
        return AttemptResult(None, None, _elapsed_ms(started), storable(error))
    finally:
        deadline.cancel()
    if response.isclosed() and not response.will_close and connection.sock is not None:
        pool.check_in(target, connection)  # the whole answer was read: the connection is reusable
    else:
        connection.close()
    status = response.status
    return AttemptResult(
        status,
        storable(raw.decode("utf-8", errors="replace")),
        _elapsed_ms(started),
        _status_error(status, response.getheader("Location")),
        response.getheader("Retry-After"),
        response_headers=kept_headers(response.getheaders()),
    )


# How a kept-alive connection fails when the endpoint closed it while it sat idle.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.NotConnected)


def kept_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The answer's headers as they are logged: repeated names joined, sizes capped."""
    kept: dict[str, str] = {}
    for name, value in headers:
        name = storable(name)
        if name not in kept and len(kept) >= RESPONSE_HEADERS_LIMIT:
            continue
        joined = f"{kept[name]}, {value}" if name in kept else value
        kept[name] = storable(joined[:RESPONSE_HEADER_VALUE_LIMIT])
    return kept


def storable(text: str) -> str:
    """Text an endpoint sent, made safe to keep: PostgreSQL text cannot hold NUL characters."""
    return text.replace("\x00", "\ufffd")


def _describe(exc: Exception, stage: str, timeout: float, expired: bool) -> str:
    if expired:
        return f"timed out: the attempt took longer than {timeout:g} s"
    if isinstance(exc, TimeoutError):
        return f"timed out while {stage}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the endpoint closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP response: {str(exc)[:300] or type(exc).__name__}"
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"connection failed while {stage}: {reason[:300]}"


def _status_error(status: int, location: str | None) -> str | None:
    if is_success(status):
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
    return f"HTTP {status}"


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
