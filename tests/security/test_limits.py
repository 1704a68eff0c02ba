"""Limits that keep one endpoint from hurting the others: response size, attempt duration,
and the per-endpoint delivery rate shared by every worker."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from freezegun import freeze_time

from app.domain.delivery_rate import Endpoint
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, DeliveryRateWindow, Event, Webhook, utcnow
from app.services import delivery_rate, events
from app.services.delivery import attempt
from tests.security.servers import DripServer, HugeBodyServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def endpoint_of(webhook: Webhook) -> Endpoint:
    return Endpoint(webhook.user_id, webhook.url)


def acquire(webhook: Webhook, reserved_window: int | None = None) -> delivery_rate.Postponed | None:
    """The service's limit, counted for the webhook's owner and URL, as the worker counts it."""
    return delivery_rate.acquire(
        endpoint_of(webhook), delivery_rate.current_limit(), reserved_window
    )


def windows_of(webhook: Webhook) -> tuple[sa.ColumnElement[bool], ...]:
    endpoint = endpoint_of(webhook)
    return (
        DeliveryRateWindow.owner_id == endpoint.owner_id,
        DeliveryRateWindow.url_sha256 == endpoint.url_sha256,
    )


def deliveries_of(webhook_id: int) -> list[Delivery]:
    query = sa.select(Delivery).where(Delivery.webhook_id == webhook_id)
    return list(db.session.scalars(query.order_by(Delivery.id)))


def finished(webhook_id: int, count: int = 1) -> list[Delivery] | None:
    rows = deliveries_of(webhook_id)
    done = [row for row in rows if row.status in ("succeeded", "failed")]
    return rows if len(done) >= count else None


def worker_still_delivers(make_webhook, receiver) -> None:
    webhook, _ = make_webhook(receiver.url)
    events.trigger_event(webhook.user, "price_above", {"after": "hostile endpoint"})
    assert wait_for(lambda: finished(webhook.id))[0].status == DeliveryStatus.SUCCEEDED


def test_a_dripping_endpoint_is_cut_off_at_the_timeout(make_webhook, receiver):
    server = DripServer().start()
    try:
        webhook, _ = make_webhook(server.url)

        events.trigger_event(webhook.user, "price_above", {})

        # Each byte comes well inside the 2 s read timeout; only the whole-attempt cap stops it.
        delivery = wait_for(lambda: finished(webhook.id), timeout=30)[0]
        assert server.finished.wait(5), "the worker closed the connection"
        first, second = delivery.attempt_log
        assert first.status_code is None
        assert first.error == "timed out: the attempt took longer than 2 s"
        assert server.bytes_dripped >= 3
        assert (second.status_code, delivery.status) == (200, DeliveryStatus.SUCCEEDED)
    finally:
        server.stop()
    worker_still_delivers(make_webhook, receiver)


def test_a_huge_response_is_not_downloaded(make_webhook, receiver):
    server = HugeBodyServer().start()
    try:
        webhook, _ = make_webhook(server.url)

        events.trigger_event(webhook.user, "price_above", {})

        delivery = wait_for(lambda: finished(webhook.id))[0]
        assert server.finished.wait(10), "the worker closed the connection"
        assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
        assert delivery.response_body == "A" * 4096
        # What the kernel buffers took before the close, nowhere near the 1 GiB announced.
        assert server.bytes_sent < HugeBodyServer.SIZE // 16
    finally:
        server.stop()
    worker_still_delivers(make_webhook, receiver)


def test_thirty_events_all_arrive_never_more_than_the_limit_per_window(
    app, make_webhook, receiver, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (5, 1))
    webhook, _ = make_webhook(receiver.url)

    for number in range(30):
        events.trigger_event(webhook.user, "price_above", {"n": number})

    rows = wait_for(lambda: finished(webhook.id, 30), timeout=90)
    assert len(receiver.requests) == 30
    assert all(row.status == DeliveryStatus.SUCCEEDED and row.attempts == 1 for row in rows)
    windows = db.session.scalars(
        sa.select(DeliveryRateWindow.count).where(*windows_of(webhook))
    ).all()
    assert sum(windows) == 30 and max(windows) <= 5, windows
    db.session.refresh(webhook)
    # Postponed is not failed: the counters saw thirty successes and nothing else.
    assert (webhook.success_count, webhook.failure_count) == (30, 0)


def test_fifteen_webhooks_of_one_owner_to_one_url_share_one_budget(
    app, make_user, make_webhook, receiver, monkeypatch
):
    """Issue 17's finding: fifteen webhooks at one URL sent 30 POSTs in 0.25 s against a limit
    of 10 a minute. They now share the URL's budget: per window, never more than the limit."""
    limit, period = 5, 2
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (limit, period))
    owner = make_user()
    hooks = [make_webhook(receiver.url, user=owner, name=f"Hook {n}")[0] for n in range(15)]

    for number in range(2):
        assert events.trigger_event(owner, "price_above", {"n": number}).deliveries == 15

    for webhook in hooks:
        wait_for(lambda webhook=webhook: finished(webhook.id, 2), timeout=60)
    assert len(receiver.requests) == 30
    per_window = Counter(int(request.at // period) for request in receiver.requests)
    assert max(per_window.values()) <= limit, sorted(per_window.items())
    assert len(per_window) >= 30 // limit, "spread over as many windows as the budget needs"
    db.session.expire_all()
    assert all(row.status == DeliveryStatus.SUCCEEDED for w in hooks for row in deliveries_of(w.id))


def test_spellings_of_one_url_of_one_owner_share_one_budget(
    app, make_user, make_webhook, receiver, monkeypatch
):
    """A follow-up of issue 17 item 1: the budget is keyed by the stored URL, which kept
    `/%68ook`, `/./hook` and `HTTP://` apart from `/hook`, each with a budget of its own.
    Stored in RFC 3986's normal form, they are one endpoint and share one budget."""
    limit, period = 3, 2
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (limit, period))
    owner = make_user()
    base = receiver.url.removesuffix("/hook")
    spellings = [
        f"{base}/hook",
        f"{base}/%68ook",
        f"{base}/%68%6F%6f%6B",
        f"{base}/./hook",
        f"{base}/x/../hook",
        f"{base.replace('http://', 'HTTP://')}/hook#part",
    ]
    hooks = [make_webhook(url, user=owner, name=f"Hook {n}")[0] for n, url in enumerate(spellings)]
    assert {webhook.url for webhook in hooks} == {receiver.url}

    for number in range(2):
        assert events.trigger_event(owner, "price_above", {"n": number}).deliveries == 6

    for webhook in hooks:
        wait_for(lambda webhook=webhook: finished(webhook.id, 2), timeout=60)
    assert len(receiver.requests) == 12
    assert {request.path for request in receiver.requests} == {"/hook"}
    per_window = Counter(int(request.at // period) for request in receiver.requests)
    assert max(per_window.values()) <= limit, sorted(per_window.items())
    db.session.expire_all()
    assert all(row.status == DeliveryStatus.SUCCEEDED for w in hooks for row in deliveries_of(w.id))


@pytest.fixture(params=["database", "redis"])
def storage(request, app, broker_url, monkeypatch) -> str:
    # The run's own Redis database is as good as any for the counts.
    monkeypatch.setitem(app.config, "REDIS_URL", broker_url if request.param == "redis" else None)
    return request.param


def test_the_limiter_grants_the_limit_then_asks_to_wait_for_the_next_window(
    app, ctx, make_webhook, storage, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (5, 60))
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    with freeze_time("2030-01-01 12:00:15") as clock:
        answers = [acquire(webhook) for _ in range(7)]
        assert answers[:5] == [None] * 5
        assert all(45 <= answer.wait <= 46 for answer in answers[5:])
        clock.tick(44)
        assert acquire(webhook) is not None
        clock.tick(1)
        assert acquire(webhook) is None, "a new window"


def test_a_burst_is_given_places_in_the_next_windows_in_turn(
    app, ctx, make_webhook, storage, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (5, 60))
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    with freeze_time("2030-01-01 12:00:15"):
        window = int(time.time()) // 60 * 60
        answers = [acquire(webhook) for _ in range(17)]
    assert answers[:5] == [None] * 5
    places = [answer.window - window for answer in answers[5:]]
    assert places == [60] * 5 + [120] * 5 + [180] * 2
    for answer in answers[5:]:
        opens_in = answer.window - (window + 15)
        assert opens_in <= answer.wait <= opens_in + 1


def test_without_a_reservation_a_burst_waits_for_the_next_window_and_holds_no_place(
    app, ctx, make_webhook, storage, monkeypatch
):
    """How a chat webhook's digests ask: what waits rides in the next message, so it keeps
    no place in a later window, and the window after is as free as if nothing had waited."""
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (5, 60))
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    limit = delivery_rate.current_limit()

    def ask():
        return delivery_rate.acquire(endpoint_of(webhook), limit, None, reserve=False)

    with freeze_time("2030-01-01 12:00:15") as clock:
        window = int(time.time()) // 60 * 60
        answers = [ask() for _ in range(17)]
        assert answers[:5] == [None] * 5
        assert {answer.window - window for answer in answers[5:]} == {60}
        clock.tick(45)  # the next window: all five places are there
        assert [ask() for _ in range(6)][:5] == [None] * 5


def test_an_attempt_goes_on_its_place_without_being_counted_again(
    app, ctx, make_webhook, storage, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (1, 60))
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    with freeze_time("2030-01-01 12:00:15") as clock:
        assert acquire(webhook) is None
        place = acquire(webhook)
        assert place.window == int(time.time()) // 60 * 60 + 60

        clock.tick(place.wait - 1)  # taken up a moment early, as clocks a little apart allow
        assert acquire(webhook, reserved_window=place.window) is None
        clock.tick(1)
        # That window's one place is this attempt's: any other attempt goes after it.
        assert acquire(webhook).window == place.window + 60

        clock.tick(600)  # an attempt that missed its window is counted like any other
        assert acquire(webhook, reserved_window=place.window) is None
        assert acquire(webhook, reserved_window=place.window) is not None


def test_a_burst_to_a_limited_endpoint_is_postponed_once_per_delivery(
    app, ctx, make_webhook, receiver, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (2, 60))
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    webhook, _ = make_webhook(receiver.url)
    with freeze_time("2030-01-01 12:00:15") as clock:
        ids = [unqueued_delivery(webhook) for _ in range(5)]
        first = [attempt.attempt_delivery(one) for one in ids]
        assert [outcome.status for outcome in first] == ["succeeded"] * 2 + ["pending"] * 3
        places = [db.session.get(Delivery, one).rate_window for one in ids[2:]]
        window = int(time.time()) // 60 * 60
        assert places == [window + 60, window + 60, window + 120]

        clock.tick(46)  # the next window: the two placed there go, the third is not yet due
        second = [attempt.attempt_delivery(one) for one in ids[2:]]
        assert [outcome.status for outcome in second] == ["succeeded", "succeeded", None]
        clock.tick(60)
        assert attempt.attempt_delivery(ids[4]).status == "succeeded"

    db.session.expire_all()
    rows = [db.session.get(Delivery, one) for one in ids]
    assert [(row.attempts, row.rate_window) for row in rows] == [(1, None)] * 5
    assert len(receiver.requests) == 5
    counts = db.session.scalars(
        sa.select(DeliveryRateWindow.count)
        .where(*windows_of(webhook))
        .order_by(DeliveryRateWindow.window_start)
    ).all()
    assert counts == [2, 2, 1]


def unqueued_delivery(webhook: Webhook) -> int:
    event_id = events.new_event_id()
    db.session.add(Event(id=event_id, user_id=webhook.user_id, event_type="custom", data={}))
    row = Delivery(webhook_id=webhook.id, event_id=event_id, next_attempt_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row.id


def test_an_owners_webhooks_to_one_url_share_its_budget_and_no_one_else_does(
    app, ctx, make_user, make_webhook, storage, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (2, 60))
    owner = make_user()
    first, _ = make_webhook("http://127.0.0.1:9/hook", user=owner)
    same_url, _ = make_webhook("http://127.0.0.1:9/hook", user=owner, name="Another")
    other_url, _ = make_webhook("http://127.0.0.1:9/other", user=owner)
    someone_elses, _ = make_webhook("http://127.0.0.1:9/hook")
    with freeze_time("2030-01-01 13:00:00"):
        assert acquire(first) is None
        assert acquire(same_url) is None
        assert acquire(first) is not None and acquire(same_url) is not None
        assert [acquire(other_url), acquire(someone_elses)] == [None, None]


def test_the_default_port_a_trailing_dot_and_escapes_do_not_make_another_budget(
    app, ctx, make_user, make_webhook, storage, monkeypatch
):
    """The spellings that each got a budget of their own under a 1/min limit, by hand."""
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (1, 60))
    owner = make_user()
    spellings = [
        "http://127.0.0.1:80/hook",
        "http://127.0.0.1/hook",
        "http://127.0.0.1/%68ook",
        "http://127.0.0.1/./hook",
        "http://localhost.:80/hook",
        "http://localhost/hook",
    ]
    hooks = [make_webhook(url, user=owner, name=url)[0] for url in spellings]
    with freeze_time("2030-01-01 13:00:00"):
        assert [acquire(webhook) is None for webhook in hooks] == [True, False, False, False] + [
            True,
            False,
        ]


def test_old_database_windows_are_deleted(app, ctx, make_webhook, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (5, 60))
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    webhook: Webhook = make_webhook("http://127.0.0.1:9/hook")[0]
    with freeze_time("2030-01-01 10:00:00") as clock:
        acquire(webhook)
        clock.tick(3 * 3600)
        acquire(webhook)
    starts = db.session.scalars(
        sa.select(DeliveryRateWindow.window_start).where(*windows_of(webhook))
    ).all()
    assert len(starts) == 1


def test_without_redis_the_database_keeps_the_count(app, ctx, make_webhook, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (2, 60))
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    with freeze_time("2030-01-01 14:00:00"):
        answers = [acquire(webhook) for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None
    counts = db.session.execute(
        sa.select(DeliveryRateWindow.window_start, DeliveryRateWindow.count)
        .where(*windows_of(webhook))
        .order_by(DeliveryRateWindow.window_start)
    ).all()
    # The third attempt's place is counted in the window it was given.
    assert [count for _, count in counts] == [2, 1]
    assert counts[1].window_start == answers[2].window


def test_a_workers_threads_first_counting_at_once_share_one_client(
    app, make_webhook, broker_url, monkeypatch
):
    # A fresh worker: its threads ask for the Redis client at the same moment. A second client
    # built meanwhile and dropped would disconnect the connection its thread was using.
    monkeypatch.setitem(app.config, "REDIS_URL", broker_url)
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (1_000_000, 60))
    monkeypatch.setattr(delivery_rate, "_scripts", {})
    built = []
    from_url = redis.Redis.from_url

    def slowly_built(url: str) -> redis.Redis:
        time.sleep(0.05)  # widens the moment in which another thread could build one too
        built.append(from_url(url))
        return built[-1]

    monkeypatch.setattr(redis.Redis, "from_url", slowly_built)
    endpoint = endpoint_of(make_webhook("http://127.0.0.1:9/hook")[0])
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def count() -> None:
        with app.app_context():
            start.wait()
            try:
                assert delivery_rate.acquire(endpoint, delivery_rate.current_limit()) is None
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=count) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(built) == 1


def test_redis_and_the_database_place_attempts_alike(
    app, ctx, make_user, make_webhook, broker_url, monkeypatch
):
    """The placing rule is written twice, in Lua for Redis and in Python for the database: the
    same attempts at the same moments get the same places from either, with the attempts of
    two webhooks of one owner to one URL counted together in both."""
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", (3, 10))
    seconds = [0, 0, 0, 0, 0, 1, 4, 4, 9, 10, 10, 10, 11, 25, 25, 25, 25, 26, 60, 60, 61, 95]
    placed = {}
    for store, url in (("redis", broker_url), ("database", None)):
        monkeypatch.setitem(app.config, "REDIS_URL", url)
        owner = make_user()
        pair = [make_webhook("http://127.0.0.1:9/hook", user=owner)[0] for _ in range(2)]
        start = datetime(2030, 1, 1, 15, 0, tzinfo=UTC)
        places = []
        with freeze_time(start) as clock:
            for number, second in enumerate(seconds):
                clock.move_to(start + timedelta(seconds=second))
                answer = acquire(pair[number % 2])
                places.append(None if answer is None else answer.window - int(start.timestamp()))
        placed[store] = places
    assert placed["redis"] == placed["database"]
    assert 0 < placed["redis"].count(None) < len(seconds), "some went at once, some were placed"
