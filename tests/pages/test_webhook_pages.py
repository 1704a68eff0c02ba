"""The webhook list and form, enable/disable, delete and secrets, through the test client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.domain import addresses
from app.extensions import db
from app.models import Delivery, Webhook
from app.services import events, webhooks
from tests.pages.conftest import csrf_token, page_client, sign_in, text

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def form_data(**overrides):
    data = {
        "name": "Trading bot",
        "url": "http://127.0.0.1:9/hook",
        "events": ["price_above", "trade_executed"],
        "format": "json",
        "is_active": "y",
    }
    data.update(overrides)
    return data


def fresh(webhook_id: int) -> Webhook | None:
    db.session.rollback()
    return db.session.get(Webhook, webhook_id)


PAGES = [
    ("get", "/webhooks"),
    ("get", "/webhooks/new"),
    ("post", "/webhooks/new"),
    ("get", "/webhooks/{id}/edit"),
    ("post", "/webhooks/{id}/edit"),
    ("post", "/webhooks/{id}/active"),
    ("get", "/webhooks/{id}/missed?since=2026-01-01T00:00:00Z"),
    ("post", "/webhooks/{id}/missed"),
    ("get", "/webhooks/{id}/delete"),
    ("post", "/webhooks/{id}/delete"),
    ("post", "/webhooks/{id}/test"),
    ("post", "/webhooks/{id}/secret/reveal"),
    ("post", "/webhooks/{id}/secret/rotate"),
    ("get", "/webhooks/{id}/logs"),
    ("post", "/webhooks/{id}/logs/1/retry"),
    ("get", "/account/tokens"),
    ("post", "/account/tokens/1/revoke"),
]


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_every_page_asks_to_sign_in(app, make_webhook, method, path):
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    client = page_client(app)
    token = csrf_token(client)
    response = getattr(client, method)(path.format(id=webhook.id), data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert fresh(webhook.id) is not None


@pytest.mark.parametrize(("method", "path"), [page for page in PAGES if "{id}" in page[1]])
def test_another_users_webhook_is_404(browser, make_webhook, method, path):
    webhook, secret = make_webhook("http://127.0.0.1:9/hook")
    response = getattr(browser(), method)(path.format(id=webhook.id))
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert secret not in text(response)
    assert fresh(webhook.id).is_active


def test_a_form_posted_without_its_csrf_token_is_refused(browser):
    me = browser()
    response = me.client.post("/webhooks/new", data=form_data())
    assert response.status_code == 400
    assert "CSRF" in text(response)
    assert webhooks.list_webhooks(me.user) == []


def test_empty_state_explains_and_offers_new(browser):
    page = text(browser().get("/webhooks"))
    assert "No webhooks yet" in page
    assert "A webhook is an address" in page
    assert 'href="/webhooks/new"' in page


def test_home_page_is_the_list_once_signed_in(browser, client):
    assert browser().get("/").headers["Location"] == "/webhooks"
    landing = text(client.get("/"))
    assert 'href="/sign-in"' in landing and 'href="/register"' in landing


def test_create_from_the_form(browser):
    me = browser()
    response = me.post("/webhooks/new", form_data())
    assert response.status_code == 302
    [webhook] = webhooks.list_webhooks(me.user)
    assert response.headers["Location"] == f"/webhooks/{webhook.id}/edit"
    assert webhook.name == "Trading bot"
    assert webhook.events == ["price_above", "trade_executed"]
    assert webhook.is_active and webhook.format == "json"
    page = text(me.get(response.headers["Location"]))
    assert "created" in page
    assert "whsec_••••" in page
    assert webhooks.reveal_secret(webhook) not in page


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("name", {"name": ""}, "Enter a name."),
        ("name", {"name": "x" * 101}, "Use at most 100 characters."),
        ("url", {"url": "ftp://example.com/hook"}, "http"),
        ("url", {"url": ""}, ""),
        ("events", {"events": []}, "Choose at least one event type."),
        ("events", {"events": ["price_above", "moon_landing"]}, "Unknown event type: moon_landing"),
        ("format", {"format": "fax"}, "Choose one of"),
    ],
)
def test_each_validation_error_shows_at_its_field(browser, field, overrides, message):
    me = browser()
    response = me.post("/webhooks/new", form_data(**overrides))
    assert response.status_code == 200
    page = text(response)
    error = page.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error beside {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert f'aria-describedby="{field}-error"' in page or f"{field}-help {field}-error" in page
    others = {"name", "url", "events", "format"} - {field}
    assert not any(f'id="{other}-error"' in page for other in others)
    assert webhooks.list_webhooks(me.user) == []


def test_edit_errors_show_at_their_fields_and_keep_what_was_typed(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    response = me.post(f"/webhooks/{webhook.id}/edit", form_data(name=SCRIPT, url="nope"))
    page = text(response)
    assert 'id="url-error"' in page and 'id="name-error"' not in page
    assert f'value="{ESCAPED}"' in page or "&lt;script&gt;" in page
    assert SCRIPT not in page
    assert fresh(webhook.id).name == "Test hook"


def test_the_per_user_limit_is_a_clear_message(app, browser, make_webhook):
    me = browser()
    make_webhook("http://127.0.0.1:9/hook", user=me.user)
    before = app.config["WEBHOOK_MAX_PER_USER"]
    app.config["WEBHOOK_MAX_PER_USER"] = 1
    try:
        response = me.post("/webhooks/new", form_data())
    finally:
        app.config["WEBHOOK_MAX_PER_USER"] = before
    page = text(response)
    assert response.status_code == 200
    assert 'role="alert"' in page
    assert "You already have 1 webhooks, the most allowed is 1." in page
    assert len(webhooks.list_webhooks(me.user)) == 1


def test_edit_saves_every_field(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    form = text(me.get(f"/webhooks/{webhook.id}/edit"))
    assert 'value="Test hook"' in form and 'value="price_above"' in form
    data = form_data(name="Renamed", url="http://127.0.0.1:8/other", events=["custom"])
    del data["is_active"]  # an unticked checkbox is not posted
    response = me.post(f"/webhooks/{webhook.id}/edit", data)
    assert response.status_code == 302
    saved = fresh(webhook.id)
    assert (saved.name, saved.url) == ("Renamed", "http://127.0.0.1:8/other")
    assert saved.events == ["custom"]
    assert saved.is_active is False


def test_list_shows_each_webhook_escaped(browser, make_webhook):
    me = browser()
    url = "http://127.0.0.1:9/hook?q=<script>alert(1)</script>"
    webhook, _ = make_webhook(url, user=me.user, name=SCRIPT, events=["price_above", "custom"])
    assert SCRIPT not in webhook.url  # stored percent-encoded; an older version stored it raw:
    webhook.url = url
    webhooks.set_active(webhook, False, reason=f"Because {SCRIPT}")
    page = text(me.get("/webhooks"))
    assert SCRIPT not in page
    assert page.count(ESCAPED) >= 3  # name, URL and reason
    assert "<strong>127.0.0.1:9</strong>" in page
    assert "Price Above Target" in page and "Custom Event" in page
    assert "Disabled" in page
    assert f'action="/webhooks/{webhook.id}/test"' in page
    assert f'href="/webhooks/{webhook.id}/logs"' in page
    assert f'href="/webhooks/{webhook.id}/delete"' in page
    assert "<svg" in page and 'aria-label="Last 24 hours: 0 delivered, 0 failed"' in page


def test_disable_and_enable(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    me.post(f"/webhooks/{webhook.id}/active", {"active": "0"})
    assert fresh(webhook.id).is_active is False
    page = text(me.get("/webhooks"))
    assert "Disabled by its owner." in page and ">Enable</button>" in page
    me.post(f"/webhooks/{webhook.id}/active", {"active": "1"})
    saved = fresh(webhook.id)
    assert saved.is_active and saved.disabled_reason is None


def test_enabling_offers_what_it_missed_while_disabled(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user, events=["price_above"])
    me.post(f"/webhooks/{webhook.id}/active", {"active": "0"})
    fired = events.trigger_event(me.user, "price_above", {"symbol": "AAPL"})
    assert fired.deliveries == 0

    enabled = me.post(f"/webhooks/{webhook.id}/active", {"active": "1"})

    offer = enabled.headers["Location"]
    assert offer.startswith(f"/webhooks/{webhook.id}/missed?since=")
    page = text(me.get(offer))
    assert "1 event of its types was" in page and "Send what it missed" in page
    since = parse_qs(urlsplit(offer).query)["since"][0]
    sent = me.post(f"/webhooks/{webhook.id}/missed", {"since": since})
    assert sent.headers["Location"] == f"/webhooks/{webhook.id}/logs"
    queued = db.session.scalars(sa.select(Delivery).where(Delivery.webhook_id == webhook.id))
    assert [row.event_id for row in queued] == [fired.event_id]
    assert (
        me.post(f"/webhooks/{webhook.id}/active", {"active": "1"}).headers["Location"]
        == "/webhooks"
    ), "an enabled webhook has nothing to offer"


def test_what_it_missed_needs_a_valid_start(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    for since in ("", "yesterday", "0001-01-01T00:00:00+23:59"):
        answer = me.post(f"/webhooks/{webhook.id}/missed", {"since": since})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/logs")


def test_delete_asks_first(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    confirm = me.get(f"/webhooks/{webhook.id}/delete")
    assert "cannot be undone" in text(confirm)
    assert fresh(webhook.id) is not None
    assert me.post(f"/webhooks/{webhook.id}/delete").status_code == 302
    assert fresh(webhook.id) is None


def test_secret_is_masked_revealed_by_post_and_rotated(browser, make_webhook):
    me = browser()
    webhook, secret = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    page = text(me.get(f"/webhooks/{webhook.id}/edit"))
    assert f"whsec_••••{secret[-4:]}" in page
    assert secret not in page
    assert me.get(f"/webhooks/{webhook.id}/secret/reveal").status_code == 405

    response = me.post(f"/webhooks/{webhook.id}/secret/reveal")
    assert secret in text(response) and "data-copy" in text(response)
    assert response.headers["Cache-Control"] == "no-store"
    for_script = me.post(
        f"/webhooks/{webhook.id}/secret/reveal", headers={"X-Requested-With": "fetch"}
    )
    assert for_script.mimetype == "text/plain" and text(for_script) == secret

    rotated = text(me.post(f"/webhooks/{webhook.id}/secret/rotate"))
    db.session.rollback()
    new_secret = webhooks.reveal_secret(fresh(webhook.id))
    assert new_secret != secret
    assert new_secret in rotated and secret not in rotated
    assert "24 hours" in rotated
    assert webhooks.signing_secrets(fresh(webhook.id)) == [new_secret, secret]


def test_a_signed_in_user_sees_only_their_own_list(browser, make_webhook):
    other, _ = make_webhook("http://127.0.0.1:9/hook", name="Someone else's")
    page = text(browser().get("/webhooks"))
    assert "Someone else" not in page
    assert db.session.scalar(sa.select(Webhook.id).where(Webhook.id == other.id))


def test_sign_in_helper_matches_a_real_session(app, make_user):
    """The helper's session is the one Flask-Login reads: without it, a redirect."""
    user = make_user()
    client = page_client(app)
    assert client.get("/webhooks").status_code == 302
    assert sign_in(client, user).get("/webhooks").status_code == 200


def test_a_url_and_format_that_do_not_match_are_saved_with_advice(browser, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["162.159.128.233"])
    me = browser()
    discord_url = "https://discord.com/api/webhooks/123/abc"

    response = me.post("/webhooks/new", form_data(url=discord_url, format="json"))

    assert response.status_code == 302, "advice, never a refusal"
    advised = text(me.get(response.headers["Location"]))
    assert advised.count("choose the discord format") == 2  # the flash, and at the field
    [webhook] = webhooks.list_webhooks(me.user)
    me.post(f"/webhooks/{webhook.id}/edit", form_data(url=discord_url, format="discord"))
    assert "choose the discord format" not in text(me.get(f"/webhooks/{webhook.id}/edit"))


def test_pages_show_a_non_ascii_url_decoded_and_test_it(browser, make_webhook):
    """Stored percent-encoded (tests/security/test_url_normalisation.py), read as typed."""
    page = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/é", user=page.user)
    listing = text(page.get("/webhooks"))
    assert "/é" in listing and "%C3%A9" not in listing
    form = text(page.get(f"/webhooks/{webhook.id}/edit"))
    assert 'value="http://127.0.0.1:9/é"' in form
    test = page.post(f"/webhooks/{webhook.id}/test")
    assert test.status_code == 200
