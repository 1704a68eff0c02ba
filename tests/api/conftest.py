"""An API caller: a user of its own with a bearer token, and a test client that sends it."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.models import User
from app.services import users
from tests.support.receiver import Receiver


@dataclass
class Caller:
    user: User
    token: str
    client: FlaskClient

    def call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("DELETE", path, **kwargs)

    def create_webhook(self, url: str, **fields: Any) -> dict[str, Any]:
        body = {"name": "Hook", "url": url, "events": ["price_above"], **fields}
        response = self.post("/api/webhooks", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@dataclass
class Operator:
    """The host application's backend: an operator key, acting for a tenant when given one."""

    key: str
    client: FlaskClient

    def call(
        self, method: str, path: str, tenant: str | None = None, **kwargs: Any
    ) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        if tenant is not None:
            headers["Signalpost-Tenant"] = tenant
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def put_tenant(self, external_id: str, **fields: Any) -> dict[str, Any]:
        body = {"email": f"{external_id.lower()}@host.example", **fields}
        response = self.call("PUT", f"/api/tenants/{external_id}", json=body)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()


@pytest.fixture
def operator(app: Flask, operator_key: str) -> Operator:
    return Operator(operator_key, app.test_client())


_tenant_numbers = itertools.count(1)


@pytest.fixture
def new_tenant_id() -> Callable[[], str]:
    """External ids no other test uses (the database is shared by the whole run)."""
    return lambda: f"host-user:{next(_tenant_numbers)}.{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def hook_url() -> Iterator[str]:
    """An endpoint that accepts everything, for webhooks whose deliveries a test ignores.

    Deliveries there succeed at once, so the session's worker is not left retrying them.
    """
    sink = Receiver().start()
    yield sink.url
    sink.stop()


@pytest.fixture
def make_caller(app: Flask, make_user: Callable[..., User]) -> Callable[[], Caller]:
    def make() -> Caller:
        user = make_user()
        return Caller(user, users.create_api_token(user), app.test_client())

    return make


@pytest.fixture
def api(make_caller: Callable[[], Caller]) -> Caller:
    return make_caller()


def error_of(response: TestResponse) -> dict[str, Any]:
    """The contract's error object, after checking the response is one."""
    assert response.mimetype == "application/json", response.data[:200]
    body = response.get_json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]
