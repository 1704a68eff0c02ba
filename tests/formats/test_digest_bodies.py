"""A digest's body, without a worker: as many events as fit, within each service's limits,
judged by the same fake services the delivery tests post to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from app.domain.formats import render
from app.domain.formats.digest import lines_that_fit, render_digest
from app.domain.outgoing import Carried, Outgoing, build_request
from app.domain.payload import envelope
from app.domain.signing import generate_secret
from tests.formats import fake_services
from tests.support.receiver import Received

HOSTS = {
    "discord": "https://discord.com",
    "slack": "https://hooks.slack.com",
    "telegram": "https://api.telegram.org",
}
URLS = {name: host + fake_services.PATHS[name] for name, host in HOSTS.items()}
ANSWERS = fake_services.ANSWERS
START = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def alert(n: int, symbol: str | None = None) -> dict:
    data = {"symbol": symbol or f"S{n:04d}", "target": "180.00", "price": f"{185 + n}.50"}
    return envelope(f"evt_{n:04d}", "price_above", START + timedelta(seconds=n), data)


def accepted(format_name: str, body: bytes) -> bool:
    """Whether the service itself would take this body (its fake's judgement)."""
    url = urlsplit(URLS[format_name])
    headers = {"Content-Type": "application/json"}
    request = Received("POST", url.path, headers, body, 0.0, url.query, 0)
    return ANSWERS[format_name](request).status in (200, 204)


def visible(format_name: str, body: bytes) -> str:
    document = json.loads(body)
    if format_name == "slack":
        return "\n".join(block["text"]["text"] for block in document["blocks"] if "text" in block)
    return document["content" if format_name == "discord" else "text"]


@pytest.mark.parametrize("format_name", sorted(URLS))
def test_a_burst_is_split_into_messages_the_service_accepts(format_name):
    documents = [alert(n) for n in range(500)]
    left, messages = documents, []
    while left:
        count = lines_that_fit(format_name, left)
        messages.append(render_digest(format_name, left[:count], URLS[format_name]))
        left = left[count:]
    # A few messages for 500 alerts, each one the service takes, each event in exactly one.
    assert 5 <= len(messages) <= 60
    assert all(accepted(format_name, body) for body in messages)
    shown = "\n".join(visible(format_name, body) for body in messages)
    assert [shown.count(f"S{n:04d} rose") for n in range(500)] == [1] * 500


@pytest.mark.parametrize("format_name", sorted(URLS))
def test_a_digest_says_how_many_and_lists_each_with_its_time(format_name):
    body = render_digest(format_name, [alert(1), alert(2, "AAPL")], URLS[format_name])
    text = visible(format_name, body)
    assert "2 alerts" in text
    assert "• 09:30:02 AAPL rose above 180.00 — now 187.50" in text.replace("\\", "")


def test_discord_digests_escape_markdown_and_never_ping():
    body = json.loads(
        render_digest("discord", [alert(1, "@everyone"), alert(2, "A_B*C")], URLS["discord"])
    )
    assert body["allowed_mentions"] == {"parse": []}
    assert "A\\_B\\*C" in body["content"]


def test_telegram_digests_go_to_the_chat_of_the_url():
    url = URLS["telegram"] + "&message_thread_id=7"
    body = json.loads(render_digest("telegram", [alert(1), alert(2)], url))
    assert (body["chat_id"], body["message_thread_id"]) == (-100777, 7)


@pytest.mark.parametrize("format_name", sorted(URLS))
def test_one_huge_custom_message_still_leaves_room_and_is_cut_whole(format_name):
    huge = envelope("evt_huge", "custom", START, {"message": "🇺🇦" * 3000})
    documents = [huge, *(alert(n) for n in range(3))]
    count = lines_that_fit(format_name, documents)
    assert count == 4  # the long line is cut to a line's length, so the others still fit
    body = render_digest(format_name, documents, URLS[format_name])
    assert accepted(format_name, body)
    assert "🇺" not in visible(format_name, body).replace("🇺🇦", "")  # no flag cut in half


def test_an_outgoing_with_nothing_carried_is_the_ordinary_message():
    document = alert(1)
    outgoing = Outgoing(
        URLS["discord"],
        "discord",
        [generate_secret()],
        document["id"],
        "price_above",
        START + timedelta(seconds=1),
        document["data"],
    )
    body, _ = build_request(outgoing, 0)
    assert body == render("discord", document, URLS["discord"])


def test_a_carried_outgoing_lists_every_event_oldest_first():
    first, second = alert(1, "OLD"), alert(2, "NEW")
    outgoing = Outgoing(
        URLS["telegram"],
        "telegram",
        [generate_secret()],
        second["id"],
        "price_above",
        START + timedelta(seconds=2),
        second["data"],
        carried=(Carried(first["id"], "price_above", START + timedelta(seconds=1), first["data"]),),
    )
    body, headers = build_request(outgoing, 0)
    text = json.loads(body)["text"]
    assert text.index("OLD") < text.index("NEW")
    assert headers["X-Webhook-ID"] == second["id"]  # signed as the carrier's request
