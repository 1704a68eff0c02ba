"""Digests through the real worker: a burst to a rate-limited chat webhook goes as a few
messages the fake services accept, every event in exactly one of them, every log entry
`succeeded` and linked to the delivery that carried it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest

from app.domain.status import DeliveryStatus
from app.services import events, logs
from tests.formats import fake_services
from tests.support.receiver import Received, Receiver, Reply
from tests.support.waiting import all_ended, wait_for

pytestmark = pytest.mark.usefixtures("worker")

PATHS, ANSWERS = fake_services.PATHS, fake_services.ANSWERS


class Service:
    """A fake chat service whose first `refusals` digests get `refusal` instead of its answer."""

    def __init__(self, format_name: str, refusal: Reply | None = None, refusals: int = 0) -> None:
        self.format_name = format_name
        self.refusal, self.refusals = refusal, refusals
        self.answered: list[tuple[Received, int]] = []
        self._lock = threading.Lock()
        self.receiver = Receiver(answer=self._answer).start()
        self.url = f"http://127.0.0.1:{self.receiver.port}{PATHS[format_name]}"

    def _answer(self, request: Received) -> Reply:
        with self._lock:
            if self.refusals and " alerts" in request.body.decode():
                self.refusals -= 1
                reply = self.refusal
            else:
                reply = ANSWERS[self.format_name](request)
            self.answered.append((request, reply.status))
            return reply

    def accepted_text(self) -> str:
        """Everything readers were shown, in the messages the service took."""
        return "\n".join(
            visible(self.format_name, json.loads(request.body))
            for request, status in self.answered
            if status < 300
        )


def visible(format_name: str, body: dict) -> str:
    """The text a reader sees: Discord's content, Slack's main section, Telegram's text."""
    if format_name == "slack":
        return body["blocks"][1]["text"]["text"]
    return body["content" if format_name == "discord" else "text"]


@pytest.fixture
def service() -> Callable[..., Service]:
    started: list[Service] = []

    def start(format_name: str, **refusal: object) -> Service:
        started.append(Service(format_name, **refusal))
        return started[-1]

    yield start
    for each in started:
        each.receiver.stop()


def fire_burst(owner, count: int) -> list[str]:
    return [
        events.trigger_event(
            owner, "price_above", {"symbol": f"S{n:03d}", "target": "180.00", "price": "185.50"}
        ).event_id
        for n in range(count)
    ]


def each_symbol_once(text: str, count: int) -> bool:
    return all(text.count(f"S{n:03d} rose") == 1 for n in range(count))


@pytest.mark.parametrize("format_name", sorted(PATHS))
def test_a_burst_to_a_paced_chat_webhook_goes_as_a_few_digests(service, make_webhook, format_name):
    chat = service(format_name)
    webhook, _ = make_webhook(chat.url, format=format_name, rate_limit="1/second")
    fired = fire_burst(webhook.user, 30)

    rows = wait_for(lambda: all_ended(webhook.id, 30), timeout=30)

    assert {row.status for row in rows} == {DeliveryStatus.SUCCEEDED}
    assert all(status < 300 for _, status in chat.answered)
    # 30 alerts at one a second would take 30 s; as digests they are a handful of messages.
    assert len(chat.answered) <= 6, len(chat.answered)
    assert each_symbol_once(chat.accepted_text().replace("\\", ""), 30)
    carriers = {row.id: row for row in rows if row.carried_by is None}
    carried = [row for row in rows if row.carried_by is not None]
    assert len(carriers) == len(chat.answered) and carried
    listed = logs.carried_by_each(carriers)
    for row in carried:
        carrier = carriers[row.carried_by]
        assert (row.attempts, carrier.attempts) == (0, 1)
        assert row.event_id in listed[carrier.id]
        assert f"S{fired.index(row.event_id):03d} rose" in carrier.request_body.replace("\\", "")
    assert sorted(row.event_id for row in rows) == sorted(fired)


def test_a_json_webhook_is_never_merged(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url, rate_limit="5/second")
    fired = fire_burst(webhook.user, 12)

    wait_for(lambda: all_ended(webhook.id, 12), timeout=30)

    assert sorted(json.loads(r.body)["id"] for r in receiver.requests) == sorted(fired)
    assert all(row.carried_by is None for row in all_ended(webhook.id, 12))


def test_riders_of_a_digest_that_failed_ride_again_on_its_retry(service, make_webhook):
    chat = service("discord", refusal=Reply(502, "bad gateway"), refusals=1)
    webhook, _ = make_webhook(chat.url, format="discord", rate_limit="1/second")
    fire_burst(webhook.user, 20)

    rows = wait_for(lambda: all_ended(webhook.id, 20), timeout=30)

    assert {row.status for row in rows} == {DeliveryStatus.SUCCEEDED}
    assert [status for _, status in chat.answered].count(502) == 1
    # Nothing the reader saw twice, nothing missing, though one digest was refused.
    assert each_symbol_once(chat.accepted_text(), 20)


def test_a_429_holds_the_digests_riders_back_with_it(service, make_webhook):
    flood = Reply(
        429,
        json.dumps({"message": "You are being rate limited.", "retry_after": 2}),
        {"Content-Type": "application/json", "Retry-After": "2"},
    )
    chat = service("discord", refusal=flood, refusals=1)
    webhook, _ = make_webhook(chat.url, format="discord", rate_limit="1/second")
    fire_burst(webhook.user, 20)

    wait_for(lambda: all_ended(webhook.id, 20), timeout=30)

    assert each_symbol_once(chat.accepted_text(), 20)
    (refused_at,) = [request.at for request, status in chat.answered if status == 429]
    later = [request.at for request, _ in chat.answered if request.at > refused_at]
    # Told to wait 2 s: neither the carrier nor what it carried came back sooner.
    assert later and min(later) - refused_at >= 1.9


def test_with_digests_turned_off_every_alert_is_its_own_message(
    service, make_webhook, app, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_DIGESTS", False)  # the worker runs in this process
    chat = service("discord")
    webhook, _ = make_webhook(chat.url, format="discord", rate_limit="5/second")
    fire_burst(webhook.user, 10)

    rows = wait_for(lambda: all_ended(webhook.id, 10), timeout=30)

    assert len(chat.answered) == 10
    assert all(row.carried_by is None and row.attempts == 1 for row in rows)
