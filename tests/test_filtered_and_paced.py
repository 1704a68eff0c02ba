"""With a real worker and receivers: a filtered-out event is never delivered, and a webhook's
own rate limit postpones the excess (never drops it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.domain.delivery_rate import Endpoint, RateLimit, limit_for
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, DeliveryRateWindow, utcnow
from app.services import events, queue, webhooks
from app.services.delivery.claim import claim
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def deliveries_of(webhook_id: int) -> list[Delivery]:
    db.session.expire_all()
    query = sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
    return list(db.session.scalars(query))


def test_an_event_that_does_not_pass_the_filter_is_never_delivered(make_user, make_webhook):
    owner = make_user()
    wanted, everything = Receiver().start(), Receiver().start()
    try:
        events_ = ["trade_executed"]
        filtered, _ = make_webhook(
            wanted.url,
            user=owner,
            events=events_,
            filter='{"data": {"symbol": {"$in": ["AAPL", "TSLA"]}}, "data.side": "buy"}',
        )
        make_webhook(everything.url, user=owner, events=events_)

        skipped = events.trigger_event(owner, "trade_executed", {"symbol": "MSFT", "side": "buy"})
        sold = events.trigger_event(owner, "trade_executed", {"symbol": "AAPL", "side": "sell"})
        bought = events.trigger_event(owner, "trade_executed", {"symbol": "TSLA", "side": "buy"})

        assert (skipped.deliveries, sold.deliveries, bought.deliveries) == (1, 1, 2)
        # Fired last: once it has reached both, the worker has long had the others.
        wait_for(lambda: len(everything.requests) == 3 and wanted.requests)
        time.sleep(0.5)
        (received,) = wanted.requests
        assert received.headers["X-Webhook-Id"] == bought.event_id
        assert [row.event_id for row in deliveries_of(filtered.id)] == [bought.event_id]
    finally:
        wanted.stop()
        everything.stop()


def test_a_delivery_made_before_a_filter_change_still_goes(
    app, monkeypatch, make_webhook, receiver
):
    # Its retry is an hour out (the worker runs in this process): it waits through the change.
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS", (3600,))
    aapl, msft = {"data.symbol": "AAPL"}, {"data.symbol": "MSFT"}
    webhook, _ = make_webhook(receiver.url, events=["trade_executed"], filter=aapl)
    receiver.reply(Reply(503, "down"))
    before = events.trigger_event(webhook.user, "trade_executed", {"symbol": "AAPL"})
    assert before.deliveries == 1
    (waiting,) = wait_for(
        lambda: [row for row in deliveries_of(webhook.id) if row.status == DeliveryStatus.SCHEDULED]
    )

    webhooks.update_webhook(webhook, webhooks.WebhookInput(filter=msft))
    after = events.trigger_event(webhook.user, "trade_executed", {"symbol": "AAPL"})

    assert after.deliveries == 0, "the new filter decides for the events fired from now on"
    waiting.next_attempt_at = utcnow()  # its retry time comes, as an hour passing would
    db.session.commit()
    queue.enqueue_deliveries([waiting.id])
    wait_for(lambda: deliveries_of(webhook.id)[0].status == DeliveryStatus.SUCCEEDED)
    sent = [request.headers["X-Webhook-Id"] for request in receiver.requests]
    assert sent == [before.event_id] * 2
    assert [row.event_id for row in deliveries_of(webhook.id)] == [before.event_id]


def wait_for_room_in_this_minute(margin: float = 15) -> None:
    """Start a test about a minute's window with `margin` seconds of it left at least."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.1)


def test_a_webhook_allowed_two_a_minute_has_its_third_delivery_postponed(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url, rate_limit="2/minute")
    wait_for_room_in_this_minute()
    window = int(time.time()) // 60 * 60

    for number in range(3):
        events.trigger_event(webhook.user, "price_above", {"n": number})

    def settled() -> list[Delivery] | None:
        rows = deliveries_of(webhook.id)
        postponed = [row for row in rows if row.rate_window is not None]
        done = [row for row in rows if row.status == DeliveryStatus.SUCCEEDED]
        return postponed + done if len(postponed) == 1 and len(done) == 2 else None

    # Order is not guaranteed: whichever of the three comes third is the one postponed.
    third, *_ = wait_for(settled)
    # Postponed to the next window: not an attempt, not a failure, not dropped.
    assert (third.status, third.attempts, third.rate_window) == ("pending", 0, window + 60)
    assert third.next_attempt_at >= datetime.fromtimestamp(window + 60, UTC)
    time.sleep(0.5)
    assert len(receiver.requests) == 2
    db.session.refresh(webhook)
    assert (webhook.success_count, webhook.failure_count) == (2, 0)
    webhooks.delete_webhook(webhook)  # its postponed delivery with it: the receiver stops now


def test_every_delivery_over_a_webhooks_own_limit_arrives_in_later_windows(make_webhook, receiver):
    # The session's WEBHOOK_RATE_LIMIT is 1000/second: only the webhook's own limit holds here.
    webhook, _ = make_webhook(receiver.url, rate_limit="3/second")

    for number in range(10):
        events.trigger_event(webhook.user, "price_above", {"n": number})

    wait_for(
        lambda: all(row.status == "succeeded" for row in deliveries_of(webhook.id)), timeout=30
    )
    assert len(receiver.requests) == 10
    endpoint = Endpoint(webhook.user_id, webhook.url)  # the budget is the owner's URL's
    counts = db.session.scalars(
        sa.select(DeliveryRateWindow.count).where(
            DeliveryRateWindow.owner_id == endpoint.owner_id,
            DeliveryRateWindow.url_sha256 == endpoint.url_sha256,
        )
    ).all()
    # Counted in the database (the tests set no REDIS_URL): at most 3 in each second.
    assert sum(counts) == 10 and max(counts) <= 3, counts


@pytest.mark.parametrize(
    ("format_name", "own", "expected"),
    [
        ("json", None, RateLimit(10, 60)),
        ("discord", None, RateLimit(30, 60)),
        ("slack", None, RateLimit(1, 1)),
        ("telegram", None, RateLimit(20, 60)),
        ("discord", "5/second", RateLimit(5, 1)),
        ("json", "2/hour", RateLimit(2, 3600)),
    ],
)
def test_the_limit_in_force_is_the_webhooks_own_else_its_formats(format_name, own, expected):
    assert limit_for(own, format_name, RateLimit(10, 60)) == expected


def test_the_claim_reads_the_webhooks_limit(make_webhook, receiver, ctx):
    # Not subscribed to `custom`: the delivery made by hand is the only one, and never queued.
    webhook, _ = make_webhook(receiver.url, format="slack")
    fired = events.trigger_event(webhook.user, "custom", {})
    delivery = Delivery(webhook_id=webhook.id, event_id=fired.event_id, status="pending")
    db.session.add(delivery)
    db.session.commit()
    claimed = claim(delivery.id)
    assert claimed is not None and claimed.rate_limit == RateLimit(1, 1)
    webhooks.update_webhook(webhook, webhooks.WebhookInput(rate_limit="7/minute"))
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(lease_until=None, status="pending")
    )
    db.session.commit()
    assert claim(delivery.id).rate_limit == RateLimit(7, 60)
