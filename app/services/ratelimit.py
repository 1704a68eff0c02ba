"""Counting delivery attempts per endpoint where every worker sees the same count.

With REDIS_URL set the counts live in Redis; otherwise in the database, which every worker
process shares too (an in-process counter would not be: `make run` forks two worker processes).
Celery's own `rate_limit` is per worker, so it cannot enforce a limit per endpoint.
"""

from __future__ import annotations

import logging
import random
import threading
import time

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.ratelimit import RateLimit
from app.extensions import db
from app.models import DeliveryRateWindow

log = logging.getLogger(__name__)

# Database windows older than this are deleted as new ones open.
KEEP_WINDOWS_SECONDS = 3600
# Postponed attempts start at a random point of the next window's first second (or first tenth
# of it, when windows are shorter), so they do not all ask again at the same instant.
MAX_JITTER_SECONDS = 1.0


def current_limit() -> RateLimit:
    return RateLimit(*current_app.config["WEBHOOK_RATE_LIMIT"])


def acquire(webhook_id: int) -> float | None:
    """None when an attempt to this webhook may go now; otherwise seconds to wait."""
    limit = current_limit()
    now = time.time()
    window = limit.window(now)
    url = current_app.config["REDIS_URL"]
    granted: bool | None = None
    if url:
        try:
            granted = _acquire_redis(url, webhook_id, limit, window)
        except redis.RedisError as exc:
            # Deliveries go on while Redis is away, counted where every worker still can.
            log.warning(
                "Redis unavailable for the delivery rate limit, using the database: %s", exc
            )
    if granted is None:
        granted = _acquire_database(webhook_id, limit, window)
    if granted:
        return None
    return limit.wait(now) + random.uniform(0, min(MAX_JITTER_SECONDS, limit.period / 10))


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis(url: str) -> redis.Redis:
    """One client per URL, made once even when a worker's threads first ask at the same time.

    Not functools.cache: it lets two threads each build a client and keeps one. The other is
    dropped while its pipeline still runs, and dropping a client disconnects its connections,
    so that delivery failed ("'NoneType' object has no attribute 'readline'").
    """
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url)
        return client


def _acquire_redis(url: str, webhook_id: int, limit: RateLimit, window: int) -> bool:
    key = f"signalpost:delivery-rate:{webhook_id}:{window}"
    pipe = _redis(url).pipeline()
    pipe.incr(key)
    pipe.expire(key, limit.period + 60)
    count, _ = pipe.execute()
    return limit.allows(int(count) - 1)


def _acquire_database(webhook_id: int, limit: RateLimit, window: int) -> bool:
    table = DeliveryRateWindow.__table__
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(table)
        .values(webhook_id=webhook_id, window_start=window, count=0)
        .on_conflict_do_nothing()
    )
    # One conditional UPDATE: the row lock makes concurrent workers take turns, and the
    # condition is checked again by whoever waited, so the count never passes the limit.
    granted = db.session.execute(
        sa.update(table)
        .where(
            table.c.webhook_id == webhook_id,
            table.c.window_start == window,
            table.c.count < limit.count,
        )
        .values(count=table.c.count + 1)
    ).rowcount
    db.session.execute(
        sa.delete(table).where(
            table.c.webhook_id == webhook_id,
            table.c.window_start < window - max(KEEP_WINDOWS_SECONDS, limit.period),
        )
    )
    db.session.commit()
    return granted == 1
