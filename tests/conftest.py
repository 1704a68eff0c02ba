"""Fixtures with real parts: SQLite or PostgreSQL (SIGNALPOST_TEST_DATABASE=postgres),
a Celery worker on Redis, HTTP receivers on 127.0.0.1 and an SMTP sink.

Each run makes its own PostgreSQL database and claims its own Redis database number, so two
runs on one machine never collide. Every object a test makes belongs to a user of its own, so
tests need no cleaning between them and ids are never reused under a late retry message.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import socket
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from celery.contrib.testing.worker import start_worker
from cryptography.fernet import Fernet
from flask import Flask

from app import create_app, outbound
from app.domain import addresses
from app.extensions import db
from app.models import User, Webhook
from app.services import connections, operator_keys, users, webhooks
from tests.support.mailsink import MailSink
from tests.support.processes import free_port
from tests.support.receiver import Receiver
from tests.support.serving import serve

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("SIGNALPOST_REQUIRE_SERVICES") == "1"
USE_POSTGRES = os.environ.get("SIGNALPOST_TEST_DATABASE", "sqlite") == "postgres"


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error})"
    if REQUIRE_SERVICES:
        pytest.exit(message, returncode=3)
    pytest.skip(message)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with new_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@contextlib.contextmanager
def new_database(folder: Path) -> Iterator[str]:
    """An empty database of this run's kind: a file in `folder`, or a PostgreSQL database."""
    if not USE_POSTGRES:
        yield f"sqlite:///{folder / 'signalpost.sqlite'}"
        return
    name = f"signalpost_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis database number of this run's own, claimed with a key that expires."""
    client = redis.Redis.from_url(f"{REDIS_URL}/0")
    token = uuid.uuid4().hex
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    for number in range(1, 16):
        if client.set(f"signalpost:test-db:{number}", token, nx=True, ex=3 * 3600):
            break
    else:
        pytest.exit("every Redis database 1-15 is claimed by another test run", returncode=3)
    numbered = redis.Redis.from_url(f"{REDIS_URL}/{number}")
    numbered.flushdb()
    yield f"{REDIS_URL}/{number}"
    numbered.flushdb()
    if client.get(f"signalpost:test-db:{number}") == token.encode():
        client.delete(f"signalpost:test-db:{number}")


@pytest.fixture(scope="session", autouse=True)
def no_dns() -> Iterator[None]:
    """No name is ever looked up: there is no DNS here, and no test may send a query out.

    Names answer as if they did not exist; tests about names install their own fake resolver.
    """

    def resolve(host: str, port: int) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: no DNS in the tests")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(addresses, "resolve", resolve)
        yield


@pytest.fixture(scope="session", autouse=True)
def close_kept_connections() -> Iterator[None]:
    """Close the sender's kept-alive connections once every worker has stopped."""
    yield
    outbound.close_idle()


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


def settings_for(database_url: str, broker_url: str, mail_sink: MailSink) -> dict[str, str]:
    return {
        "TESTING": "true",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": "test-secret-key-of-at-least-32-bytes",
        "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WEBHOOK_RETRY_DELAYS": "1,1,1",
        "WEBHOOK_TIMEOUT": "2",
        # High enough that only the tests about the per-endpoint limit ever meet it.
        "WEBHOOK_RATE_LIMIT": "1000/second",
        "WEBHOOK_REQUIRE_HTTPS": "false",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_sink.port),
        "MAIL_DEFAULT_SENDER": "signalpost@test.invalid",
    }


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    broker_url: str,
    mail_sink: MailSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    # The run's metric files, not the checkout's instance/metrics.
    metrics_dir = str(tmp_path_factory.mktemp("metrics"))
    return settings_for(database_url, broker_url, mail_sink) | {
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir
    }


@pytest.fixture(scope="session")
def app(settings: dict[str, str]) -> Iterator[Flask]:
    from flask_migrate import upgrade

    application = create_app(settings)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        connections.dispose()
    # Threads that served the session (the in-thread worker's pool, the e2e server) may leave
    # a connection object behind when they end; collect those now, quietly, rather than have
    # the interpreter warn about them at exit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The session's app served on 127.0.0.1, its base URL: a real server for real clients."""
    yield from serve(app)


@pytest.fixture
def linked_live_server(make_app: Callable[..., Flask]) -> Iterator[str]:
    """A live server whose SIGNALPOST_BASE_URL is its own address, so that the links it makes
    (sign-in links) lead back to it. Same database and broker as the session's app."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    yield from serve(make_app(SIGNALPOST_BASE_URL=url), port)


@pytest.fixture
def make_app(app: Flask, settings: dict[str, str]) -> Iterator[Callable[..., Flask]]:
    """Another app on the same database with some settings changed (e.g. a broker that is down)."""
    made: list[Flask] = []

    def make(**overrides: str) -> Flask:
        other = create_app({**settings, **overrides})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            connections.dispose()
    app.extensions["celery"].set_default()


@pytest.fixture
def empty_app(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    """The app on an empty database of its own (no worker or beat ever wrote a heartbeat, no
    other test's webhook), for what is about everything in the database."""
    from flask_migrate import upgrade

    with new_database(tmp_path) as url:
        app = make_app(DATABASE_URL=url)
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="session")
def worker(app: Flask) -> Iterator[Any]:
    """A real Celery worker, in threads of this process, consuming from this run's Redis db."""
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    with start_worker(
        celery, pool="threads", concurrency=4, perform_ping_check=False, loglevel="WARNING"
    ) as running:
        yield running


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


_emails = itertools.count(1)


@pytest.fixture
def make_user(ctx: None) -> Callable[..., User]:
    def make(email: str | None = None, password: str = "a long password", **kwargs: Any) -> User:
        email = email or f"user{next(_emails)}-{uuid.uuid4().hex[:6]}@example.com"
        return users.create_user(email, password, **kwargs)

    return make


@pytest.fixture
def make_webhook(make_user: Callable[..., User]) -> Callable[..., tuple[Webhook, str]]:
    def make(
        url: str,
        user: User | None = None,
        events: list[str] | None = None,
        name: str = "Test hook",
        **kwargs: Any,
    ) -> tuple[Webhook, str]:
        return webhooks.register_webhook(
            user or make_user(),
            webhooks.WebhookInput(name=name, url=url, events=events or ["price_above"], **kwargs),
        )

    return make


@pytest.fixture
def operator_key(ctx: None) -> str:
    """A fresh operator key `spk_…`, in plaintext, as `flask keys create` prints it."""
    return operator_keys.create_key("test host backend")[1]
