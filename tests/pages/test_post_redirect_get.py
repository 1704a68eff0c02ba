"""Post/redirect/get on every page: each POST that changes something answers with a redirect,
so reloading the page it lands on changes nothing again (no second token, rotation or mail).

The table covers every POST route outside /api: a new one fails the first test until it is
added here, with the form that makes it succeed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Delivery
from app.services import events, operator_keys, password_reset, users
from tests.pages.conftest import Browser, csrf_token

# Changes nothing: shows the current secret in full, `no-store`, to the one who asked.
SHOWS_ONLY = {"webhooks.reveal_secret"}

REFUSED = "http://127.0.0.1:9/hook"  # the discard port: nothing listens, a test send fails fast

Case = Callable[..., tuple[str, dict[str, Any]]]


def _webhook(me: Browser, make_webhook) -> int:
    return make_webhook(REFUSED, user=me.user)[0].id


def _delivery(me: Browser, make_webhook) -> tuple[int, int]:
    webhook_id = _webhook(me, make_webhook)
    events.trigger_event(me.user, "price_above", {"symbol": "AAPL", "price": "185.50"})
    delivery_id = db.session.scalar(sa.select(Delivery.id).where(Delivery.webhook_id == webhook_id))
    return webhook_id, delivery_id


def _token_id(me: Browser) -> int:
    users.create_api_token(me.user, "old bot")
    return users.list_api_tokens(me.user)[0].id


USER_CASES: dict[str, Case] = {
    "auth.tokens": lambda me, mw, mu: ("/account/tokens", {"name": "bot"}),
    "auth.revoke_token": lambda me, mw, mu: (f"/account/tokens/{_token_id(me)}/revoke", {}),
    "auth.resend_verification": lambda me, mw, mu: ("/account/verify-email", {}),
    "auth.sign_out": lambda me, mw, mu: ("/sign-out", {}),
    "webhooks.new": lambda me, mw, mu: (
        "/webhooks/new",
        {"name": "Alerts", "url": REFUSED, "events": ["price_above"], "format": "json"},
    ),
    "webhooks.edit": lambda me, mw, mu: (
        f"/webhooks/{_webhook(me, mw)}/edit",
        {"name": "Renamed", "url": REFUSED, "events": ["price_above"], "format": "json"},
    ),
    "webhooks.set_active": lambda me, mw, mu: (
        f"/webhooks/{_webhook(me, mw)}/active",
        {"active": "0"},
    ),
    "webhooks.delete": lambda me, mw, mu: (f"/webhooks/{_webhook(me, mw)}/delete", {}),
    "webhooks.retry": lambda me, mw, mu: (
        "/webhooks/{}/logs/{}/retry".format(*_delivery(me, mw)),
        {},
    ),
    "webhooks.replay": lambda me, mw, mu: (
        f"/webhooks/{_delivery(me, mw)[0]}/logs/replay",
        {"since": "2000-01-01T00:00", "failed_only": ""},
    ),
    "webhooks.missed": lambda me, mw, mu: (
        f"/webhooks/{_webhook(me, mw)}/missed?since=2000-01-01T00:00:00Z",
        {},
    ),
    "webhooks.rotate_secret": lambda me, mw, mu: (
        f"/webhooks/{_webhook(me, mw)}/secret/rotate",
        {"overlap": "3600"},
    ),
    "webhooks.test": lambda me, mw, mu: (f"/webhooks/{_webhook(me, mw)}/test", {}),
}

ADMIN_CASES: dict[str, Case] = {
    "admin.create_key": lambda me, mw, mu: ("/admin/keys", {"name": "host"}),
    "admin.revoke_key": lambda me, mw, mu: (
        f"/admin/keys/{operator_keys.create_key('old host')[0].id}/revoke",
        {},
    ),
    "admin.set_disabled": lambda me, mw, mu: (
        f"/admin/users/{mu().id}/disabled",
        {"disabled": "1"},
    ),
    "admin.send_reset_link": lambda me, mw, mu: (
        f"/admin/users/{mu().id}/reset-link",
        {},
    ),
    "admin.set_active": lambda me, mw, mu: (
        f"/admin/webhooks/{mw(REFUSED)[0].id}/active",
        {"active": "0"},
    ),
}

# Signed out: (the page whose form holds the CSRF token, the fields beside it).
VISITOR_CASES: dict[str, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    "auth.sign_in": lambda mu: ("/sign-in", {"email": mu().email, "password": "a long password"}),
    "auth.register": lambda mu: (
        "/register",
        {
            "email": f"new-{uuid.uuid4().hex}@example.com",
            "password": "correct horse battery staple",
        },
    ),
    "auth.forgot_password": lambda mu: ("/forgot-password", {"email": mu().email}),
    "auth.reset_password": lambda mu: (
        urlsplit(password_reset.reset_link(mu())).path,
        {"password": "correct horse battery staple"},
    ),
}


def test_every_page_post_route_is_in_the_table(app):
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api")
    }
    covered = set(USER_CASES) | set(ADMIN_CASES) | set(VISITOR_CASES) | SHOWS_ONLY
    assert posts - covered == set(), "add the new POST route to this file's table"
    assert covered - posts == set(), "the table names a route that is gone"


@pytest.mark.parametrize("endpoint", sorted(USER_CASES))
def test_a_users_post_redirects(endpoint, browser, make_webhook, make_user):
    me = browser()
    path, data = USER_CASES[endpoint](me, make_webhook, make_user)
    answer = me.post(path, data)
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:500]


@pytest.mark.parametrize("endpoint", sorted(ADMIN_CASES))
def test_an_admins_post_redirects(endpoint, browser, make_webhook, make_user):
    admin = browser(is_admin=True)
    path, data = ADMIN_CASES[endpoint](admin, make_webhook, make_user)
    answer = admin.post(path, data)
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:500]


@pytest.mark.parametrize("endpoint", sorted(VISITOR_CASES))
def test_a_visitors_post_redirects(endpoint, client, make_user):
    path, data = VISITOR_CASES[endpoint](make_user)
    answer = client.post(path, data={"csrf_token": csrf_token(client, path), **data})
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:500]
