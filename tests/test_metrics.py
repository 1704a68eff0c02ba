"""GET /metrics: who may read it, and counts that match what a real worker did."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app import config, queues
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, utcnow
from app.services import events, operator_keys, users
from tests.support.processes import PrivateRedis
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and labels, as Prometheus itself parses the text."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def operator_key(ctx: None) -> str:
    return operator_keys.create_key("prometheus")[1]


def scrape(client, key: str) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return samples(response.get_data(as_text=True))


def test_metrics_need_an_operator_key(client, make_user, operator_key):
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")

    token = users.create_api_token(make_user())
    forbidden = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert forbidden.status_code == 403
    assert forbidden.get_json()["error"]["code"] == "forbidden"

    unknown = client.get("/metrics", headers={"Authorization": "Bearer spk_not-a-key"})
    assert unknown.status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic abc"}).status_code == 401

    assert "signalpost_deliveries_total" in {name for name, _ in scrape(client, operator_key)}


def test_a_revoked_operator_key_is_refused(client, operator_key):
    key = operator_keys.key_for(operator_key)
    operator_keys.revoke_key(key.id)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {operator_key}"})
    assert response.status_code == 401


def test_metrics_can_be_public(make_app):
    public = make_app(SIGNALPOST_METRICS_PUBLIC="true").test_client()
    response = public.get("/metrics")
    assert response.status_code == 200
    assert "signalpost_webhooks_disabled" in response.get_data(as_text=True)


def test_the_settings_are_checked_at_start(tmp_path: Path, monkeypatch):
    with pytest.raises(config.ConfigError, match="SIGNALPOST_METRICS_PUBLIC"):
        config.load(tmp_path, {"SIGNALPOST_METRICS_PUBLIC": "sometimes"})
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(config.ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        config.load(tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(blocked / "metrics")})
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert config.load(tmp_path)["METRICS_DIR"] == str(tmp_path / "metrics")


def _quiet() -> bool:
    """No delivery of an earlier test is due around now: the counts are ours alone.

    Rows left open long ago (their message lost to a broker some test cut off) are never sent
    here, where no beat runs; what is due within half a minute either way may be.
    """
    now = utcnow()
    return not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(
            Delivery.status.in_(OPEN_STATUSES),
            Delivery.next_attempt_at > now - timedelta(seconds=30),
            Delivery.next_attempt_at < now + timedelta(seconds=30),
        )
    )


def _settled(event_ids: list[str]) -> bool:
    return not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(Delivery.event_id.in_(event_ids), Delivery.status.in_(OPEN_STATUSES))
    )


@pytest.fixture
def failing() -> Iterator[Receiver]:
    server = Receiver().start()
    server.default = Reply(500)
    yield server
    server.stop()


def test_counts_are_exact_after_real_deliveries(
    app, client, worker, receiver, failing, make_user, make_webhook, operator_key
):
    healthy = receiver
    owner = make_user()
    make_webhook(healthy.url, user=owner, events=["price_above"])
    make_webhook(failing.url, user=owner, events=["price_below"])
    wait_for(_quiet, timeout=60)
    before = scrape(client, operator_key)

    fired = [events.trigger_event(owner, "price_above", {"n": n}).event_id for n in range(5)]
    fired += [events.trigger_event(owner, "price_below", {"n": n}).event_id for n in range(2)]
    wait_for(lambda: _settled(fired), timeout=60)
    attempts = 5 + 2 * (len(app.config["WEBHOOK_RETRY_DELAYS"]) + 1)

    def all_counted() -> dict | None:
        """The worker counts an attempt just after committing it: the last may lag the rows."""
        scraped = scrape(client, operator_key)
        counted = value(scraped, "signalpost_attempt_duration_seconds_count")
        return (
            scraped
            if counted - value(before, "signalpost_attempt_duration_seconds_count") >= attempts
            else None
        )

    after = wait_for(all_counted, timeout=10)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    retries = len(app.config["WEBHOOK_RETRY_DELAYS"])  # 3: each failing delivery tries 4 times
    assert len(healthy.requests) == 5 and len(failing.requests) == 2 * (retries + 1)
    assert grew("signalpost_deliveries_total", status="succeeded") == 5
    assert grew("signalpost_deliveries_total", status="scheduled") == 2 * retries
    assert grew("signalpost_deliveries_total", status="failed") == 2
    assert grew("signalpost_attempts_total", status_class="2xx") == 5
    assert grew("signalpost_attempts_total", status_class="5xx") == 2 * (retries + 1)
    assert grew("signalpost_attempts_total", status_class="none") == 0
    assert grew("signalpost_attempt_duration_seconds_count") == 5 + 2 * (retries + 1)
    assert grew("signalpost_attempt_duration_seconds_bucket", le="+Inf") == 13
    assert grew("signalpost_attempt_duration_seconds_sum") > 0


def test_gauges_read_the_database_at_scrape_time(client, make_webhook, operator_key):
    before = scrape(client, operator_key)
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", is_active=False)
    event = events.trigger_event(webhook.user, "price_above", {"n": 1})  # nothing subscribed
    late = Delivery(
        webhook_id=webhook.id,
        event_id=event.event_id,
        status=DeliveryStatus.PENDING,
        next_attempt_at=utcnow() - timedelta(minutes=2),
    )
    due_now = Delivery(
        webhook_id=webhook.id,
        event_id=event.event_id,
        status=DeliveryStatus.SCHEDULED,
        next_attempt_at=utcnow() - timedelta(seconds=10),
    )
    abandoned = Delivery(
        webhook_id=webhook.id,
        event_id=event.event_id,
        status=DeliveryStatus.SENDING,
        next_attempt_at=utcnow() - timedelta(minutes=5),
        lease_until=utcnow() - timedelta(minutes=3),
    )
    db.session.add_all([late, due_now, abandoned])
    db.session.commit()
    after = scrape(client, operator_key)
    # Leave nothing for the worker of later tests to find and send.
    db.session.execute(sa.delete(Delivery).where(Delivery.webhook_id == webhook.id))
    db.session.commit()

    def grew(name: str) -> float:
        return value(after, name) - value(before, name)

    assert grew("signalpost_webhooks_disabled") == 1
    assert grew("signalpost_deliveries_overdue") == 2  # not the one due for 10 seconds only
    assert value(after, "signalpost_broker_up") == 1


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


def _publish(app: Flask, queue: str, count: int) -> None:
    celery = app.extensions["celery"]
    for number in range(count):
        celery.send_task(queues.PURGE_LOGS, args=(), queue=queue, kwargs={"n": number})


def test_queue_depths_come_from_redis(make_app, private_redis, operator_key):
    app = make_app(CELERY_BROKER_URL=private_redis.url, SIGNALPOST_METRICS_PUBLIC="true")
    _publish(app, queues.DELIVERIES, 3)
    _publish(app, queues.RETRIES, 1)
    scraped = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert value(scraped, "signalpost_queue_depth", queue=queues.DELIVERIES) == 3
    assert value(scraped, "signalpost_queue_depth", queue=queues.RETRIES) == 1
    assert value(scraped, "signalpost_queue_depth", queue=queues.DEFAULT) == 0


def test_queue_depths_come_from_the_embedded_broker(make_app, tmp_path):
    app = make_app(
        CELERY_BROKER_URL="filesystem://localhost/",
        SIGNALPOST_BROKER_DIR=str(tmp_path / "broker"),
        SIGNALPOST_METRICS_PUBLIC="true",
    )
    _publish(app, queues.DEFAULT, 2)
    scraped = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert value(scraped, "signalpost_queue_depth", queue=queues.DEFAULT) == 2
    assert value(scraped, "signalpost_queue_depth", queue=queues.DELIVERIES) == 0


def test_a_broker_that_does_not_answer_leaves_the_queues_out(make_app):
    app = make_app(CELERY_BROKER_URL="redis://127.0.0.1:9/0", SIGNALPOST_METRICS_PUBLIC="true")
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    scraped = samples(response.get_data(as_text=True))
    assert value(scraped, "signalpost_broker_up") == 0
    assert not [name for name, _ in scraped if name == "signalpost_queue_depth"]


def test_a_database_that_is_down_leaves_its_gauges_out(make_app, operator_key):
    down = make_app(DATABASE_URL="postgresql+psycopg://127.0.0.1:9/none")
    refused = down.test_client().get(
        "/metrics", headers={"Authorization": f"Bearer {operator_key}"}
    )
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "unavailable"

    public = make_app(
        DATABASE_URL="postgresql+psycopg://127.0.0.1:9/none", SIGNALPOST_METRICS_PUBLIC="true"
    )
    response = public.test_client().get("/metrics")
    assert response.status_code == 200
    scraped = samples(response.get_data(as_text=True))
    assert value(scraped, "signalpost_database_up") == 0
    assert value(scraped, "signalpost_broker_up") == 1
    assert ("signalpost_deliveries_total", (("status", "succeeded"),)) in scraped
    assert not [name for name, _ in scraped if name == "signalpost_deliveries_overdue"]


FIRST_COUNTS_AT_ONCE = """
import sys, threading
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from app import metrics

metrics.configure(sys.argv[1])
threads = 16
start = threading.Barrier(threads)

def count():
    start.wait()
    metrics.attempt_recorded("succeeded", 200, 5)

workers = [threading.Thread(target=count) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
registry = CollectorRegistry()
MultiProcessCollector(registry, sys.argv[1])
print(registry.get_sample_value("signalpost_attempt_duration_seconds_count"),
      registry.get_sample_value("signalpost_attempts_total", {"status_class": "2xx"}))
"""


@pytest.mark.parametrize("run", range(3))
def test_a_process_s_threads_counting_their_first_attempts_at_once_lose_none(tmp_path, run):
    """A fresh process, as a worker is: its threads' first counts all land in the file."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_COUNTS_AT_ONCE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["16.0", "16.0"], done.stderr
