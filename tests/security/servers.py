"""Hostile endpoints on 127.0.0.1, on raw sockets: they misbehave below what a WSGI app can."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def read_request(connection: socket.socket) -> bytes:
    """The request head and body, as far as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class RawServer:
    """Accepts connections and hands each to `handle(number, connection)` in its own thread."""

    def __init__(self, handle: Callable[[int, socket.socket], None]) -> None:
        self.requests: list[bytes] = []
        self.finished = threading.Event()  # set when a misbehaving answer ended
        self._handle = handle
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> RawServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            number = len(self.requests)
            self.requests.append(read_request(connection))
            threading.Thread(target=self._run, args=(number, connection), daemon=True).start()

    def _run(self, number: int, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            self._handle(number, connection)


class DripServer(RawServer):
    """The first answer comes one byte every 0.2 s, for ever; later answers are normal."""

    def __init__(self) -> None:
        super().__init__(self._drip)
        self.bytes_dripped = 0

    def _drip(self, number: int, connection: socket.socket) -> None:
        if number > 0:
            connection.sendall(OK)
            return
        try:
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while True:
                connection.sendall(b"X")
                self.bytes_dripped += 1
                time.sleep(0.2)
        finally:
            self.finished.set()


class HugeBodyServer(RawServer):
    """Answers 200 with a body announced as 1 GiB and sent as fast as the client takes it."""

    SIZE = 1 << 30

    def __init__(self) -> None:
        super().__init__(self._flood)
        self.bytes_sent = 0

    def _flood(self, number: int, connection: socket.socket) -> None:
        chunk = b"A" * 65536
        try:
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {self.SIZE}\r\n\r\n".encode()
            )
            while self.bytes_sent < self.SIZE:
                connection.sendall(chunk)
                self.bytes_sent += len(chunk)
        finally:
            self.finished.set()


class TlsServer(RawServer):
    """HTTPS with the given certificate; records the name each client asked for (SNI)."""

    def __init__(self, certfile: str) -> None:
        self.server_names: list[str | None] = []
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(certfile)
        self._context.sni_callback = self._sni
        super().__init__(self._answer)

    def _sni(self, _sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tls, args=(raw,), daemon=True).start()

    def _tls(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            connection = self._context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        number = len(self.requests)
        self.requests.append(read_request(connection))
        self._run(number, connection)

    def _answer(self, _number: int, connection: socket.socket) -> None:
        connection.sendall(OK)
