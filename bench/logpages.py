"""Big logs: the logs service and page of a webhook with a long history."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Webhook
from app.services import logs
from bench import seed
from bench.scenarios import Bench, summary


def timed(call: Callable[[], Any], repeat: int) -> dict[str, Any]:
    call()  # warm: the first call pays for imports, template compiling and cold caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def big_logs(bench: Bench, owner: seed.Owner, repeat: int) -> dict[str, Any]:
    """The logs service (what the JSON API serves) and the logs page of the owner's first
    webhook: the first page, one 1,000 pages deep, and the failed deliveries only."""
    from app.pages.logs import PAGE_SIZE

    api_size, depth = 50, 1000
    webhook_id, user_id = owner.webhook_ids[0], owner.user_id
    with bench.app.app_context():
        connection = db.session.connection()
        rows = connection.execute(
            sa.text("SELECT count(*) FROM webhook_events WHERE webhook_id = :w"), {"w": webhook_id}
        ).scalar_one()
        api_depth = min(depth, rows // api_size - 1)
        page_depth = min(depth, rows // PAGE_SIZE - 1)
        api_cursor = seed.cursor_at_depth(connection, webhook_id, api_depth * api_size)
        page_cursor = seed.cursor_at_depth(connection, webhook_id, page_depth * PAGE_SIZE)
        db.session.remove()

    def service(before: int | None) -> Callable[[], Any]:
        def call() -> Any:
            with bench.app.app_context():
                webhook = db.session.get(Webhook, webhook_id)
                found, _ = logs.get_webhook_logs(webhook, api_size, before)
                assert len(found) == api_size
                result = [logs.log_as_dict(row) for row in found]
                db.session.remove()
                return result

        return call

    client = bench.app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True

    def page(before: int | None, outcome: str = "") -> Callable[[], Any]:
        query = f"?before={before}" if before else f"?outcome={outcome}" if outcome else ""

        def call() -> Any:
            response = client.get(f"/webhooks/{webhook_id}/logs{query}")
            assert response.status_code == 200, response.status_code
            return response

        return call

    return {
        "deliveries_of_webhook": rows,
        "api_depth_pages": api_depth,
        "page_depth_pages": page_depth,
        "api_first_ms": timed(service(None), repeat),
        "api_deep_ms": timed(service(api_cursor), repeat),
        "page_first_ms": timed(page(None), repeat),
        "page_deep_ms": timed(page(page_cursor), repeat),
        "page_failed_only_ms": timed(page(None, "failed"), repeat),
    }
