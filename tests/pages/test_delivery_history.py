"""The delivery history: redeliver anything, linked both ways; search by event id; a status
filter where Failed is not Retrying; why and when a delivery waits; rows the script refreshes;
filters kept by every action; each attempt's request and response."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Delivery, utcnow
from app.services import logs
from app.services.delivery import test_send
from tests.pages.conftest import text
from tests.support.receiver import Reply


def deliveries(webhook_id: int) -> list[Delivery]:
    db.session.rollback()
    query = sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
    return list(db.session.scalars(query))


def row_ids(page: str) -> list[int]:
    return [int(part.split('"', 1)[0]) for part in page.split('id="delivery-')[1:]]


def words(response) -> str:
    return " ".join(text(response).split())


def set_state(delivery_id: int, **values) -> None:
    db.session.execute(sa.update(Delivery).where(Delivery.id == delivery_id).values(**values))
    db.session.commit()


def test_a_successful_delivery_is_redelivered_and_both_rows_say_so(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    test_send.test_webhook(webhook)
    [original] = deliveries(webhook.id)
    assert original.status == "succeeded"

    response = me.post(f"/webhooks/{webhook.id}/logs/{original.id}/retry")

    assert response.status_code == 302
    original_now, again = deliveries(webhook.id)
    assert again.redelivery_of == original.id and again.event_id == original.event_id
    page = words(me.get(response.headers["Location"]))
    assert row_ids(text(me.get(response.headers["Location"]))) == [again.id, original.id]
    assert "Redelivered as <a " in page and f'#delivery-{again.id}">#{again.id}</a>' in page
    assert "redelivery of <a " in page and f'#delivery-{original.id}">#{original.id}</a>' in page
    assert original_now.status == "succeeded", "the original stays as it was"


def test_every_action_keeps_the_filters(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.default = Reply(500, "no")
    test_send.test_webhook(webhook)
    [failed] = deliveries(webhook.id)
    page = text(me.get(f"/webhooks/{webhook.id}/logs?status=failed&event=test"))
    assert page.count('<input type="hidden" name="status" value="failed">') == 2  # both forms

    response = me.post(
        f"/webhooks/{webhook.id}/logs/{failed.id}/retry",
        {"status": "failed", "event": "test", "event_id": "<junk>"},
    )
    assert response.headers["Location"] == f"/webhooks/{webhook.id}/logs?status=failed&event=test"
    since = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    replayed = me.post(
        f"/webhooks/{webhook.id}/logs/replay",
        {"since": since, "event_id": failed.event_id, "status": "failed"},
    )
    assert replayed.headers["Location"] == (
        f"/webhooks/{webhook.id}/logs?status=failed&event_id={failed.event_id}"
    )


def test_search_by_event_id(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    test_send.test_webhook(webhook)
    test_send.test_webhook(webhook)
    first, second = deliveries(webhook.id)
    base = f"/webhooks/{webhook.id}/logs"
    assert row_ids(text(me.get(f"{base}?event_id={first.event_id}"))) == [first.id]
    assert row_ids(text(me.get(f"{base}?event_id=+{second.event_id}+"))) == [second.id]
    assert row_ids(text(me.get(f"{base}?event_id=evt_nothing"))) == []
    for junk in ("<script>", "evt\x00x", "x" * 41):
        response = me.get(base, query_string={"event_id": junk})
        assert response.status_code == 200 and row_ids(text(response)) == []
        assert "is not an event id" in text(response) and "<script>" not in text(response)


def test_failed_is_not_retrying_and_each_waiting_row_says_why(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.default = Reply(500, "no")
    for _ in range(4):
        test_send.test_webhook(webhook)
    failed, retrying, limited, queued = deliveries(webhook.id)
    soon = (utcnow() + timedelta(minutes=10)).replace(microsecond=0)
    set_state(retrying.id, status="scheduled", attempts=2, next_attempt_at=soon)
    set_state(limited.id, status="pending", attempts=0, next_attempt_at=soon, rate_window=1)
    set_state(queued.id, status="pending", attempts=0, next_attempt_at=utcnow())
    base = f"/webhooks/{webhook.id}/logs"

    assert row_ids(text(me.get(f"{base}?status=failed"))) == [failed.id]
    assert row_ids(text(me.get(f"{base}?status=retrying"))) == [retrying.id]
    assert row_ids(text(me.get(f"{base}?status=queued"))) == [queued.id, limited.id]
    page = words(me.get(base))
    assert f"retry 2 of 3 at {soon:%H:%M:%S} UTC" in page
    assert f"waiting for the rate limit until {soon:%H:%M:%S} UTC" in page
    assert '<span class="note">queued</span>' in page
    assert page.count("data-in-flight") == 3
    assert text(me.get(base)).count(">Redeliver</button>") == 1, "not while in flight"


def test_the_rows_endpoint_answers_the_rows_named_and_whether_to_ask_again(
    browser, make_webhook, receiver
):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    other, _ = make_webhook(receiver.url, user=me.user)
    test_send.test_webhook(webhook)
    test_send.test_webhook(other)
    [mine] = deliveries(webhook.id)
    [theirs] = deliveries(other.id)
    base = f"/webhooks/{webhook.id}/logs/rows"

    answer = me.get(f"{base}?ids={mine.id},{theirs.id},nonsense,-1").get_json()

    assert list(answer["rows"]) == [str(mine.id)] and answer["in_flight"] is False
    assert f'id="delivery-{mine.id}"' in answer["rows"][str(mine.id)]
    set_state(mine.id, status="pending", next_attempt_at=utcnow())
    assert me.get(f"{base}?ids={mine.id}").get_json()["in_flight"] is True
    assert me.get(f"/webhooks/{other.id}/logs/rows?ids={mine.id}").get_json()["rows"] == {}
    assert me.get(base).get_json() == {"rows": {}, "in_flight": False}


def test_each_attempt_has_its_request_and_response(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.reply(Reply(503, "<b>busy</b>", headers={"X-Seen": "<yes>"}))
    test_send.test_webhook(webhook)
    [delivery] = deliveries(webhook.id)
    page = text(me.get(f"/webhooks/{webhook.id}/logs"))
    assert f'aria-controls="attempt-{delivery.id}-1-request"' in page
    assert f'id="attempt-{delivery.id}-1-response"' in page
    assert "Status <strong>503</strong>" in page and "&lt;b&gt;busy&lt;/b&gt;" in page
    assert "X-Webhook-Signature" in page
    assert '<th scope="row">X-Seen</th><td><code>&lt;yes&gt;</code>' in page


def test_purging_an_original_unlinks_its_redelivery(browser, make_webhook, receiver):
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    test_send.test_webhook(webhook)
    [original] = deliveries(webhook.id)
    me.post(f"/webhooks/{webhook.id}/logs/{original.id}/retry")
    _, again = deliveries(webhook.id)
    set_state(original.id, created_at=utcnow() - timedelta(days=100))
    set_state(again.id, status="succeeded")

    logs.purge_logs(days=90)

    [left] = deliveries(webhook.id)
    assert left.id == again.id and left.redelivery_of is None


def a_digest_of_two(browser, make_webhook, receiver):
    """Two delivered test sends, the second marked as carried in the first's digest."""
    me = browser()
    webhook, _ = make_webhook(receiver.url, user=me.user)
    test_send.test_webhook(webhook)
    test_send.test_webhook(webhook)
    carrier, carried = deliveries(webhook.id)
    set_state(carried.id, carried_by=carrier.id)
    return me, webhook, carrier, carried


def test_a_digest_and_what_it_carried_link_to_each_other(browser, make_webhook, receiver):
    me, webhook, carrier, carried = a_digest_of_two(browser, make_webhook, receiver)

    page = words(me.get(f"/webhooks/{webhook.id}/logs"))

    listed = f'<a href="/webhooks/{webhook.id}/logs?event_id={carried.event_id}">'
    assert f"this message also carried 1 event ({listed}" in page
    carrier_link = f'#delivery-{carrier.id}">delivery #{carrier.id}</a>, which carried it'
    assert f"before={carrier.id + 1}{carrier_link}" in page


def test_purging_a_digest_unlinks_what_it_carried(browser, make_webhook, receiver):
    me, webhook, carrier, carried = a_digest_of_two(browser, make_webhook, receiver)
    set_state(carrier.id, created_at=utcnow() - timedelta(days=100))

    logs.purge_logs(days=90)

    [left] = deliveries(webhook.id)
    assert left.id == carried.id and left.carried_by is None
