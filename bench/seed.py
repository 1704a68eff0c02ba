"""Bulk set-up in plain SQL (PostgreSQL): owners with many webhooks, and a million log rows.

The service layer would take minutes for this; these statements take seconds. The rows look
like the ones the services write (one sealed secret is shared, which nothing here reads back
except to sign).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.domain import signing
from app.domain.secretbox import SecretBox

EVENT_TYPE = "price_above"
EVENT_DATA = '{"symbol": "ACME", "price": 101.5, "target": 100}'


@dataclass(frozen=True)
class Owner:
    user_id: int
    webhook_ids: list[int]


def sealed_secret(encryption_key: str) -> str:
    return SecretBox(encryption_key).seal(signing.generate_secret())


def add_owner(connection: Connection, secret: str, urls: list[str]) -> Owner:
    """A user whose webhooks (one per URL) all subscribe to EVENT_TYPE."""
    user_id = connection.execute(
        sa.text(
            "INSERT INTO users (email, password_hash, is_admin, created_at, session_token) "
            "VALUES (:email, 'bench', false, now(), md5(random()::text)) RETURNING id"
        ),
        {"email": f"owner-{uuid.uuid4().hex[:10]}@bench.invalid"},
    ).scalar_one()
    webhook_ids = list(
        connection.execute(
            sa.text(
                "INSERT INTO webhooks (user_id, name, url, secret_encrypted, format, is_active,"
                " success_count, failure_count, consecutive_failures, created_at, updated_at) "
                "SELECT :user_id, 'bench ' || n, url, :secret, 'json', true, 0, 0, 0, now(), now()"
                " FROM unnest(CAST(:urls AS text[])) WITH ORDINALITY AS u(url, n) ORDER BY n "
                "RETURNING id"
            ),
            {"user_id": user_id, "secret": secret, "urls": urls},
        ).scalars()
    )
    connection.execute(
        sa.text(
            "INSERT INTO subscriptions (webhook_id, event_type, user_id) "
            "SELECT id, :event_type, user_id FROM webhooks WHERE user_id = :user_id"
        ),
        {"event_type": EVENT_TYPE, "user_id": user_id},
    )
    return Owner(user_id, sorted(webhook_ids))


# What a trader's channel asks for: a few symbols and a threshold, which the bench's event
# (scenarios.DATA) passes, so every webhook still gets its delivery.
FILTER = '{"data.symbol": {"$in": ["ACME", "AAPL", "TSLA", "MSFT"]}, "data.price": {"$gte": "100"}}'


def filter_every_webhook(connection: Connection) -> None:
    connection.execute(sa.text("UPDATE webhooks SET filter = :filter"), {"filter": FILTER})


def add_filler(connection: Connection, secret: str, webhooks: int, base_url: str) -> None:
    """`webhooks` webhooks of other users, 100 each, subscribed to the same event type."""
    users = max(1, webhooks // 100)
    tag = uuid.uuid4().hex[:8]
    connection.execute(
        sa.text(
            "INSERT INTO users (email, password_hash, is_admin, created_at, session_token) "
            "SELECT 'filler-' || :tag || '-' || g || '@bench.invalid', 'bench', false, now(),"
            " md5(random()::text)"
            " FROM generate_series(1, :users) g"
        ),
        {"tag": tag, "users": users},
    )
    connection.execute(
        sa.text(
            "INSERT INTO webhooks (user_id, name, url, secret_encrypted, format, is_active,"
            " success_count, failure_count, consecutive_failures, created_at, updated_at) "
            "SELECT u.id, 'filler ' || g, :base || '/filler/' || u.id || '/' || g, :secret,"
            " 'json', true, 0, 0, 0, now(), now()"
            " FROM users u CROSS JOIN generate_series(1, :per_user) g"
            " WHERE u.email LIKE 'filler-' || :tag || '-%'"
        ),
        {"tag": tag, "base": base_url, "secret": secret, "per_user": webhooks // users},
    )
    connection.execute(
        sa.text(
            "INSERT INTO subscriptions (webhook_id, event_type, user_id) "
            "SELECT w.id, :event_type, w.user_id FROM webhooks w JOIN users u ON u.id = w.user_id"
            " WHERE u.email LIKE 'filler-' || :tag || '-%'"
        ),
        {"event_type": EVENT_TYPE, "tag": tag},
    )
    connection.execute(sa.text("ANALYZE"))


def add_log_rows(connection: Connection, owner: Owner, attempts: int) -> None:
    """`attempts` finished deliveries (one attempt each, 1% failed), spread over the owner's
    webhooks, oldest first, the way a long-running install accumulates them."""
    per_event = len(owner.webhook_ids)
    events = max(1, attempts // per_event)
    connection.execute(
        sa.text(
            "INSERT INTO events (id, user_id, event_type, data, created_at) "
            "SELECT 'evt_bench' || :user_id || '_' || g, :user_id, :event_type,"
            " CAST(:data AS json), now() - (:events - g) * interval '1 second'"
            " FROM generate_series(1, :events) g"
        ),
        {"user_id": owner.user_id, "event_type": EVENT_TYPE, "data": EVENT_DATA, "events": events},
    )
    connection.execute(
        sa.text(
            "INSERT INTO deliveries (webhook_id, event_id, status, attempts, status_code,"
            " response_body, success, duration_ms, request_body, created_at, updated_at) "
            "SELECT w.id, e.id, CASE WHEN e.n % 100 = 0 THEN 'failed' ELSE 'succeeded' END, 1,"
            " CASE WHEN e.n % 100 = 0 THEN 500 ELSE 200 END, 'ok', e.n % 100 <> 0, 12,"
            ' \'{"id":"\' || e.id || \'","event":"price_above","data":\' || :data || \'}\','
            " e.created_at, e.created_at"
            " FROM (SELECT *, row_number() OVER (ORDER BY created_at) AS n FROM events"
            "       WHERE user_id = :user_id) e"
            " CROSS JOIN unnest(CAST(:webhook_ids AS int[])) AS w(id) ORDER BY e.n, w.id"
        ),
        {"user_id": owner.user_id, "webhook_ids": owner.webhook_ids, "data": EVENT_DATA},
    )
    connection.execute(
        sa.text(
            "INSERT INTO delivery_attempts (delivery_id, number, started_at, request_headers,"
            " status_code, response_body, duration_ms) "
            "SELECT id, 1, created_at, json_build_object('X-Webhook-ID', event_id), 200, 'ok', 12"
            " FROM deliveries WHERE webhook_id = ANY(CAST(:webhook_ids AS int[]))"
        ),
        {"webhook_ids": owner.webhook_ids},
    )
    connection.execute(sa.text("ANALYZE"))


def add_pending(connection: Connection, owner: Owner, count: int) -> list[int]:
    """`count` deliveries of one new event to the owner's first webhook, not queued."""
    event_id = f"evt_{uuid.uuid4().hex}"
    connection.execute(
        sa.text(
            "INSERT INTO events (id, user_id, event_type, data, created_at) "
            "VALUES (:id, :user_id, :event_type, CAST(:data AS json), now())"
        ),
        {"id": event_id, "user_id": owner.user_id, "event_type": EVENT_TYPE, "data": EVENT_DATA},
    )
    return list(
        connection.execute(
            sa.text(
                "INSERT INTO deliveries (webhook_id, event_id, status, attempts,"
                " next_attempt_at, created_at, updated_at) "
                "SELECT :webhook_id, :event_id, 'pending', 0, now(), now(), now()"
                " FROM generate_series(1, :count) RETURNING id"
            ),
            {"webhook_id": owner.webhook_ids[0], "event_id": event_id, "count": count},
        ).scalars()
    )


def cursor_at_depth(connection: Connection, webhook_id: int, rows_above: int) -> int | None:
    """The `before` cursor of the page that starts `rows_above` rows down the log."""
    return connection.execute(
        sa.text(
            "SELECT id FROM deliveries WHERE webhook_id = :webhook_id"
            " ORDER BY id DESC OFFSET :offset LIMIT 1"
        ),
        {"webhook_id": webhook_id, "offset": rows_above - 1},
    ).scalar()
