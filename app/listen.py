"""`flask webhooks listen`: a receiver on this machine for trying Signalpost out.

It answers every POST with 200 and prints what arrived: the event id and type, whether the
signature is right (given the endpoint's secret) and the body. The README's quick start sends
its first event here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import click
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.domain import signing

BODY_SHOWN = 2000  # characters of a body printed; the rest is cut


def describe(headers: Any, body: bytes, secret: str | None) -> str:
    """One delivery as the listener prints it: a summary line, then the body."""
    event_id = headers.get("X-Webhook-ID", "(no X-Webhook-ID)")
    event_type = headers.get("X-Webhook-Event", "?")
    if secret is None:
        signature = "signature not checked (no --secret)"
    elif signing.verify(
        secret,
        event_id,
        headers.get("X-Webhook-Timestamp", ""),
        body,
        headers.get("X-Webhook-Signature", ""),
    ):
        signature = "signature OK"
    else:
        signature = "signature WRONG"
    text = body.decode("utf-8", "replace")
    if len(text) > BODY_SHOWN:
        text = text[:BODY_SHOWN] + " …"
    return f"{datetime.now(UTC):%H:%M:%S} {event_id} {event_type}: {signature}\n  {text}"


def listener(secret: str | None, show: Callable[[str], None]) -> Callable[..., Iterable[bytes]]:
    """The WSGI app: shows each POST and answers 200."""

    @Request.application
    def app(request: Request) -> Response:
        if request.method != "POST":
            return Response("Send deliveries here with POST.\n", 405, {"Allow": "POST"})
        show(describe(request.headers, request.get_data(), secret))
        return Response("ok\n")

    return app


@click.command("listen")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--secret", help="The endpoint's whsec_ secret, to check signatures.")
def listen(port: int, secret: str | None) -> None:
    """Receive deliveries on http://127.0.0.1:PORT/ and print them (for trying things out)."""
    server = make_server("127.0.0.1", port, listener(secret, click.echo))
    click.echo(f"Listening on http://127.0.0.1:{port}/ ; Ctrl-C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
