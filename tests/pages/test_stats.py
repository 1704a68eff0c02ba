"""The figures behind the chart and the admin summary, counted in SQL."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import Delivery, Event, utcnow
from app.services import stats
from app.services.events import new_event_id
from app.template_helpers import CHART_HEIGHT, chart_bars


def add_delivery(webhook, created_at, success):
    event = Event(
        id=new_event_id(),
        user_id=webhook.user_id,
        event_type="custom",
        data={},
        created_at=created_at,
    )
    status = {True: "succeeded", False: "failed", None: "pending"}[success]
    db.session.add_all(
        [
            event,
            Delivery(
                webhook_id=webhook.id,
                event_id=event.id,
                status=status,
                success=success,
                created_at=created_at,
            ),
        ]
    )
    db.session.commit()


def test_hourly_counts_cover_the_last_24_hours(make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    quiet, _ = make_webhook("http://127.0.0.1:9/hook")
    now = utcnow().replace(minute=30)
    for success in (True, True, False, None):
        add_delivery(webhook, now - timedelta(minutes=5), success)
    add_delivery(webhook, now - timedelta(hours=3), False)
    add_delivery(webhook, now - timedelta(hours=23), True)
    add_delivery(webhook, now - timedelta(hours=25), True)  # too old to show

    counts = stats.hourly_deliveries([webhook.id, quiet.id], now=now)

    hours = counts[webhook.id]
    assert len(hours) == 24
    assert hours[-1].start == now.replace(minute=0, second=0, microsecond=0)
    assert (hours[-1].succeeded, hours[-1].failed) == (2, 1)
    assert (hours[-4].succeeded, hours[-4].failed) == (0, 1)
    assert (hours[0].succeeded, hours[0].failed) == (1, 0)
    assert sum(hour.total for hour in hours) == 5
    assert sum(hour.total for hour in counts[quiet.id]) == 0


def test_bars_scale_to_the_busiest_hour():
    hours = [stats.HourCount(utcnow(), succeeded=s, failed=f) for s, f in [(0, 0), (3, 1), (1, 1)]]
    empty, busiest, other = chart_bars(hours)
    assert empty.ok_height == 0 and empty.failed_height == 0
    assert busiest.ok_height + busiest.failed_height == CHART_HEIGHT
    assert busiest.failed_y == 0
    assert other.ok_height == other.failed_height == CHART_HEIGHT / 4


def test_success_rate():
    assert stats.success_rate(0, 0) is None
    assert stats.success_rate(3, 1) == 75.0


def test_user_counts_count_each_users_webhooks(make_webhook, make_user):
    """The last hour and the endpoints to look at: tests/pages/test_admin_overview.py."""
    owner = make_user()
    make_webhook("http://127.0.0.1:9/hook", user=owner)
    second, _ = make_webhook("http://127.0.0.1:9/hook", user=owner)
    second.is_active = False
    second.success_count, second.failure_count = 5, 2
    db.session.commit()

    [mine] = [row for row in stats.user_counts() if row.user.id == owner.id]

    assert (mine.webhooks, mine.active, mine.succeeded, mine.failed) == (2, 1, 5, 2)
