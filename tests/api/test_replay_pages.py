"""A replay over a long range is paged: at most REPLAY_PAGE deliveries a request, oldest first,
and the answer says where the rest starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Delivery
from app.services.delivery import redelivery
from tests.support.waiting import wait_for


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redelivery, "REPLAY_PAGE", 3)


@pytest.mark.parametrize("webhook_filter", [None, {"data.side": "buy"}])
def test_missed_events_are_replayed_a_page_at_a_time(api, hook_url, small_pages, webhook_filter):
    hook = api.create_webhook(hook_url, events=["custom"], filter=webhook_filter)
    path = f"/api/webhooks/{hook['id']}"
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert api.patch(path, json={"is_active": False}).status_code == 200
    missed = []
    for number in range(7):
        for side in ("buy", "sell") if webhook_filter else ("buy",):
            data = {"n": number, "side": side}
            answer = api.post("/api/events", json={"event": "custom", "data": data})
            if side == "buy":
                missed.append(answer.get_json()["id"])
    assert api.patch(path, json={"is_active": True}).status_code == 200

    pages = []
    body = {"since": since, "missed": True}
    while True:
        answer = api.post(f"{path}/replay", json=body)
        assert answer.status_code == 202, answer.get_json()
        pages.append(answer.get_json()["deliveries"])
        if "next_since" not in answer.get_json():
            break
        body = {**body, "since": answer.get_json()["next_since"]}

    assert pages == [3, 3, 1]
    queued = db.session.scalars(
        sa.select(Delivery.event_id).where(Delivery.webhook_id == hook["id"])
    )
    assert sorted(queued) == sorted(missed), "each missed event once, oldest first"


def test_a_range_that_fits_in_a_page_says_nothing_more(api, hook_url, small_pages):
    hook = api.create_webhook(hook_url, events=["custom"])
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    answer = api.post(f"/api/webhooks/{hook['id']}/replay", json={"since": since, "missed": True})
    assert answer.get_json() == {"deliveries": 0}


def test_a_page_never_sends_again_what_an_earlier_page_sent(api, hook_url, small_pages, worker):
    """Each page waits until the one before has been delivered: the deliveries a page queued
    are new rows, finished and in the range by their own time, yet never replayed again."""
    hook = api.create_webhook(hook_url, events=["custom"])
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    fired = [
        api.post("/api/events", json={"event": "custom", "data": {"n": n}}).get_json()["id"]
        for n in range(7)
    ]

    def all_delivered() -> bool:
        statuses = db.session.scalars(
            sa.select(Delivery.status).where(Delivery.webhook_id == hook["id"])
        ).all()
        return all(status == "succeeded" for status in statuses)

    pages, body = [], {"since": since}
    while True:
        wait_for(all_delivered)
        answer = api.post(f"/api/webhooks/{hook['id']}/replay", json=body)
        assert answer.status_code == 202, answer.get_json()
        pages.append(answer.get_json()["deliveries"])
        if "next_since" not in answer.get_json():
            break
        body = {"since": answer.get_json()["next_since"]}

    assert pages == [3, 3, 1]
    queued = db.session.scalars(
        sa.select(Delivery.event_id).where(Delivery.webhook_id == hook["id"])
    ).all()
    assert sorted(queued) == sorted(fired * 2), "each event sent, then replayed once"
