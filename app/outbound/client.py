"""One HTTP attempt: POST the bytes to a checked address, never follow a redirect, keep the
first 4 KiB of the answer, and give up when the whole attempt has lasted the timeout.

The connection goes to an address `urls.check_target` has already judged, never to a fresh
lookup of the name; the name is still what the request carries (Host), what TLS asks for
(SNI) and what the certificate must match.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import os
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import certifi

from app.domain.urls import DEFAULT_PORTS, Target

RESPONSE_BODY_LIMIT = 4096


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    response_body: str | None
    duration_ms: int
    error: str | None
    retry_after: str | None = None
    refused: bool = False  # never sent: Signalpost itself refused the target; not retried


@cache
def tls_context() -> ssl.SSLContext:
    """Certificates are verified against the host name: the system's CAs and certifi's."""
    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


class _Deadline:
    """Shuts the connection once the attempt has lasted `seconds`.

    Per-read timeouts alone let an endpoint that drips a byte a second hold a worker for ever.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        _watchdog.watch(self, time.monotonic() + seconds)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shut()

    def cancel(self) -> None:
        # Under the lock: once this returns, the socket (perhaps kept alive for another
        # attempt) is never shut on this attempt's behalf.
        with self._lock:
            self.done = True
            self._sock = None

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            # The plain socket's shutdown, even under TLS: it wakes a blocked read at once.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process that expires every deadline that comes due.

    A timer thread per attempt would start and stop a thread for every delivery. Deadlines
    that ended in time are dropped when they reach the front of the heap, so the thread wakes
    about once per timeout, not once per attempt.
    """

    def __init__(self) -> None:
        self._order = itertools.count()
        self._reset()
        # A forked child has no watchdog thread, and its parent's deadlines are not its own.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._due: list[tuple[float, int, _Deadline]] = []
        self._changed = threading.Condition()
        self._running = False

    def watch(self, deadline: _Deadline, at: float) -> None:
        with self._changed:
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="signalpost-deadlines", daemon=True).start()
            heapq.heappush(self._due, (at, next(self._order), deadline))
            if self._due[0][2] is deadline:
                self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._due and self._due[0][2].done:
                    heapq.heappop(self._due)
                if not self._due:
                    self._changed.wait()
                    continue
                at, _, deadline = self._due[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(self._due)
            deadline.expire()


_watchdog = _Watchdog()


def _connect(target: Target, timeout: float, deadline: _Deadline) -> socket.socket:
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


# Idle keep-alive connections, shared by a worker's threads: each connection is used by one
# thread at a time (checked out, then checked in). They are keyed by the checked addresses too:
# a name that now resolves elsewhere gets a connection of its own, never the old one.
IDLE_LIMIT = 256
_idle: OrderedDict[tuple, list[http.client.HTTPConnection]] = OrderedDict()
_idle_count = 0
_idle_lock = threading.Lock()


def _key(target: Target) -> tuple:
    return (target.scheme, target.host, target.port, target.addresses)


def _check_out(target: Target) -> http.client.HTTPConnection | None:
    global _idle_count
    with _idle_lock:
        kept = _idle.get(_key(target))
        if not kept:
            return None
        connection = kept.pop()
        if not kept:
            del _idle[_key(target)]
        _idle_count -= 1
        return connection


def _check_in(target: Target, connection: http.client.HTTPConnection) -> None:
    global _idle_count
    evicted: list[http.client.HTTPConnection] = []
    with _idle_lock:
        _idle.setdefault(_key(target), []).append(connection)
        _idle.move_to_end(_key(target))
        _idle_count += 1
        while _idle_count > IDLE_LIMIT:
            oldest_key, oldest = next(iter(_idle.items()))
            evicted.append(oldest.pop(0))
            if not oldest:
                del _idle[oldest_key]
            _idle_count -= 1
    for connection_to_close in evicted:
        connection_to_close.close()


def close_idle() -> None:
    """Close every kept-alive connection (at worker shutdown)."""
    global _idle_count
    with _idle_lock:
        connections = [connection for kept in _idle.values() for connection in kept]
        _idle.clear()
        _idle_count = 0
    for connection in connections:
        connection.close()


def post(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> AttemptResult:
    started = time.monotonic()
    kept = _check_out(target)
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
    deadline = _Deadline(max(0.0, timeout - (time.monotonic() - started)))
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
        _check_in(target, connection)  # the whole answer was read: the connection is reusable
    else:
        connection.close()
    status = response.status
    return AttemptResult(
        status,
        storable(raw.decode("utf-8", errors="replace")),
        _elapsed_ms(started),
        _status_error(status, response.getheader("Location")),
        response.getheader("Retry-After"),
    )


# How a kept-alive connection fails when the endpoint closed it while it sat idle.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.NotConnected)


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
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
    return f"HTTP {status}"


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
