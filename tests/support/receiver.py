"""A real HTTP endpoint on 127.0.0.1 that records what it receives and answers from a script."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    query: str = ""
    client_port: int = 0  # the sender's port: the same on requests over one kept-alive connection


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (for timeouts)


class Receiver:
    """Answers with the queued replies in order, then with `default` for ever after.

    With `answer`, every request is answered by `answer(request)` instead: a fake service that
    checks what it gets and replies the way the real one would.
    """

    def __init__(self, port: int = 0, answer: Callable[[Received], Reply] | None = None) -> None:
        self.answer = answer
        self.requests: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self._lock = threading.Lock()
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, self._app, threaded=True)
        self.port = self._server.server_port
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def _app(self, environ: dict, start_response: Callable) -> object:
        request = Request(environ)
        with self._lock:
            received = Received(
                request.method,
                request.path,
                dict(request.headers),
                request.get_data(),
                time.time(),
                request.query_string.decode("latin-1"),
                int(request.environ.get("REMOTE_PORT") or 0),
            )
            self.requests.append(received)
            if self.answer is not None:
                reply = self.answer(received)
            else:
                reply = self.replies.popleft() if self.replies else self.default
        if reply.delay:
            time.sleep(reply.delay)
        return Response(reply.body, status=reply.status, headers=reply.headers)(
            environ, start_response
        )
