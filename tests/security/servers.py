"""Hostile endpoints on 127.0.0.1, on raw sockets: they misbehave below what a WSGI app can."""

from __future__ import annotations

import socket
import ssl
import threading
import time

from tests.support.rawserver import RawServer, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


class DripServer(RawServer):
    """The first answer comes one byte every 0.2 s, for ever; later answers are normal."""

    def __init__(self) -> None:
        super().__init__(self._drip)
        self.finished = threading.Event()  # set when the dripping answer ended
        self.bytes_dripped = 0

    def _drip(self, connection: socket.socket) -> None:
        first = self.connections == 1
        read_request(connection)
        if not first:
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
        self.finished = threading.Event()  # set when the flood ended
        self.bytes_sent = 0

    def _flood(self, connection: socket.socket) -> None:
        read_request(connection)
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
    """HTTPS with the given certificate; records each request and the name each client asked
    for (SNI)."""

    def __init__(self, certfile: str) -> None:
        super().__init__(self._answer)
        self.requests: list[bytes] = []
        self.server_names: list[str | None] = []
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(certfile)
        self._context.sni_callback = self._sni

    def _sni(self, _sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def _answer(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        # A refused handshake raises an OSError (ssl.SSLError is one): RawServer closes.
        with self._context.wrap_socket(raw, server_side=True) as connection:
            self.requests.append(read_request(connection))
            connection.sendall(OK)
