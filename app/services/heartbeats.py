"""Workers and beat say they are alive every few seconds; readiness asks who was seen lately.

The heartbeats are rows of the database, which every set-up has (Redis is optional, and the
embedded broker cannot be read by the web process): one row per process, written by the
Celery hooks in app/celery_heartbeats.py.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Heartbeat, utcnow

WORKER = "worker"
BEAT = "beat"
ROLES = (WORKER, BEAT)
INTERVAL_SECONDS = 15.0
# Four heartbeats missed: a process busy at full load still writes one in that time.
STALE_AFTER = timedelta(seconds=60)
# Rows of processes that stopped are kept this long, then removed by the next heartbeat.
KEEP = timedelta(days=1)

_heartbeats = Heartbeat.__table__


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def record(role: str, instance: str) -> None:
    """This process is alive now."""
    now = utcnow()
    connection = db.session.connection()
    updated = connection.execute(
        sa.update(_heartbeats)
        .where(_heartbeats.c.role == role, _heartbeats.c.instance == instance)
        .values(seen_at=now)
    )
    if updated.rowcount == 0:  # one process writes its own row: no other insert can race
        connection.execute(sa.insert(_heartbeats).values(role=role, instance=instance, seen_at=now))
    connection.execute(sa.delete(_heartbeats).where(_heartbeats.c.seen_at < now - KEEP))
    db.session.commit()


@dataclass(frozen=True)
class Seen:
    """The latest heartbeat of a role, and how many of its processes are alive."""

    last: datetime | None
    alive: int

    def age(self, now: datetime) -> float | None:
        return None if self.last is None else max(0.0, (now - self.last).total_seconds())


def seen(now: datetime) -> dict[str, Seen]:
    alive = sa.func.sum(sa.case((_heartbeats.c.seen_at >= now - STALE_AFTER, 1), else_=0))
    rows = db.session.execute(
        sa.select(_heartbeats.c.role, sa.func.max(_heartbeats.c.seen_at), alive).group_by(
            _heartbeats.c.role
        )
    ).all()
    found = {role: Seen(last, int(count)) for role, last, count in rows}
    return {role: found.get(role, Seen(None, 0)) for role in ROLES}
