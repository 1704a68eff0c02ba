"""The admin's overview: last-hour figures that add up, "every endpoint answered" only when
it is true, and the drill-down from an endpoint to its deliveries, read-only.

The figures and the all-clear are about every webhook in the database, so those tests run on
a database of their own (`empty_app`); the drill-down shares the session's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, Webhook, utcnow
from app.services import stats, users, webhooks
from app.services.delivery import test_send
from app.services.events import new_event_id
from tests.pages.conftest import Browser, page_client, text
from tests.support.receiver import Reply


def add(webhook: Webhook, status: DeliveryStatus, minutes_ago: int = 10, attempts: int = 0):
    created = utcnow() - timedelta(minutes=minutes_ago)
    event = Event(
        id=new_event_id(), user_id=webhook.user_id, event_type="custom", data={}, created_at=created
    )
    finished = {DeliveryStatus.SUCCEEDED: True, DeliveryStatus.FAILED: False}
    delivery = Delivery(
        webhook_id=webhook.id,
        event_id=event.id,
        status=status,
        attempts=attempts,
        success=finished.get(status, False if attempts else None),
        created_at=created,
    )
    db.session.add_all([event, delivery])
    db.session.commit()
    return delivery


def hook(owner, name="Hook") -> Webhook:
    return webhooks.register_webhook(
        owner, webhooks.WebhookInput(name=name, url="http://127.0.0.1:9/hook", events=["custom"])
    )[0]


def part(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}">', 1)[1].split("<", 1)[0]


def test_every_status_counts_in_exactly_one_group():
    grouped = [status for statuses in stats.GROUPS.values() for status in statuses]
    assert sorted(grouped) == sorted(DeliveryStatus)


def test_the_last_hour_adds_up(empty_app):
    with empty_app.app_context():
        admin = users.create_user("admin@example.com", "a long password", is_admin=True)
        webhook = hook(users.create_user("owner@example.com", "a long password"))
        made = {
            DeliveryStatus.SUCCEEDED: 3,
            DeliveryStatus.FAILED: 2,
            DeliveryStatus.PENDING: 1,
            DeliveryStatus.SENDING: 1,
            DeliveryStatus.SCHEDULED: 2,
            DeliveryStatus.SKIPPED: 1,
            DeliveryStatus.EXPIRED: 1,
        }
        for status, count in made.items():
            for _ in range(count):
                add(webhook, status, attempts=1 if status == DeliveryStatus.SCHEDULED else 0)
        add(webhook, DeliveryStatus.FAILED, minutes_ago=61)  # before the hour: not counted

        hour = stats.last_hour()
        assert (hour.delivered, hour.failed, hour.in_flight, hour.not_sent) == (3, 2, 4, 2)
        assert hour.deliveries == 9 == hour.delivered + hour.failed + hour.in_flight
        assert hour.success_rate == 60.0

        page = text(Browser(page_client(empty_app), admin).get("/admin/"))
    figures = {name: part(page, name) for name in ("delivered", "failed", "in-flight", "not-sent")}
    assert figures == {"delivered": "3", "failed": "2", "in-flight": "4", "not-sent": "2"}
    assert part(page, "deliveries-last-hour") == "9"
    assert "In flight: queued, sending, or waiting for a retry or the rate limit." in page


def test_every_endpoint_answered_only_when_it_is_true(empty_app):
    with empty_app.app_context():
        admin = users.create_user("admin@example.com", "a long password", is_admin=True)
        owner = users.create_user("owner@example.com", "a long password")
        good, bad = hook(owner, "Good"), hook(owner, "Bad")
        add(good, DeliveryStatus.SUCCEEDED)
        add(bad, DeliveryStatus.SUCCEEDED)
        browser = Browser(page_client(empty_app), admin)

        def overview() -> str:
            db.session.expire_all()
            return text(browser.get("/admin/"))

        assert 'id="all-answered"' in overview()

        def troubled(why: str) -> None:
            page = overview()
            assert 'id="all-answered"' not in page
            listed = page.split('id="troubled"', 1)[1].split("</table>", 1)[0]
            assert f'id="troubled-{bad.id}"' in listed and f'id="troubled-{good.id}"' not in listed
            assert why in listed
            assert f'href="/admin/webhooks/{bad.id}/logs"' in listed
            assert part(page, "troubled-count") == "1"

        failed = add(bad, DeliveryStatus.FAILED)  # then it answered again: still not all good
        troubled("1 failed in the last hour")
        failed.created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        assert 'id="all-answered"' in overview()

        retry = add(bad, DeliveryStatus.SCHEDULED, attempts=1)
        troubled("1 waiting for a retry")
        retry.status = DeliveryStatus.SUCCEEDED
        bad.consecutive_failures = 3
        db.session.commit()
        troubled("3 failed deliveries in a row")
        bad.consecutive_failures = 0
        db.session.commit()
        webhooks.set_active(bad, False)
        troubled("disabled: Disabled by its owner.")


@pytest.fixture
def delivered(make_webhook, make_user, receiver):
    """Another user's webhook with one failed and one successful test send in its history."""
    webhook, secret = make_webhook(receiver.url, user=make_user(), events=["custom"])
    receiver.reply(Reply(500, "down"), Reply(200, "ok"))
    test_send.test_webhook(webhook)
    test_send.test_webhook(webhook)
    return webhook, secret


def test_an_admin_reads_anyones_deliveries_without_acting_on_them(browser, delivered):
    webhook, secret = delivered
    admin = browser(is_admin=True)
    assert f'href="/admin/webhooks/{webhook.id}/logs"' in text(admin.get("/admin/"))

    response = admin.get(f"/admin/webhooks/{webhook.id}/logs?status=failed")
    page = text(response)
    assert response.status_code == 200
    assert "an admin’s read-only view" in page and webhook.user.email in page
    [failed] = db.session.scalars(
        sa.select(Delivery.id).where(
            Delivery.webhook_id == webhook.id, Delivery.status == DeliveryStatus.FAILED
        )
    )
    assert f'id="delivery-{failed}"' in page and "down" in page
    assert "/retry" not in page and "Redeliver" not in page and "Replay a time range" not in page
    assert secret not in page and "/secret" not in page
    assert f'href="/admin/webhooks/{webhook.id}/logs">Clear</a>' in page
    assert f'data-poll="/admin/webhooks/{webhook.id}/logs/rows?status=failed"' in page

    rows = admin.get(f"/admin/webhooks/{webhook.id}/logs/rows?ids={failed}").get_json()
    assert list(rows["rows"]) == [str(failed)] and "/retry" not in rows["rows"][str(failed)]

    # The owner's own page keeps its actions and its own links.
    own = text(browser(webhook.user).get(f"/webhooks/{webhook.id}/logs"))
    assert "Redeliver" in own and f'data-poll="/webhooks/{webhook.id}/logs/rows"' in own


def test_the_drill_down_is_for_admins_only(browser, delivered):
    webhook, _ = delivered
    for path in (f"/admin/webhooks/{webhook.id}/logs", f"/admin/webhooks/{webhook.id}/logs/rows"):
        assert browser().get(path).status_code == 403
        assert browser(webhook.user).get(path).status_code == 403
    missing = browser(is_admin=True).get("/admin/webhooks/999999999/logs")
    assert missing.status_code == 404 and "No webhook with id 999999999." in text(missing)
