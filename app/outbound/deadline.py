"""A deadline for a whole attempt, and the one thread per process that enforces them."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time


class Deadline:
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
        self._due: list[tuple[float, int, Deadline]] = []
        self._changed = threading.Condition()
        self._running = False

    def watch(self, deadline: Deadline, at: float) -> None:
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
