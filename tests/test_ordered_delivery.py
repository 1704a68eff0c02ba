"""Ordered webhooks with a real worker and receiver: replays go in firing order, and the queue
moves on past a head that fails for good and through a disable and enable, nothing lost or
sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.domain.status import OPEN_STATUSES
from app.extensions import db
from app.models import Delivery, Webhook, utcnow
from app.services import events, webhooks
from app.services.delivery import redelivery
from tests.support.receiver import Receiver
from tests.support.waiting import wait_for

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


def all_ended(webhook_id: int, count: int) -> list[Delivery] | None:
    db.session.expire_all()
    rows = list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.webhook_id == webhook_id).order_by(Delivery.id)
        )
    )
    ended = len(rows) == count and all(row.status not in OPEN_STATUSES for row in rows)
    return rows if ended else None


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
