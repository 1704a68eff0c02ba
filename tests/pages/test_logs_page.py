"""The delivery log page: rows, expansion, filters, keyset pages and Retry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Delivery, utcnow
from app.services import events
from app.services.delivery import test_send
from app.webhooks import logs as logs_page
from tests.pages.conftest import text
from tests.support.receiver import Reply
from tests.support.waiting import wait_for

DONE = ("succeeded", "failed")


def deliveries(webhook_id: int) -> list[Delivery]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
        )
    )


def row_ids(page: str) -> list[int]:
    return [int(part.split('"', 1)[0]) for part in page.split('id="delivery-')[1:]]


def test_rows_newest_first_with_payload_headers_and_attempts(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user, name="<script>hook</script>")
    receiver.reply(Reply(500, "<script>steal()</script>"), Reply(200, "fine"))
    test_send.test_webhook(webhook)
    test_send.test_webhook(webhook)
    first, second = deliveries(webhook.id)

    page = text(me.get(f"/webhooks/{webhook.id}/logs"))
    assert row_ids(page) == [second.id, first.id]
    assert "<script>" not in page
    assert "&lt;script&gt;steal()&lt;/script&gt;" in page
    assert "&lt;script&gt;hook&lt;/script&gt;" in page
    assert "<details" in page and "<summary>" in page
    sent = json.loads(first.request_body)
    assert f"&#34;id&#34;: &#34;{sent['id']}&#34;," in page  # indented JSON, one key a line
    assert "X-Webhook-Signature" in page and "X-Webhook-Timestamp" in page
    assert ">Failed<" in page and ">Succeeded<" in page
    assert page.count(">Redeliver</button>") == 2, "successful or not"
    assert f'action="/webhooks/{webhook.id}/logs/{first.id}/retry"' in page
    assert page.count('role="tab"') == 4 and "Response</h4>" in page


def test_filters_by_status_and_event_type(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.reply(Reply(400, "no"), Reply(200, "yes"))
    test_send.test_webhook(webhook)
    test_send.test_webhook(webhook)
    failed, succeeded = deliveries(webhook.id)
    base = f"/webhooks/{webhook.id}/logs"
    assert row_ids(text(me.get(f"{base}?status=failed"))) == [failed.id]
    assert row_ids(text(me.get(f"{base}?status=succeeded"))) == [succeeded.id]
    assert row_ids(text(me.get(f"{base}?event=test"))) == [succeeded.id, failed.id]
    filtered = text(me.get(f"{base}?event=price_above"))
    assert row_ids(filtered) == [] and "No deliveries match these filters" in filtered
    assert row_ids(text(me.get(f"{base}?event=nonsense&status=maybe&before=x"))) == [
        succeeded.id,
        failed.id,
    ]


def test_keyset_pages_keep_the_filters(browser, make_webhook, receiver, monkeypatch):
    monkeypatch.setattr(logs_page, "PAGE_SIZE", 2)
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    for _ in range(3):
        test_send.test_webhook(webhook)
    oldest, middle, newest = deliveries(webhook.id)
    base = f"/webhooks/{webhook.id}/logs"
    first = text(me.get(f"{base}?status=succeeded"))
    assert row_ids(first) == [newest.id, middle.id]
    older = f"{base}?before={middle.id}&amp;status=succeeded"
    assert f'href="{older}"' in first
    second = text(me.get(older.replace("&amp;", "&")))
    assert row_ids(second) == [oldest.id]
    assert 'rel="next"' not in second and ">Newest</a>" in second


@pytest.mark.usefixtures("worker")
def test_retry_sends_the_same_event_id_again(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user, events=["price_above"])
    receiver.default = Reply(404, "gone")
    triggered = events.trigger_event(me.user, "price_above", {"symbol": "AAPL"})
    [failed] = wait_for(lambda: [d for d in deliveries(webhook.id) if d.status == "failed"])
    page = text(me.get(f"/webhooks/{webhook.id}/logs?event=price_above"))
    assert row_ids(page) == [failed.id] and ">Redeliver</button>" in page
    assert "&#34;symbol&#34;: &#34;AAPL&#34;" in page

    receiver.default = Reply(200, "back")
    response = me.post(f"/webhooks/{webhook.id}/logs/{failed.id}/retry")
    assert response.status_code == 302
    assert triggered.event_id in text(me.get(response.headers["Location"]))
    wait_for(lambda: [d for d in deliveries(webhook.id) if d.status == "succeeded"])
    assert [r.headers["X-Webhook-Id"] for r in receiver.requests] == [triggered.event_id] * 2


def test_a_delivery_of_another_webhook_cannot_be_retried_here(browser, make_webhook, receiver):
    me = browser()
    mine, _ = make_webhook(receiver.url, user=me.user)
    other, _ = make_webhook(receiver.url, user=me.user)
    test_send.test_webhook(other)
    [theirs] = deliveries(other.id)
    assert me.post(f"/webhooks/{mine.id}/logs/{theirs.id}/retry").status_code == 404
    assert len(deliveries(other.id)) == 1


@pytest.mark.usefixtures("worker")
def test_replay_sends_the_failed_events_of_a_time_range_again(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user, events=["price_above"])
    receiver.reply(Reply(404, "gone"))
    fired = [events.trigger_event(me.user, "price_above", {"n": n}) for n in range(2)]
    wait_for(lambda: len([d for d in deliveries(webhook.id) if d.status in DONE]) == 2)
    page = text(me.get(f"/webhooks/{webhook.id}/logs"))
    assert f'action="/webhooks/{webhook.id}/logs/replay"' in page
    since = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")

    response = me.post(f"/webhooks/{webhook.id}/logs/replay", {"since": since, "failed_only": "y"})

    assert response.status_code == 302
    assert "1 deliveries queued again." in text(me.get(response.headers["Location"]))
    wait_for(lambda: len(receiver.requests) == 3)
    assert (
        receiver.requests[2].headers["X-Webhook-Id"] == receiver.requests[0].headers["X-Webhook-Id"]
    )
    assert receiver.requests[2].headers["X-Webhook-Id"] in {f.event_id for f in fired}


def test_replay_without_a_start_says_so(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    response = me.post(f"/webhooks/{webhook.id}/logs/replay", {"since": ""})
    assert response.status_code == 422
    assert "Give the start of the time range" in text(response)
    backwards = {"since": "2026-02-02T10:00", "until": "2026-02-01T10:00", "status": "failed"}
    response = me.post(f"/webhooks/{webhook.id}/logs/replay", backwards)
    page = text(response)
    assert response.status_code == 422
    assert "Must be later than the start of the range" in page
    assert 'value="2026-02-02T10:00"' in page and 'value="2026-02-01T10:00"' in page, "as typed"
    assert '<details class="card replay" open>' in page
    assert '<option value="failed" selected>' in page, "the filters survive"
