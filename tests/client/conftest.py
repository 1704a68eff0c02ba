"""The Python client against a real Signalpost: the session's app served on 127.0.0.1 (the
`live_server`), its in-thread worker, real receivers, and a fault proxy in between for retries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from signalpost_client import Client

from app.extensions import db
from app.models import Event, User
from app.services import users
from tests.support.faultproxy import FaultProxy


@pytest.fixture
def signalpost(live_server: str, operator_key: str) -> Client:
    """A client straight to the live server."""
    return Client(live_server, operator_key, timeout=5)


@pytest.fixture
def make_tenant(signalpost: Client, ctx: None) -> Callable[[], tuple[str, User]]:
    """A new tenant, made through the tenants API: its external id, and its user."""

    def make() -> tuple[str, User]:
        external_id = f"host-user:{uuid.uuid4().hex[:10]}"
        signalpost.tenants.put(external_id, email=f"{external_id.replace(':', '-')}@example.com")
        db.session.rollback()  # see what the server committed
        user = users.tenant_user(external_id)
        assert user is not None
        return external_id, user

    return make


@pytest.fixture
def proxy(live_server: str) -> Iterator[FaultProxy]:
    server = FaultProxy(live_server).start()
    yield server
    server.stop()


@pytest.fixture
def through_proxy(proxy: FaultProxy, operator_key: str) -> Client:
    """A client whose calls pass the fault proxy; one attempt gives up after 2 s."""
    return Client(proxy.url, operator_key, timeout=2, max_retries=3)


def events_of(user: User) -> list[Event]:
    db.session.rollback()  # see what the server's threads committed
    return list(db.session.scalars(sa.select(Event).where(Event.user_id == user.id)))
