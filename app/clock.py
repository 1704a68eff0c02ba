"""The time of day a worker goes by: its machine's clock, set right by the broker's when the
two are further apart than clocks kept by NTP ever are.

Leases, due times and expiry are written by one process and compared by another. A worker
whose clock runs ahead finds every other worker's live lease run out and sends a delivery that
is being sent; one whose clock runs behind finds nothing due and drops what it is sent. The
broker (Redis) is the one clock every worker talks to, so each worker reads its TIME when it
starts and with each heartbeat, and corrects its own by the difference (a warning in its log
says so). Small differences are left alone: the claim allows for them (EARLY_TOLERANCE).
Other brokers (`make run`'s embedded one, on the same machine) have no clock to read.

Process state, so infrastructure: it lives apart from the domain's rules.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis

log = logging.getLogger(__name__)

TOLERANCE = timedelta(seconds=1)
TIMEOUT = 2.0  # seconds: a broker that slow to answer TIME is not worth waiting for

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    """How far this process' times are set from its machine's clock."""
    return _offset


def follow_broker(broker_url: str) -> None:
    """Read the broker's clock and correct this process' by the difference, if it is large.

    A broker that cannot be read leaves the correction as it was."""
    global _offset
    if not broker_url.startswith(("redis://", "rediss://")):
        return
    client = redis.Redis.from_url(broker_url, socket_timeout=TIMEOUT)
    try:
        before = datetime.now(UTC)
        seconds, microseconds = client.time()
        after = datetime.now(UTC)
    except redis.RedisError as exc:
        log.warning("could not read the broker's clock: %s", exc)
        return
    finally:
        client.close()
    broker = datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=microseconds)
    apart = broker - (before + (after - before) / 2)
    corrected = apart if abs(apart) > TOLERANCE else timedelta(0)
    if abs(corrected - _offset) > TOLERANCE:
        log.warning(
            "this machine's clock is %.1f s %s the broker's: %s",
            abs(apart.total_seconds()),
            "behind" if apart > timedelta(0) else "ahead of",
            "going by the broker's" if corrected else "going by its own again",
        )
    _offset = corrected
