"""Delivery end to end: a real worker on Redis posts to real receivers on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook as StandardWebhook

from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, Webhook, utcnow
from app.services import events, queue, webhooks
from app.services.delivery import attempt
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def deliveries_of(webhook_id: int) -> list[Delivery]:
    return list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
        )
    )


def finished(webhook_id: int, count: int = 1) -> list[Delivery] | None:
    rows = deliveries_of(webhook_id)
    done = [row for row in rows if row.status in ("succeeded", "failed", "skipped")]
    return rows if len(done) >= count else None


def test_event_arrives_with_contract_body_and_headers(make_webhook, receiver):
    webhook, secret = make_webhook(receiver.url, events=["price_above"])
    data = {"symbol": "AAPL", "price": "185.50", "target": "180.00", "note": "héllo 🚀"}

    triggered = events.trigger_event(webhook.user, "price_above", data)

    assert triggered.deliveries == 1
    wait_for(lambda: receiver.requests)
    request = receiver.requests[0]
    body = json.loads(request.body)
    assert set(body) == {"id", "event", "timestamp", "data"}
    assert body["id"] == triggered.event_id and body["id"].startswith("evt_")
    assert body["event"] == "price_above"
    assert body["data"] == data
    assert body["timestamp"].endswith("Z")
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Signalpost-Webhooks/")
    assert headers["X-Webhook-Id"] == triggered.event_id
    assert headers["X-Webhook-Event"] == "price_above"
    assert headers["Webhook-Id"] == triggered.event_id
    assert headers["Webhook-Timestamp"] == headers["X-Webhook-Timestamp"]

    # By hand, over the exact bytes received, as the README tells receivers to.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{triggered.event_id}.{headers['X-Webhook-Timestamp']}.".encode() + request.body
    expected = hmac.new(key, signed, hashlib.sha256)
    assert headers["X-Webhook-Signature"] == "sha256=" + expected.hexdigest()
    # And with the official Standard Webhooks library, unchanged.
    verified = StandardWebhook(secret).verify(request.body, headers)
    assert verified == body

    rows = wait_for(lambda: finished(webhook.id))
    assert rows[0].status == DeliveryStatus.SUCCEEDED and rows[0].success is True
    assert rows[0].attempts == 1 and rows[0].status_code == 200


def test_a_tampered_body_does_not_verify(make_webhook, receiver):
    webhook, secret = make_webhook(receiver.url)
    events.trigger_event(webhook.user, "price_above", {"price": "1"})
    request = wait_for(lambda: receiver.requests)[0]
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(request.body.replace(b'"1"', b'"2"'), request.headers)


def test_retries_keep_the_event_id_and_log_every_attempt(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.reply(Reply(500, "boom"), Reply(503, "busy"))

    triggered = events.trigger_event(webhook.user, "price_above", {"n": 1})

    rows = wait_for(lambda: finished(webhook.id))
    assert [r.headers["X-Webhook-Id"] for r in receiver.requests] == [triggered.event_id] * 3
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1, "every attempt sends the same bytes"
    delivery = rows[0]
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert [(a.number, a.status_code) for a in delivery.attempt_log] == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]
    assert delivery.attempt_log[0].response_body == "boom"
    assert delivery.attempt_log[0].error == "HTTP 500"


def test_every_attempt_keeps_the_response_headers(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.reply(Reply(503, "busy", headers={"Retry-After": "0", "X-Request-Id": "r-1"}))

    events.trigger_event(webhook.user, "price_above", {"n": 1})

    delivery = wait_for(lambda: finished(webhook.id))[0]
    first, second = delivery.attempt_log
    assert first.response_headers["Retry-After"] == "0"
    assert first.response_headers["X-Request-Id"] == "r-1"
    assert "X-Request-Id" not in second.response_headers
    assert second.response_headers["Content-Length"] == "2"


def test_a_timeout_is_retried(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.reply(Reply(200, delay=3.5))  # WEBHOOK_TIMEOUT is 2 s in the tests

    events.trigger_event(webhook.user, "price_above", {})

    delivery = wait_for(lambda: finished(webhook.id))[0]
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert "timed out" in delivery.attempt_log[0].error
    assert delivery.attempt_log[0].status_code is None


def test_a_refused_connection_is_retried_until_the_endpoint_comes_up(make_webhook):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook, _ = make_webhook(f"http://127.0.0.1:{port}/hook")

    events.trigger_event(webhook.user, "price_above", {})

    wait_for(lambda: deliveries_of(webhook.id)[0].attempts >= 1)
    first = deliveries_of(webhook.id)[0].attempt_log[0]
    assert first.error == "connection refused"
    late = Receiver(port).start()
    try:
        delivery = wait_for(lambda: finished(webhook.id))[0]
        assert delivery.status == DeliveryStatus.SUCCEEDED
        assert len(late.requests) == 1
    finally:
        late.stop()


def test_a_400_is_not_retried(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.default = Reply(400, "bad request")

    events.trigger_event(webhook.user, "price_above", {})

    delivery = wait_for(lambda: finished(webhook.id))[0]
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert len(receiver.requests) == 1
    db.session.refresh(webhook)
    assert (webhook.failure_count, webhook.consecutive_failures) == (1, 1)


def test_a_redirect_is_not_followed(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.default = Reply(302, "", headers={"Location": "http://127.0.0.1:1/elsewhere"})

    events.trigger_event(webhook.user, "price_above", {})

    delivery = wait_for(lambda: finished(webhook.id))[0]
    assert delivery.status == DeliveryStatus.FAILED and delivery.status_code == 302
    assert "not followed" in delivery.error
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_a_429_waits_as_long_as_retry_after_asks(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)  # the configured delay is 1 s
    receiver.reply(Reply(429, "slow down", headers={"Retry-After": "3"}))

    events.trigger_event(webhook.user, "price_above", {})

    wait_for(lambda: finished(webhook.id))
    first, second = receiver.requests
    assert second.at - first.at >= 3.0


def test_a_final_failure_after_all_retries(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.default = Reply(500, "down")

    events.trigger_event(webhook.user, "price_above", {})

    delivery = wait_for(lambda: finished(webhook.id), timeout=30)[0]
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 4
    assert len(receiver.requests) == 4
    db.session.refresh(webhook)
    assert webhook.failure_count == 1, "one failed delivery counts once, not once per attempt"


def all_finished(webhook_id: int) -> list[Delivery] | None:
    rows = deliveries_of(webhook_id)
    return rows if rows and all(row.status not in OPEN_STATUSES for row in rows) else None


def test_ten_consecutive_failures_disable_and_mail_once(make_webhook, receiver, mail_sink):
    webhook, _ = make_webhook(receiver.url, name="My <Discord> bot")
    receiver.default = Reply(404, "no such hook")
    owner = webhook.user.email

    # More than the threshold; events fired after the webhook is disabled get no delivery.
    for number in range(12):
        events.trigger_event(webhook.user, "price_above", {"n": number})

    def disabled() -> Webhook | None:
        db.session.refresh(webhook)
        return None if webhook.is_active else webhook

    wait_for(disabled)
    rows = wait_for(lambda: all_finished(webhook.id))
    assert webhook.consecutive_failures >= 10
    assert "10 consecutive" in webhook.disabled_reason
    assert "HTTP 404" in webhook.disabled_reason

    def disabled_notices() -> list:
        return [mail for mail in mail_sink.to(owner) if "disabled" in mail["Subject"]]

    mails = wait_for(disabled_notices)
    time.sleep(1)  # let any second notice, which would be a bug, reach the sink
    assert len(disabled_notices()) == 1
    text = mails[0].get_payload(decode=True).decode()
    assert "My <Discord> bot" in mails[0]["Subject"]
    assert "HTTP 404" in text
    assert f"/webhooks/{webhook.id}/logs" in text
    failed = [row for row in rows if row.status == "failed"]
    skipped = [row for row in rows if row.status == "skipped"]
    assert len(failed) + len(skipped) == len(rows) >= 10
    assert len(receiver.requests) == len(failed)


def test_a_success_resets_the_consecutive_failure_count(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.reply(Reply(400), Reply(400))

    for number in range(2):
        events.trigger_event(webhook.user, "price_above", {"n": number})
        wait_for(lambda n=number: finished(webhook.id, n + 1))
    db.session.refresh(webhook)
    assert webhook.consecutive_failures == 2

    events.trigger_event(webhook.user, "price_above", {"n": 3})
    wait_for(lambda: finished(webhook.id, 3))
    db.session.refresh(webhook)
    assert (webhook.consecutive_failures, webhook.success_count, webhook.failure_count) == (
        0,
        1,
        2,
    )


def test_events_reach_only_their_owners_webhooks(make_webhook, make_user, receiver):
    alice, bob = make_user(), make_user()
    make_webhook(receiver.url, user=alice, events=["price_above"])
    bobs, _ = make_webhook(receiver.url, user=bob, events=["price_above"])

    triggered = events.trigger_event(alice, "price_above", {"who": "alice"})

    assert triggered.deliveries == 1
    wait_for(lambda: receiver.requests)
    assert deliveries_of(bobs.id) == []
    assert [json.loads(r.body)["data"] for r in receiver.requests] == [{"who": "alice"}]


def test_an_event_with_more_subscribers_than_a_batch_reaches_each_once(
    make_webhook, make_user, receiver
):
    owner = make_user()
    count = queue.EXPAND_BATCH + 7  # queued as two batches that a worker expands
    for number in range(count):
        make_webhook(f"{receiver.url}/{number}", user=owner, events=["price_above"])

    triggered = events.trigger_event(owner, "price_above", {"n": 1})

    assert triggered.deliveries == count
    wait_for(lambda: len(receiver.requests) >= count, timeout=60)
    paths = sorted(request.path for request in receiver.requests)
    assert paths == sorted(f"/hook/{number}" for number in range(count))


def test_unsubscribed_event_types_and_inactive_webhooks_get_nothing(make_webhook, make_user):
    owner = make_user()
    make_webhook("http://127.0.0.1:9/hook", user=owner, events=["price_below"])
    make_webhook("http://127.0.0.1:9/hook", user=owner, events=["price_above"], is_active=False)

    assert events.trigger_event(owner, "price_above", {}).deliveries == 0


def stored_delivery(webhook: Webhook) -> Delivery:
    """A delivery stored as trigger_event stores it, but not queued."""
    event_id = events.new_event_id()
    db.session.add(Event(id=event_id, user_id=webhook.user_id, event_type="price_above", data={}))
    row = Delivery(webhook_id=webhook.id, event_id=event_id)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_webhook_disabled_after_trigger_is_skipped(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    row = stored_delivery(webhook)  # then its owner disables the webhook
    webhooks.set_active(webhook, False)

    outcome = attempt.attempt_delivery(row.id)

    assert outcome.status == DeliveryStatus.SKIPPED
    db.session.refresh(row)
    assert row.status == "skipped" and row.attempts == 0
    assert receiver.requests == []


def test_counters_are_exact_under_concurrent_workers(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    receiver.default = Reply(200, delay=0.05)

    for number in range(24):
        events.trigger_event(webhook.user, "price_above", {"n": number})

    wait_for(lambda: finished(webhook.id, 24), timeout=60)
    db.session.refresh(webhook)
    assert webhook.success_count == 24
    assert len(receiver.requests) == 24


def test_every_delivery_line_names_the_event_and_the_webhook(make_webhook, receiver, caplog):
    webhook, _ = make_webhook(receiver.url)
    receiver.reply(Reply(500, "boom"))
    row = stored_delivery(webhook)  # not queued: this test makes the attempt itself

    with caplog.at_level("INFO", logger="app.services.delivery"):
        attempt.attempt_delivery(row.id)

    [line] = [r.getMessage() for r in caplog.records if r.name == "app.services.delivery"]
    assert f"event={row.event_id} webhook={webhook.id}" in line
    assert "status=scheduled code=500" in line and 'error="HTTP 500"' in line


def test_a_webhook_deleted_while_its_request_is_out_ends_quietly(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    webhook_id, engine = webhook.id, db.engine
    row = stored_delivery(webhook)  # not queued: this test makes the attempt itself

    def delete_then_answer(_received: object) -> Reply:
        # The owner deletes the webhook while the endpoint is still answering.
        with engine.begin() as connection:
            connection.execute(sa.delete(Webhook).where(Webhook.id == webhook_id))
        return Reply(200)

    receiver.answer = delete_then_answer

    outcome = attempt.attempt_delivery(row.id)

    assert outcome == attempt.Outcome(None)
    assert len(receiver.requests) == 1
    assert deliveries_of(webhook_id) == []


def test_a_retry_that_would_come_after_the_time_to_live_ends_expired(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url, events=["trade_executed"])
    receiver.reply(Reply(503, "busy"))

    events.trigger_event(webhook.user, "trade_executed", {}, expires_in=1)

    delivery = wait_for(lambda: expired_of(webhook.id))
    assert len(receiver.requests) == 1, "the retry, due after the deadline, is never sent"
    assert delivery.attempts == 1 and delivery.attempt_log[0].status_code == 503
    db.session.refresh(webhook)
    assert webhook.failure_count == 0 and webhook.consecutive_failures == 0, "not a failure"


def test_a_delivery_past_its_time_to_live_is_never_sent(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    delivery_id = unqueued_delivery(webhook, expires_at=utcnow() - timedelta(seconds=1))

    outcome = attempt.attempt_delivery(delivery_id)

    assert outcome.status == DeliveryStatus.EXPIRED
    row = db.session.get(Delivery, delivery_id)
    assert row.status == DeliveryStatus.EXPIRED and row.attempts == 0
    assert row.error.startswith("Expired at ") and receiver.requests == []


def test_price_alerts_expire_by_default_and_trades_never(make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/ttl", events=["price_above", "trade_executed"])
    before = utcnow()
    alert = events.trigger_event(webhook.user, "price_above", {})
    trade = events.trigger_event(webhook.user, "trade_executed", {})
    chosen = events.trigger_event(webhook.user, "trade_executed", {}, expires_in=60)

    def expiry(event_id: str):
        return db.session.scalar(
            sa.select(Delivery.expires_at).where(Delivery.event_id == event_id)
        )

    assert timedelta(seconds=899) < expiry(alert.event_id) - before < timedelta(seconds=901)
    assert expiry(trade.event_id) is None
    assert timedelta(seconds=59) < expiry(chosen.event_id) - before < timedelta(seconds=61)


def expired_of(webhook_id: int) -> Delivery | None:
    rows = [row for row in deliveries_of(webhook_id) if row.status == DeliveryStatus.EXPIRED]
    return rows[0] if rows else None


def unqueued_delivery(webhook: Webhook, **columns) -> int:
    """A delivery written straight to the database, never queued, so no worker takes it."""
    event = Event(id=events.new_event_id(), user_id=webhook.user_id, event_type="custom", data={})
    delivery = Delivery(
        webhook_id=webhook.id, event_id=event.id, next_attempt_at=utcnow(), **columns
    )
    db.session.add_all([event, delivery])
    db.session.commit()
    return delivery.id


def test_an_ordered_webhook_gets_one_delivery_at_a_time_in_firing_order(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url, events=["trade_executed", "position_added"])
    webhook.ordered = True
    db.session.commit()
    receiver.reply(Reply(503, "busy"))  # the first event needs a retry; the others wait for it

    fired = [
        events.trigger_event(webhook.user, event_type, {"n": n}).event_id
        for n, event_type in enumerate(["trade_executed", "position_added", "trade_executed"])
    ]

    wait_for(lambda: finished(webhook.id, count=3))
    sent = [request.headers["X-Webhook-Id"] for request in receiver.requests]
    assert sent == [fired[0], fired[0], fired[1], fired[2]]


def test_a_delivery_of_an_ordered_webhook_waits_behind_an_earlier_open_one(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    webhook.ordered = True
    db.session.commit()
    first = unqueued_delivery(webhook)
    second = unqueued_delivery(webhook)

    outcome = attempt.attempt_delivery(second)

    assert outcome.status == DeliveryStatus.PENDING and outcome.retry_in is not None
    row = db.session.get(Delivery, second)
    assert row.waiting_behind == first and row.status == DeliveryStatus.PENDING
    assert receiver.requests == []
    assert attempt.attempt_delivery(first).status == DeliveryStatus.SUCCEEDED
    db.session.expire_all()
    done = wait_for(lambda: finished(webhook.id, count=2))
    assert [row.status for row in done] == [DeliveryStatus.SUCCEEDED] * 2
    assert done[1].waiting_behind is None
