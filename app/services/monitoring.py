"""What the operator's probes read: health, readiness and the gauges of GET /metrics.

Everything here is read when asked, by one query or one broker round trip each, so that a
scrape every 15 seconds costs the database next to nothing (docs/operations.md#metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from kombu.exceptions import ChannelError

from app import metrics, queues
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Webhook, utcnow
from app.services import heartbeats

QUEUES = (queues.DELIVERIES, queues.RETRIES, queues.DEFAULT)
# Due for longer than this and not sent: beat's requeue_due should have sent it by then.
OVERDUE_AFTER = timedelta(minutes=1)
BROKER_TIMEOUT = 2.0


def check_database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return "down"


def check_broker() -> str:
    try:
        with current_app.extensions["celery"].connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        return "ok"
    except Exception:  # whatever the transport raises, the broker is unreachable
        return "down"


def overdue_deliveries(now: datetime) -> int:
    """Due for over a minute and not being sent, or held by a sender that died over a minute
    ago. Two ranges of ix_deliveries_due (status, next_attempt_at), and the few `sending`."""
    cutoff = now - OVERDUE_AFTER
    waiting = sa.and_(
        Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SCHEDULED]),
        Delivery.next_attempt_at <= cutoff,
    )
    abandoned = sa.and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until <= cutoff)
    count = sa.select(sa.func.count()).select_from(Delivery)
    return db.session.scalar(count.where(waiting)) + db.session.scalar(count.where(abandoned))


def disabled_webhooks() -> int:
    """The owners' webhooks only: the system webhook of operator notices is in no count."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Webhook)
        .where(Webhook.is_active.is_(False), Webhook.is_system.is_(False))
    )


def queue_depths() -> dict[str, int] | None:
    """Messages waiting in each queue (not those a worker holds for a countdown); None when
    the broker does not answer. Redis and the embedded broker alike count their own."""
    try:
        with current_app.extensions["celery"].connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
            channel = connection.default_channel
            return {name: _depth(channel, name) for name in QUEUES}
    except Exception:  # whatever the transport raises, the broker is unreachable
        return None


def _depth(channel: object, name: str) -> int:
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:  # Redis keeps no key for an empty queue
        return 0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, object]
    problems: list[str]


def readiness() -> Readiness:
    """The database and broker, overdue deliveries, and a worker and beat seen lately.

    Overdue deliveries are reported but do not make the service unready: taking web processes
    out of a load balancer would not send them, and their alert says what to do.
    """
    now = utcnow()
    checks: dict[str, object] = {"database": check_database(), "broker": check_broker()}
    problems = [f"{name} is down" for name, state in checks.items() if state != "ok"]
    if checks["database"] == "ok":
        checks["overdue_deliveries"] = overdue_deliveries(now)
        for role, seen in heartbeats.seen(now).items():
            age = seen.age(now)
            checks[role] = {
                "alive": seen.alive,
                "last_seen_seconds_ago": None if age is None else round(age, 1),
            }
            if not seen.alive:
                problems.append(
                    f"no {role} seen in the last {int(heartbeats.STALE_AFTER.total_seconds())} s"
                )
    return Readiness(not problems, checks, problems)


def gauges() -> list[metrics.Gauge]:
    """The values of this scrape. What cannot be read is left out, and its `_up` gauge says so:
    the counters are still served while the database or the broker is down."""
    now = utcnow()
    depths = queue_depths()
    found = [
        metrics.Gauge(
            "signalpost_broker_up",
            "1 when the broker answered this scrape.",
            {None: int(depths is not None)},
        )
    ]
    if depths is not None:
        found.append(
            metrics.Gauge(
                "signalpost_queue_depth",
                "Messages waiting in each broker queue.",
                dict(depths),
                label="queue",
            )
        )
    try:
        found += _database_gauges(now)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        database_up = 0
    else:
        database_up = 1
    found.append(
        metrics.Gauge(
            "signalpost_database_up",
            "1 when the database answered this scrape.",
            {None: database_up},
        )
    )
    return found


def _database_gauges(now: datetime) -> list[metrics.Gauge]:
    seen = heartbeats.seen(now)
    return [
        metrics.Gauge(
            "signalpost_deliveries_overdue",
            "Deliveries due for over a minute and not sent.",
            {None: overdue_deliveries(now)},
        ),
        metrics.Gauge(
            "signalpost_webhooks_disabled",
            "Webhooks that are disabled.",
            {None: disabled_webhooks()},
        ),
        metrics.Gauge(
            "signalpost_processes_alive",
            "Worker and beat processes whose heartbeat is recent.",
            {role: s.alive for role, s in seen.items()},
            label="role",
        ),
        metrics.Gauge(
            "signalpost_heartbeat_age_seconds",
            "Seconds since the latest heartbeat of a worker or beat (absent: never seen).",
            {role: s.age(now) for role, s in seen.items() if s.last is not None},
            label="role",
        ),
    ]
