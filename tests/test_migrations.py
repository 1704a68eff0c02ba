"""The migrations build exactly the schema the models describe (on this run's database)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.services import connections
from tests.conftest import new_database

BEFORE_RENAME = "375666cc4884"
RENAME = "8678ec75fa67"
BEFORE_NORMAL_URLS = "e4a7c2d9b1f0"
NORMAL_URLS = "892f81bc4478"


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def _rows(table: str) -> list[tuple]:
    # A connection of its own, closed at once: a migration waits for every reader to finish.
    with db.engine.connect() as connection:
        return [
            tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
        ]


def _user(now: datetime) -> dict:
    """User 1, in the columns every revision these tests start from has."""
    return {"id": 1, "email": "a@b.c", "password_hash": "x", "is_admin": False, "created_at": now}


def _webhook(number: int, url: str, now: datetime) -> dict:
    """A webhook of user 1, in the columns every revision these tests start from has."""
    return {
        "id": number,
        "user_id": 1,
        "name": "w",
        "url": url,
        "secret_encrypted": "s",
        "format": "json",
        "is_active": True,
        "success_count": 0,
        "failure_count": 0,
        "consecutive_failures": 0,
        "created_at": now,
        "updated_at": now,
    }


def test_renaming_the_delivery_table_keeps_every_row(make_app, tmp_path):
    """Up to `deliveries` and back down to `webhook_events`, on this run's kind of database.

    `make_app`, which makes the session's Celery app the default again afterwards: the
    in-process worker would otherwise run every later task against this test's database.
    """
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with new_database(tmp_path) as url:
        application = make_app(DATABASE_URL=url)
        with application.app_context():
            upgrade(revision=BEFORE_RENAME)
            tables = sa.MetaData()
            tables.reflect(bind=db.engine)
            with db.engine.begin() as connection:
                connection.execute(tables.tables["users"].insert(), _user(now))
                connection.execute(
                    tables.tables["webhooks"].insert(), _webhook(1, "http://127.0.0.1/", now)
                )
                connection.execute(
                    tables.tables["events"].insert(),
                    {
                        "id": "evt_1",
                        "user_id": 1,
                        "event_type": "custom",
                        "data": {"a": 1},
                        "created_at": now,
                    },
                )
                connection.execute(
                    tables.tables["webhook_events"].insert(),
                    [
                        {
                            "id": number,
                            "webhook_id": 1,
                            "event_id": "evt_1",
                            "status": "failed",
                            "attempts": 1,
                            "error": f"e{number}",
                            "rate_window": 60 * number,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for number in (3, 7)
                    ],
                )
                connection.execute(
                    tables.tables["delivery_attempts"].insert(),
                    [
                        {
                            "id": 10 + number,
                            "webhook_event_id": number,
                            "number": 1,
                            "started_at": now,
                            "request_headers": {"X": "y"},
                            "duration_ms": number,
                        }
                        for number in (3, 7)
                    ],
                )
            deliveries, attempts = _rows("webhook_events"), _rows("delivery_attempts")

            upgrade(revision=RENAME)
            assert _rows("deliveries") == deliveries
            assert _rows("delivery_attempts") == attempts
            upgrade()  # the migrations after the rename, so the schema is the models' own
            with db.engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            # The attempts still belong to their delivery, and go with it.
            with db.engine.begin() as connection:
                connection.execute(sa.text("DELETE FROM deliveries WHERE id = 3"))
            assert [row[1] for row in _rows("delivery_attempts")] == [7]

            downgrade(revision=BEFORE_RENAME)
            assert _rows("webhook_events") == deliveries[1:]
            assert _rows("delivery_attempts") == attempts[1:]
            connections.dispose()


def _urls() -> list[str]:
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.text("SELECT url FROM webhooks ORDER BY id")))


def test_stored_urls_are_rewritten_in_their_normal_form(make_app, tmp_path):
    """Webhooks stored under other spellings of one URL join its budget after the upgrade;
    more rows than one batch, so the second batch is read too. The downgrade keeps them."""
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    spellings = [
        "http://127.0.0.1:80/hook",
        "http://127.0.0.1/%68ook",
        "http://127.0.0.1/./hook",
        "http://127.0.0.1/a/../hook",
        "http://localhost./hook",
        "http://127.0.0.1/hook?x=%2a%7e",
        "http://[oops/hook",  # not a URL at all: left as it is
    ]
    normal = [
        "http://127.0.0.1/hook",
        "http://127.0.0.1/hook",
        "http://127.0.0.1/hook",
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://127.0.0.1/hook?x=%2A~",
        "http://[oops/hook",
    ]
    count = 1003
    with new_database(tmp_path) as url:
        application = make_app(DATABASE_URL=url)
        with application.app_context():
            upgrade(revision=BEFORE_NORMAL_URLS)
            tables = sa.MetaData()
            tables.reflect(bind=db.engine)
            with db.engine.begin() as connection:
                connection.execute(tables.tables["users"].insert(), _user(now))
                connection.execute(
                    tables.tables["webhooks"].insert(),
                    [
                        _webhook(number, spellings[number % len(spellings)], now)
                        for number in range(1, count + 1)
                    ],
                )

            upgrade(revision=NORMAL_URLS)
            urls = _urls()
            assert urls == [normal[number % len(normal)] for number in range(1, count + 1)]

            downgrade(revision=BEFORE_NORMAL_URLS)
            assert _urls() == urls
            connections.dispose()
