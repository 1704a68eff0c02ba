"""Ordered webhooks with a real worker and receiver: replays go in firing order, and the queue
moves on past a head that fails for good and through a disable and enable, nothing lost or
sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Webhook, utcnow
from app.services import events, queue, webhooks
from app.services.delivery import attempt, redelivery
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import all_ended, wait_for

pytestmark = pytest.mark.usefixtures("worker")

# Enough that a random order (event ids are random) is all but never the firing order.
MANY = 10


def ordered_webhook(make_webhook, url: str) -> Webhook:
    webhook, _ = make_webhook(url, events=["trade_executed"])
    webhook.ordered = True
    db.session.commit()
    return webhook


def fire(webhook: Webhook, count: int) -> list[str]:
    owner = webhook.user
    return [events.trigger_event(owner, "trade_executed", {"n": n}).event_id for n in range(count)]


def sent_ids(receiver: Receiver) -> list[str]:
    return [request.headers["X-Webhook-Id"] for request in receiver.requests]


def test_a_replay_to_an_ordered_webhook_goes_in_firing_order(make_webhook, receiver):
    webhook = ordered_webhook(make_webhook, receiver.url)
    since = utcnow() - timedelta(minutes=1)
    fired = fire(webhook, MANY)
    wait_for(lambda: all_ended(webhook.id, MANY))
    assert sent_ids(receiver) == fired

    replayed = redelivery.replay(webhook, since)

    assert replayed.deliveries == MANY
    wait_for(lambda: all_ended(webhook.id, 2 * MANY))
    assert sent_ids(receiver)[MANY:] == fired


def test_a_replay_of_what_an_ordered_webhook_missed_goes_in_firing_order(make_webhook, receiver):
    webhook = ordered_webhook(make_webhook, receiver.url)
    since = utcnow() - timedelta(minutes=1)
    delivered = fire(webhook, 2)
    wait_for(lambda: all_ended(webhook.id, 2))
    webhooks.set_active(webhook, False)
    missed = fire(webhook, MANY)  # none is delivered: the webhook is disabled
    webhooks.set_active(webhook, True)

    replayed = redelivery.replay(webhook, since, missed=True)

    # The delivered two again, then the missed ones, each once, as they were fired.
    assert replayed.deliveries == 2 + MANY
    wait_for(lambda: all_ended(webhook.id, 2 + 2 + MANY))
    assert sent_ids(receiver) == delivered + delivered + missed


def test_an_ordered_webhook_moves_on_when_its_head_fails_for_good(make_webhook, receiver):
    webhook = ordered_webhook(make_webhook, receiver.url)
    tries = attempt.retry_policy().max_attempts  # the tests' short delays: 1, 1, 1 s
    receiver.reply(*[Reply(503, "down")] * tries)  # only the head is sent until it ends

    fired = fire(webhook, 4)

    rows = wait_for(lambda: all_ended(webhook.id, 4), timeout=60)
    assert [row.status for row in rows] == [DeliveryStatus.FAILED] + [DeliveryStatus.SUCCEEDED] * 3
    assert rows[0].attempts == tries
    assert sent_ids(receiver) == [fired[0]] * tries + fired[1:]


@pytest.fixture
def hour_long_retry(app, monkeypatch) -> None:
    """A failed attempt is retried only in an hour (the worker runs in this process), so that
    nothing of the webhook's falls due by itself while a test disables and enables it."""
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS", (3600,))


def head_waits_for_its_retry(webhook: Webhook, receiver: Receiver, count: int) -> list[str]:
    """Fire `count` events; the first is answered 503 and scheduled an hour out, the others
    wait behind it. Returns the events' ids."""
    receiver.reply(Reply(503, "down"))
    fired = fire(webhook, count)

    def all_waiting() -> list[Delivery] | None:
        db.session.expire_all()
        rows = list(
            db.session.scalars(
                sa.select(Delivery).where(Delivery.webhook_id == webhook.id).order_by(Delivery.id)
            )
        )
        head, behind = rows[0], rows[1:]
        if head.status != DeliveryStatus.SCHEDULED or head.attempts != 1:
            return None
        # Each put back until the head's retry, not for the short recheck it gets while the
        # head is being sent: then none looks again by itself during the test.
        due = head.next_attempt_at
        waiting = all(row.waiting_behind and row.next_attempt_at >= due for row in behind)
        return rows if waiting else None

    wait_for(all_waiting)
    return fired


def retry_falls_due(webhook: Webhook) -> None:
    """The head's retry time comes (moved to now, as an hour passing would), and it is queued."""
    head = db.session.scalars(
        sa.select(Delivery).where(Delivery.webhook_id == webhook.id).order_by(Delivery.id)
    ).first()
    head.next_attempt_at = utcnow()
    db.session.commit()
    queue.enqueue_deliveries([head.id])


@pytest.mark.usefixtures("hour_long_retry")
def test_an_ordered_webhook_disabled_and_enabled_while_deliveries_wait_sends_each_once_in_order(
    make_webhook, receiver
):
    webhook = ordered_webhook(make_webhook, receiver.url)
    fired = head_waits_for_its_retry(webhook, receiver, 5)

    webhooks.set_active(webhook, False)
    webhooks.set_active(webhook, True)
    retry_falls_due(webhook)

    rows = wait_for(lambda: all_ended(webhook.id, 5))
    assert [row.status for row in rows] == [DeliveryStatus.SUCCEEDED] * 5
    assert sent_ids(receiver) == [fired[0]] + fired


@pytest.mark.usefixtures("hour_long_retry")
def test_an_ordered_webhook_disabled_when_its_deliveries_turn_comes_skips_them_and_moves_on(
    make_webhook, receiver
):
    webhook = ordered_webhook(make_webhook, receiver.url)
    fired = head_waits_for_its_retry(webhook, receiver, 5)
    since = utcnow() - timedelta(minutes=1)

    webhooks.set_active(webhook, False)
    retry_falls_due(webhook)

    # Each is skipped in its turn, none sent: the head's skip queues the next, and so on.
    rows = wait_for(lambda: all_ended(webhook.id, 5))
    assert [row.status for row in rows] == [DeliveryStatus.SKIPPED] * 5
    assert sent_ids(receiver) == [fired[0]]
    webhooks.set_active(webhook, True)
    (later,) = fire(webhook, 1)
    wait_for(lambda: all_ended(webhook.id, 6))
    assert sent_ids(receiver) == [fired[0], later], "not held behind the skipped ones"

    # Nothing is lost: they are what it missed, and a replay sends each once, in order.
    replayed = redelivery.replay(webhook, since, failed_only=True, missed=True)

    assert replayed.deliveries == 5
    wait_for(lambda: all_ended(webhook.id, 11))
    assert sent_ids(receiver) == [fired[0], later] + fired
