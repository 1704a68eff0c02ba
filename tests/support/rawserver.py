"""A TCP endpoint that misbehaves on purpose: resets, garbage, bad bytes, silence, dripping."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable

Behaviour = Callable[[socket.socket], None]


def read_request(connection: socket.socket) -> bytes:
    """The request head and body, as far as Content-Length says."""
    connection.settimeout(5)
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


def reset(connection: socket.socket) -> None:
    """Read the request, then close with a TCP RST instead of an answer."""
    read_request(connection)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def garbage(connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"\x00\x01NOT HTTP AT ALL\r\n\r\n\xff\xfe")


def not_utf8(connection: socket.socket) -> None:
    read_request(connection)
    body = b"\xff\xfe\xfd caf\xe9 \x00 \xc3\x28"
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )


def silent(hold: float) -> Behaviour:
    """Read the request and never answer (for `hold` seconds, then hang up)."""

    def behave(connection: socket.socket) -> None:
        read_request(connection)
        time.sleep(hold)

    return behave


def drip(total_bytes: int, every: float) -> Behaviour:
    """Answer 200, then send the body one byte at a time."""

    def behave(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: " + str(total_bytes).encode() + b"\r\n\r\n"
        )
        for _ in range(total_bytes):
            connection.sendall(b".")
            time.sleep(every)

    return behave


class RawServer:
    """Accepts connections and runs `behaviour` on each in a thread of its own."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> RawServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while self._running:
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        try:
            self.behaviour(connection)
        except OSError:
            pass  # the client gave up first: that is what several of these tests are about
        finally:
            connection.close()
