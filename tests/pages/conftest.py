"""Signed-in test clients and CSRF tokens for the page tests.

The session `app` keeps CSRF on, as in production, so each form post carries a token taken
from a page, the way a browser gets it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient

from app.models import User

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class PageClient(FlaskClient):
    """A test client whose requests start with an empty `g`, as a browser's do.

    While a test holds an app context (the `ctx` fixture), Flask runs every test-client request
    inside it, so `g` would carry the signed-in user and the CSRF token from one request, and
    one client, to the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


def page_client(app: Flask) -> PageClient:
    return PageClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def client(app: Flask) -> PageClient:
    return page_client(app)


def csrf_token(client: FlaskClient, page: str = "/sign-in") -> str:
    """A valid token for this client's session, read from a page's form."""
    match = CSRF_INPUT.search(client.get(page).get_data(as_text=True))
    assert match, f"no CSRF token in {page}"
    return match.group(1)


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """Sign in the way Flask-Login remembers a user: the id in the session."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


class Browser:
    """A signed-in test client that posts forms with their CSRF token."""

    def __init__(self, client: FlaskClient, user: User) -> None:
        self.client = sign_in(client, user)
        self.user = user
        self._token = csrf_token(client, "/webhooks/new")

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self._token, **(data or {})}, **kwargs)


@pytest.fixture
def browser(app: Flask, make_user: Callable[..., User]) -> Callable[..., Browser]:
    """`browser()` signs in a new user; `browser(user)` signs in that one."""

    def make(user: User | None = None, **user_fields: Any) -> Browser:
        return Browser(page_client(app), user or make_user(**user_fields))

    return make


def text(response: Any) -> str:
    return response.get_data(as_text=True)
