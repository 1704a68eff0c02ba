"""The test dialog: one synchronous send, its answer escaped, and a per-user limit."""

from __future__ import annotations

import socket

from tests.pages.conftest import text
from tests.support.receiver import Reply

FETCH = {"X-Requested-With": "fetch"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_dialog_shows_status_duration_and_escaped_body(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.default = Reply(200, '<script>alert("owned")</script>')
    response = me.post(f"/webhooks/{webhook.id}/test", headers=FETCH)
    fragment = text(response)
    assert response.status_code == 200
    assert "<html" not in fragment  # only the dialog's body
    assert 'class="status-code">200<' in fragment
    assert " ms." in fragment
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in fragment
    assert "<script>alert" not in fragment
    assert receiver.requests[0].headers["X-Webhook-Event"] == "test"
    listing = text(me.get("/webhooks"))
    assert 'aria-label="Last 24 hours: 1 delivered, 0 failed"' in listing
    assert 'class="chart-ok"' in listing


def test_without_script_the_result_is_a_page(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.default = Reply(500, "down for maintenance")
    sent = me.post(f"/webhooks/{webhook.id}/test")
    assert sent.status_code == 302, "post/redirect/get: a reload sends nothing"
    page = text(me.get(sent.headers["Location"]))
    assert len(receiver.requests) == 1
    assert "<html" in page and "Test delivery" in page
    assert 'class="status-code">500<' in page and "Only a 2xx answer counts" in page
    assert "down for maintenance" in page


def test_a_connection_error_is_told_in_plain_words(browser, make_webhook):
    me = browser()
    webhook, _ = make_webhook(f"http://127.0.0.1:{closed_port()}/hook", user=me.user)
    fragment = text(me.post(f"/webhooks/{webhook.id}/test", headers=FETCH))
    assert "could not get an answer from the endpoint: connection refused" in fragment


def test_test_sends_are_limited_per_user(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    for _ in range(10):
        assert me.post(f"/webhooks/{webhook.id}/test", headers=FETCH).status_code == 200
    refused = me.post(f"/webhooks/{webhook.id}/test", headers=FETCH)
    assert refused.status_code == 429
    assert len(receiver.requests) == 10
    someone_else = browser()
    theirs, _ = make_webhook(receiver.url, user=someone_else.user)
    assert someone_else.post(f"/webhooks/{theirs.id}/test", headers=FETCH).status_code == 200
