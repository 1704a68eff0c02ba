"""The HTTP sender keeps a connection alive per worker thread, and recovers when it goes stale."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app import outbound
from app.domain.urls import check_target
from app.outbound import client, pool


class KeepAliveServer:
    """An HTTP/1.1 endpoint that keeps connections open (werkzeug's dev server closes them)."""

    def __init__(self, port: int = 0, body: bytes = b"ok") -> None:
        self.client_ports: list[int] = []
        self.connections: list[socket.socket] = []
        self.barrier: threading.Barrier | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                owner.connections.append(self.connection)

            def do_POST(self) -> None:  # noqa: N802 - the http.server naming
                self.rfile.read(int(self.headers["Content-Length"]))
                if owner.barrier is not None:
                    owner.barrier.wait()
                owner.client_ports.append(self.client_address[1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self.body = body
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def target(self):
        url = f"http://127.0.0.1:{self.port}/hook"
        return check_target(url, require_https=False, allow_private=True)

    def drop_idle_connections(self) -> None:
        """What an endpoint's idle timeout or restart does to kept-alive connections."""
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.drop_idle_connections()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    running = KeepAliveServer()
    yield running
    running.stop()
    outbound.close_idle()


def post(server: KeepAliveServer) -> outbound.AttemptResult:
    return outbound.post(server.target, b"{}", {"Content-Type": "application/json"}, timeout=2)


def test_requests_from_one_thread_share_one_connection(server):
    assert [post(server).status_code for _ in range(3)] == [200, 200, 200]
    assert len(server.client_ports) == 3 and len(set(server.client_ports)) == 1


def test_connections_send_without_waiting_for_acks(server):
    # http.client writes headers and body in two sends; with Nagle's algorithm on, the body
    # waits for the endpoint's delayed ACK: 40 ms per request on Linux.
    post(server)
    kept = [connection for kept in pool._idle.values() for connection in kept]
    assert len(kept) == 1
    assert kept[0].sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_requests_in_flight_at_once_never_share_a_connection(server):
    server.barrier = threading.Barrier(2, timeout=5)  # both must be in flight together
    threads = [threading.Thread(target=post, args=(server,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(server.client_ports)) == 2


def test_a_connection_the_endpoint_closed_is_replaced_without_an_error(server):
    assert post(server).status_code == 200
    server.drop_idle_connections()
    time.sleep(0.1)  # let the close reach the sender's side of the socket

    result = post(server)

    assert (result.status_code, result.error) == (200, None)
    assert len(server.client_ports) == 2 and server.client_ports[0] != server.client_ports[1]


def test_an_answer_longer_than_what_is_read_closes_the_connection():
    long_answer = KeepAliveServer(body=b"x" * (client.RESPONSE_BODY_LIMIT * 4))
    try:
        first, second = post(long_answer), post(long_answer)
    finally:
        long_answer.stop()
    assert len(first.response_body) == client.RESPONSE_BODY_LIMIT
    assert second.status_code == 200
    assert long_answer.client_ports[0] != long_answer.client_ports[1]
    outbound.close_idle()


def test_kept_response_headers_join_repeats_and_stay_bounded():
    many = [(f"X-{n}", "v") for n in range(client.RESPONSE_HEADERS_LIMIT + 10)]
    kept = client.kept_headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), *many])

    assert kept["Set-Cookie"] == "a=1, b=2"
    assert len(kept) == client.RESPONSE_HEADERS_LIMIT
    huge = client.kept_headers([("X-Long", "x" * 5000), ("X-Nul", "a\x00b")])
    assert len(huge["X-Long"]) == client.RESPONSE_HEADER_VALUE_LIMIT
    assert huge["X-Nul"] == "a\ufffdb"
