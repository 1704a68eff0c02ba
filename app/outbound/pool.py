"""Idle keep-alive connections, kept per checked address, shared by a worker's threads."""

from __future__ import annotations

import http.client
import threading
from collections import OrderedDict

from app.domain.urls import Target

# Idle keep-alive connections, shared by a worker's threads: each connection is used by one
# thread at a time (checked out, then checked in). They are keyed by the checked addresses too:
# a name that now resolves elsewhere gets a connection of its own, never the old one.
IDLE_LIMIT = 256
_idle: OrderedDict[tuple, list[http.client.HTTPConnection]] = OrderedDict()
_idle_count = 0
_idle_lock = threading.Lock()


def _key(target: Target) -> tuple:
    return (target.scheme, target.host, target.port, target.addresses)


def check_out(target: Target) -> http.client.HTTPConnection | None:
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


def check_in(target: Target, connection: http.client.HTTPConnection) -> None:
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
