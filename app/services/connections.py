"""Statements that are a transaction by themselves, run without the ORM session.

On PostgreSQL the hot paths (claiming a delivery, recording an attempt, storing an event with
its deliveries) are each one statement. Run in autocommit mode, such a statement is atomic on
its own and needs no BEGIN and COMMIT round trips; skipping the session also skips its
bookkeeping. SQLite has no data-modifying CTEs, so there the callers use the session.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.config import PROGRESS_BIND
from app.extensions import db

# The database restarting or failing over, or a connection cut: the work is still there to do
# once it is back, so these are retried, never recorded against a delivery.
DATABASE_AWAY = (sa.exc.OperationalError, sa.exc.InterfaceError)


def on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def autocommit() -> sa.Connection:
    """A pooled connection on which every statement commits by itself; use it in `with`."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def progress() -> sa.Connection:
    """A connection like `autocommit`'s, for the statements that claim a delivery and record
    its attempts.

    Their commits do not wait for the disk (app.config._binds says why that loses nothing):
    two flushes of the WAL per delivery held the worker's threads and PostgreSQL's CPU
    (docs/performance.md).
    """
    return db.engines[PROGRESS_BIND].connect()


def dispose() -> None:
    """Close the pooled connections of both engines (tests and the bench, before dropping
    their database)."""
    for engine in db.engines.values():
        engine.dispose()
