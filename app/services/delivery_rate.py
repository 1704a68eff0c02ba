"""Counting delivery attempts per endpoint where every worker sees the same count.

With REDIS_URL set the counts live in Redis; otherwise in the database, which every worker
process shares too (an in-process counter would not be: `make run` forks two worker processes).
Celery's own `rate_limit` is per worker, so it cannot enforce a limit per endpoint.

An attempt over the limit is not simply told to try again in the next window: it is given a
place in the first window with room, counted there at once, and goes then without asking
again. So a burst of N deliveries to an endpoint allowed L per window is postponed once each,
into N / L windows in turn, instead of every waiting delivery asking again at every window
(N² / 2L askings).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

import redis
import sqlalchemy as sa
from flask import current_app
from redis.commands.core import Script
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.delivery_rate import Endpoint, RateLimit
from app.domain.retry import EARLY_TOLERANCE
from app.extensions import db
from app.models import DeliveryRateWindow
from app.services import connections

log = logging.getLogger(__name__)

# Database windows older than this are deleted as new ones open.
KEEP_WINDOWS_SECONDS = 3600
# Postponed attempts start at a random point of their window's first second (or first tenth
# of it, when windows are shorter), so they do not all go at the same instant.
MAX_JITTER_SECONDS = 1.0


def current_limit() -> RateLimit:
    """The service's default limit per endpoint (WEBHOOK_RATE_LIMIT)."""
    return RateLimit(*current_app.config["WEBHOOK_RATE_LIMIT"])


@dataclass(frozen=True)
class Postponed:
    """An attempt over the limit: it has a place in `window`, which opens in `wait` seconds."""

    window: int  # the window's start, seconds since the epoch
    wait: float


def acquire(
    endpoint: Endpoint,
    limit: RateLimit,
    reserved_window: int | None = None,
    *,
    reserve: bool = True,
) -> Postponed | None:
    """None when an attempt to this endpoint may go now; otherwise where it was given a place.

    `limit` is the webhook's own (or its format's default), which the claim reads. The owner's
    webhooks to one URL share one count: each goes while that count is under its own limit,
    so the URL gets at most the largest of their limits (docs/security.md).
    `reserved_window` is the place an earlier call gave this attempt: in that window (or as
    early before it as a claim may take it up) the attempt goes without being counted again.
    With `reserve=False` an attempt over the limit is given no place: it is told when the next
    window opens, to ask again then. A chat webhook's digests want that (app/services/delivery/
    digest.py): what waits rides in the next message, and a place kept for each would hold
    the budget of windows no message is sent in.
    """
    now = time.time()
    if reserved_window is not None and (
        reserved_window - EARLY_TOLERANCE.total_seconds() <= now < reserved_window + limit.period
    ):
        return None
    window = limit.window(now)
    url = current_app.config["REDIS_URL"]
    placed: int | None = None
    if url:
        try:
            placed = _place_redis(url, endpoint, limit, window, reserve)
        except redis.RedisError as exc:
            # Deliveries go on while Redis is away, counted where every worker still can.
            log.warning(
                "Redis unavailable for the delivery rate limit, using the database: %s", exc
            )
    if placed is None:
        placed = _place_database(endpoint, limit, window, reserve)
    if placed <= window:
        return None
    jitter = random.uniform(0, min(MAX_JITTER_SECONDS, limit.period / 10))
    return Postponed(placed, placed - now + jitter)


# The placing rule, written twice: here in Lua, which Redis runs as one atomic step, and in
# `_place_database` in Python, for when Redis is not configured or away. Change both together:
# tests/security/test_limits.py runs the same attempts through each and holds them equal.
#
# Places are taken in order, so the windows between the current one and the furthest with a
# place taken are full: after the current window, try from the furthest on.
_PLACE = """
local prefix, window, limit, period, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),
    tonumber(ARGV[4]), tonumber(ARGV[5])
if ARGV[6] == '0' then
    local key = prefix .. window
    if redis.call('INCR', key) <= limit then
        redis.call('EXPIRE', key, period + 60)
        return window
    end
    redis.call('DECR', key)
    return window + period
end
local furthest = tonumber(redis.call('GET', prefix .. 'furthest') or window)
local candidate = window
while true do
    local key = prefix .. candidate
    if redis.call('INCR', key) <= limit then
        local ttl = candidate - now + period + 60
        redis.call('EXPIRE', key, ttl)
        if candidate > furthest then
            redis.call('SET', prefix .. 'furthest', candidate, 'EX', ttl)
        end
        return candidate
    end
    redis.call('DECR', key)
    if candidate < furthest then candidate = furthest else candidate = candidate + period end
end
"""


_scripts: dict[str, Script] = {}
_scripts_lock = threading.Lock()


def _placing(url: str) -> Script:
    """The script that places attempts, on one client per URL, made once even when a worker's
    threads first ask at the same time. It goes to Redis by its SHA1, its text only once.

    Not functools.cache: it lets two threads each build a client and keeps one. The other is
    dropped while its call still runs, and dropping a client disconnects its connections, so
    that delivery failed ("'NoneType' object has no attribute 'readline'").
    """
    with _scripts_lock:
        script = _scripts.get(url)
        if script is None:
            script = _scripts[url] = redis.Redis.from_url(url).register_script(_PLACE)
        return script


def _place_redis(url: str, endpoint: Endpoint, limit: RateLimit, window: int, reserve: bool) -> int:
    """The window this attempt is counted in, from the current one on (without `reserve`,
    the next window when the current one is full, counted nowhere)."""
    prefix = f"signalpost:delivery-rate:{endpoint.owner_id}:{endpoint.url_sha256}:"
    place = _placing(url)
    now = int(time.time())
    return int(place(args=[prefix, window, limit.count, limit.period, now, int(reserve)]))


def _place_database(endpoint: Endpoint, limit: RateLimit, window: int, reserve: bool) -> int:
    """The window this attempt is counted in, from the current one on: `_PLACE`'s rule."""
    table = DeliveryRateWindow.__table__
    key = _database_key(endpoint)
    furthest = db.session.scalar(sa.select(sa.func.max(table.c.window_start)).where(*key))
    furthest = furthest or window
    candidate = window
    while not _take_database(endpoint, limit, candidate):
        if not reserve:
            db.session.commit()
            return window + limit.period
        candidate = furthest if candidate < furthest else candidate + limit.period
    db.session.execute(
        sa.delete(table).where(
            *key, table.c.window_start < window - max(KEEP_WINDOWS_SECONDS, limit.period)
        )
    )
    db.session.commit()
    return candidate


def _database_key(endpoint: Endpoint) -> tuple[sa.ColumnElement[bool], ...]:
    table = DeliveryRateWindow.__table__
    return (table.c.owner_id == endpoint.owner_id, table.c.url_sha256 == endpoint.url_sha256)


def _take_database(endpoint: Endpoint, limit: RateLimit, window: int) -> bool:
    table = DeliveryRateWindow.__table__
    dialect = postgresql if connections.on_postgres() else sqlite
    db.session.execute(
        dialect.insert(table)
        .values(
            owner_id=endpoint.owner_id,
            url_sha256=endpoint.url_sha256,
            window_start=window,
            count=0,
        )
        .on_conflict_do_nothing()
    )
    # One conditional UPDATE: the row lock makes concurrent workers take turns, and the
    # condition is checked again by whoever waited, so the count never passes the limit.
    granted = db.session.execute(
        sa.update(table)
        .where(
            *_database_key(endpoint), table.c.window_start == window, table.c.count < limit.count
        )
        .values(count=table.c.count + 1)
    ).rowcount
    return granted == 1
