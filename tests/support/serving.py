"""A WSGI application served on a free loopback port, in a thread of this process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import make_server


def serve(application: Any, port: int = 0) -> Iterator[str]:
    """Serve a WSGI application on a loopback port (a free one by default) until the generator
    is closed."""
    server = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
