"""GET /readyz: database, broker, overdue deliveries, and a worker and beat seen lately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from app.celery_heartbeats import Scheduler
from app.extensions import db
from app.models import Delivery, Heartbeat, utcnow
from app.services import events, heartbeats, users, webhooks
from tests.support.waiting import wait_for


def test_ready_once_a_real_worker_and_beat_were_seen(app, ctx, client, worker, tmp_path):
    def seen(role: str) -> bool:
        return client.get("/readyz").get_json()[role]["alive"] >= 1

    wait_for(lambda: seen("worker"), timeout=30)  # the session's worker, from its bootstep
    scheduler = Scheduler(app=app.extensions["celery"], schedule_filename=str(tmp_path / "beat"))
    try:
        assert scheduler.tick() <= heartbeats.INTERVAL_SECONDS  # beat wakes for its next one
    finally:
        scheduler.close()

    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["ready"] is True and body["problems"] == []
    assert body["database"] == body["broker"] == "ok"
    assert isinstance(body["overdue_deliveries"], int)
    assert body["beat"]["last_seen_seconds_ago"] < 5
    assert client.get("/healthz").get_json() == {"database": "ok", "broker": "ok"}


def test_not_ready_names_the_worker_and_beat_never_seen(empty_app):
    response = empty_app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert body["problems"] == ["no worker seen in the last 60 s", "no beat seen in the last 60 s"]
    assert body["worker"] == {"alive": 0, "last_seen_seconds_ago": None}
    assert body["overdue_deliveries"] == 0


def test_a_heartbeat_older_than_a_minute_is_not_enough(empty_app):
    client = empty_app.test_client()
    with freeze_time("2026-03-01 12:00:00"), empty_app.app_context():
        heartbeats.record(heartbeats.WORKER, "host:1")
        heartbeats.record(heartbeats.BEAT, "host:2")
        assert client.get("/readyz").status_code == 200
    with freeze_time("2026-03-01 12:00:59"):
        assert client.get("/readyz").status_code == 200
    with freeze_time("2026-03-01 12:01:01"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["beat"] == {"alive": 0, "last_seen_seconds_ago": 61.0}


def test_heartbeats_of_stopped_processes_are_removed_after_a_day(empty_app):
    with empty_app.app_context():
        with freeze_time("2026-03-01 12:00:00"):
            heartbeats.record(heartbeats.WORKER, "host:1")
            heartbeats.record(heartbeats.WORKER, "host:1")  # its own row, rewritten
        with freeze_time("2026-03-02 12:00:01"):
            heartbeats.record(heartbeats.WORKER, "host:2")
        rows = db.session.scalars(db.select(Heartbeat)).all()
        assert [(row.instance, row.seen_at) for row in rows] == [
            ("host:2", datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC))
        ]
        db.session.remove()


def test_not_ready_names_what_is_down(make_app):
    broker_down = make_app(CELERY_BROKER_URL="redis://127.0.0.1:9/0").test_client()
    response = broker_down.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["broker"] == "down"
    assert "broker is down" in response.get_json()["problems"]

    database_down = make_app(DATABASE_URL="postgresql+psycopg://127.0.0.1:9/none").test_client()
    response = database_down.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["problems"][0] == "database is down"


def test_overdue_deliveries_are_reported_without_making_it_unready(empty_app):
    """A backlog drains by itself: taking web processes out of service would not send it."""
    with empty_app.app_context():
        owner = users.create_user("overdue@example.com", "a long password")
        webhook, _ = webhooks.register_webhook(
            owner,
            webhooks.WebhookInput(name="Late", url="http://127.0.0.1:9/", events=["price_below"]),
        )
        event = events.trigger_event(owner, "price_above", {"n": 1})  # nothing subscribed
        db.session.add(
            Delivery(
                webhook_id=webhook.id,
                event_id=event.event_id,
                next_attempt_at=utcnow() - timedelta(minutes=2),
            )
        )
        db.session.commit()
        heartbeats.record(heartbeats.WORKER, "host:1")
        heartbeats.record(heartbeats.BEAT, "host:2")
        db.session.remove()
    response = empty_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["overdue_deliveries"] == 1
