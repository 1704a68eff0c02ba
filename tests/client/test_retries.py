"""The client's retries through a fault proxy in front of the live server: a lost answer or a
timeout is retried with the same idempotency key and delivers once; 429 and 503 are waited
for as `Retry-After` says; what is not worth retrying is raised at once, typed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime

import pytest
from signalpost_client import (
    Client,
    Conflict,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
)
from signalpost_client.transport import retry_after

from tests.client.conftest import events_of
from tests.support.faultproxy import DROP_ANSWER, REFUSE, Answer, Delay, FaultProxy
from tests.support.processes import free_port
from tests.support.receiver import Receiver
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def delivered_once(receiver: Receiver, event_id: str) -> None:
    wait_for(lambda: receiver.requests)
    time.sleep(1.0)  # time for a second delivery, were there one to come
    assert [request.headers["X-Webhook-Id"] for request in receiver.requests] == [event_id]


def same_request_every_time(proxy: FaultProxy) -> None:
    keys = {seen.headers["idempotency-key"] for seen in proxy.seen}
    bodies = {seen.body for seen in proxy.seen}
    assert len(keys) == 1 and len(bodies) == 1, (keys, bodies)


@pytest.mark.parametrize("fault", [DROP_ANSWER, Delay(4.0)], ids=["lost answer", "timeout"])
def test_a_send_whose_answer_never_came_is_retried_and_delivered_once(
    through_proxy: Client, proxy: FaultProxy, make_tenant, make_webhook, receiver: Receiver, fault
) -> None:
    external_id, user = make_tenant()
    make_webhook(receiver.url, user=user)
    proxy.plan(fault)

    sent = through_proxy.events.send(external_id, "price_above", {"symbol": "ACME"})

    assert [seen.fault for seen in proxy.seen] == [fault, "pass"]
    same_request_every_time(proxy)
    # The first attempt reached the server: the retry is answered as its replay.
    assert sent.replayed and sent.deliveries == 1
    assert [event.id for event in events_of(user)] == [sent.id]
    delivered_once(receiver, sent.id)


def test_my_own_idempotency_key_makes_my_own_repeat_safe_too(
    signalpost: Client, make_tenant, make_webhook, receiver: Receiver
) -> None:
    external_id, user = make_tenant()
    make_webhook(receiver.url, user=user)
    first = signalpost.events.send(external_id, "price_above", {"n": 1}, idempotency_key="alert-1")
    again = signalpost.events.send(external_id, "price_above", {"n": 1}, idempotency_key="alert-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.id == first.id and first.idempotency_key == "alert-1"
    delivered_once(receiver, first.id)


def test_the_same_key_with_another_body_is_a_conflict(signalpost: Client, make_tenant) -> None:
    external_id, _ = make_tenant()
    signalpost.events.send(external_id, "custom", {"n": 1}, idempotency_key="k-1")
    with pytest.raises(Conflict) as refused:
        signalpost.events.send(external_id, "custom", {"n": 2}, idempotency_key="k-1")
    assert refused.value.status == 409
    assert refused.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_waited_for_then_the_send_goes_through(
    through_proxy: Client, proxy: FaultProxy, make_tenant, status: int
) -> None:
    external_id, user = make_tenant()
    proxy.plan(Answer(status, {"Retry-After": "1"}))
    started = time.monotonic()

    sent = through_proxy.events.send(external_id, "custom", {})

    assert time.monotonic() - started >= 1.0
    assert len(proxy.seen) == 2
    same_request_every_time(proxy)
    assert [event.id for event in events_of(user)] == [sent.id]


def test_a_key_still_in_progress_is_tried_again(
    through_proxy: Client, proxy: FaultProxy, make_tenant
) -> None:
    external_id, user = make_tenant()
    proxy.plan(Answer(409, code="idempotency_key_in_progress"))

    sent = through_proxy.events.send(external_id, "custom", {})

    assert len(proxy.seen) == 2
    assert [event.id for event in events_of(user)] == [sent.id]


def test_a_connection_closed_before_the_server_saw_it_is_retried(
    through_proxy: Client, proxy: FaultProxy, make_tenant
) -> None:
    external_id, user = make_tenant()
    proxy.plan(REFUSE, REFUSE, Answer(502))

    sent = through_proxy.events.send(external_id, "custom", {})

    assert [seen.fault for seen in proxy.seen] == [REFUSE, REFUSE, Answer(502), "pass"]
    same_request_every_time(proxy)
    assert [event.id for event in events_of(user)] == [sent.id]


def test_retries_end_after_max_retries_with_the_last_error(
    through_proxy: Client, proxy: FaultProxy, make_tenant
) -> None:
    external_id, user = make_tenant()
    proxy.plan(*[Answer(503)] * 4)

    with pytest.raises(ServerError) as refused:
        through_proxy.events.send(external_id, "custom", {})

    assert len(proxy.seen) == 4  # the first attempt and max_retries=3
    assert (refused.value.status, refused.value.code) == (503, "injected")
    assert events_of(user) == []
    # The error names the key, so the same event can be sent again later, safely.
    assert refused.value.idempotency_key == proxy.seen[0].headers["idempotency-key"]


def test_a_retry_after_longer_than_the_client_waits_is_raised_at_once(
    through_proxy: Client, proxy: FaultProxy, make_tenant
) -> None:
    external_id, _ = make_tenant()
    proxy.plan(Answer(429, {"Retry-After": "3600"}))
    started = time.monotonic()

    with pytest.raises(RateLimited) as refused:
        through_proxy.events.send(external_id, "custom", {})

    assert time.monotonic() - started < 1.0 and len(proxy.seen) == 1
    assert refused.value.retry_after == 3600 and refused.value.code == "injected"


def test_a_refusal_for_the_request_itself_is_not_retried(
    through_proxy: Client, proxy: FaultProxy, make_tenant
) -> None:
    external_id, _ = make_tenant()
    with pytest.raises(ValidationError):
        through_proxy.events.send(external_id, "no_such_event", {})
    assert len(proxy.seen) == 1


def test_no_server_at_all_is_a_transport_error_after_the_retries(operator_key: str) -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", operator_key, max_retries=1)
    with pytest.raises(TransportError) as failed:
        client.events.send("anyone", "custom", {})
    assert failed.value.status is None and "2 attempts" in failed.value.message


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def headers(value: str) -> Message:
        message = Message()
        message["Retry-After"] = value
        return message

    assert retry_after(headers("7")) == 7
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 < retry_after(headers(format_datetime(later, usegmt=True))) <= 30
    assert retry_after(headers("yesterday-ish")) is None
    assert retry_after(Message()) is None
