"""A TCP proxy on 127.0.0.1 in front of a real HTTP server that fails on request, one
connection at a time: the faults an API client meets between it and its server.

Each connection takes the next planned fault (then `PASS` for ever after):
- `PASS`: forwarded, the server's answer relayed.
- `REFUSE`: closed once the request is read, before the server sees it.
- `DROP_ANSWER`: forwarded and fully answered by the server, then closed without a byte back:
  the request took effect and its answer was lost.
- `Delay(seconds)`: forwarded, the answer relayed only after `seconds` (a client timeout).
- `Answer(status, headers)`: answered by the proxy itself (a 503 or 429 with `Retry-After`).

Each connection carries one request: the proxy asks the server for `Connection: close`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from tests.support.rawserver import read_request

PASS = "pass"
REFUSE = "refuse"
DROP_ANSWER = "drop_answer"


@dataclass(frozen=True)
class Delay:
    seconds: float


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    code: str = "injected"  # the API error's code in the body


Fault = str | Delay | Answer


@dataclass
class Seen:
    """One connection: its request (line, headers with lower-case names, body) and its fault."""

    request_line: str
    headers: dict[str, str]
    body: bytes
    fault: Fault


def _seen(request: bytes, fault: Fault) -> Seen:
    head, _, body = request.partition(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for header in lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Seen(line, headers, body, fault)


def _closing(request: bytes) -> bytes:
    """The request with its own Connection header replaced by `Connection: close`."""
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _canned(answer: Answer) -> bytes:
    reason = HTTPStatus(answer.status).phrase
    body = json.dumps(
        {"error": {"code": answer.code, "message": f"{answer.status} from the fault proxy"}}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
        **answer.headers,
    }
    head = f"HTTP/1.1 {answer.status} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + body


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: deque[Fault] = deque()
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def plan(self, *faults: Fault) -> None:
        """The faults the next connections meet, in order; every later one passes."""
        with self._lock:
            self.faults.extend(faults)

    def _handle(self, connection: socket.socket) -> None:
        request = read_request(connection)
        if not request:
            return
        with self._lock:
            fault = self.faults.popleft() if self.faults else PASS
            self.seen.append(_seen(request, fault))
        if fault == REFUSE:
            return
        if isinstance(fault, Answer):
            connection.sendall(_canned(fault))
            return
        answer = self._forward(_closing(request))
        if fault == DROP_ANSWER:
            return
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
        # The client may have given up during a delay; that is what a delay is for.
        with contextlib.suppress(OSError):
            connection.sendall(answer)

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request)
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
        return answer
