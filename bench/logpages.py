"""Big logs: the JSON API's and the page's log of a webhook with a long history."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.services import users
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
    """`GET /api/webhooks/<id>/logs` and the logs page of the owner's first webhook, through
    the whole Flask stack: the first page, one 1,000 pages deep, and (page) failed only and
    filtered by the event type of all its deliveries or by one it never received."""
    from app.webhooks.logs import PAGE_SIZE

    api_size, depth = 50, 1000
    webhook_id, user_id = owner.webhook_ids[0], owner.user_id
    with bench.app.app_context():
        connection = db.session.connection()
        rows = connection.execute(
            sa.text("SELECT count(*) FROM deliveries WHERE webhook_id = :w"), {"w": webhook_id}
        ).scalar_one()
        api_depth = min(depth, rows // api_size - 1)
        page_depth = min(depth, rows // PAGE_SIZE - 1)
        api_cursor = seed.cursor_at_depth(connection, webhook_id, api_depth * api_size)
        page_cursor = seed.cursor_at_depth(connection, webhook_id, page_depth * PAGE_SIZE)
        owner_user = db.session.get(User, user_id)
        token = users.create_api_token(owner_user, "bench")
        session_id = owner_user.get_id()
        db.session.remove()

    client = bench.app.test_client()

    def api(before: int | None) -> Callable[[], Any]:
        query = f"?limit={api_size}" + (f"&before={before}" if before else "")

        def call() -> Any:
            response = client.get(
                f"/api/webhooks/{webhook_id}/logs{query}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.status_code
            assert len(response.get_json()["logs"]) == api_size
            return response

        return call

    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True

    def page(before: int | None, filters: str = "") -> Callable[[], Any]:
        query = f"?before={before}" if before else f"?{filters}" if filters else ""

        def call() -> Any:
            response = client.get(f"/webhooks/{webhook_id}/logs{query}")
            assert response.status_code == 200, response.status_code
            return response

        return call

    return {
        "deliveries_of_webhook": rows,
        "api_depth_pages": api_depth,
        "page_depth_pages": page_depth,
        "api_first_ms": timed(api(None), repeat),
        "api_deep_ms": timed(api(api_cursor), repeat),
        "page_first_ms": timed(page(None), repeat),
        "page_deep_ms": timed(page(page_cursor), repeat),
        "page_failed_only_ms": timed(page(None, "outcome=failed"), repeat),
        # Every seeded event is a price alert: the type of every delivery, and a type the
        # webhook never received (the two ends of what the event filter may have to read).
        "page_event_type_ms": timed(page(None, f"event={seed.EVENT_TYPE}"), repeat),
        "page_other_event_type_ms": timed(page(None, "event=dividend_payment"), repeat),
    }
