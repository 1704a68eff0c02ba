"""The message per event type and the body each format builds from it (plain functions)."""

from __future__ import annotations

import json

import pytest

from app.domain.catalog import EVENT_TYPES, TEST_EVENT, example_data
from app.domain.formats import FORMATS, render
from app.domain.formats.messages import MAX_DETAILS, message_for
from app.domain.formats.text import ELLIPSIS
from app.domain.payload import encode
from tests.formats.fake_services import discord_problems, slack_block_ok

TELEGRAM_URL = "https://api.telegram.org/bot1:x/sendMessage?chat_id=-100123&message_thread_id=7"


def document(event_type: str, data: dict) -> dict:
    return {"id": "evt_1", "event": event_type, "timestamp": "2026-02-01T10:30:00Z", "data": data}


def example(event_type: str) -> dict:
    return document(event_type, example_data(event_type))


EXPECTED_SENTENCES = {
    "price_above": "AAPL rose above 180.00 — now 185.50",
    "price_below": "TSLA fell below 200.00 — now 196.12",
    "portfolio_change": "Portfolio “Retirement” rose 2.35% to 12345.67 USD (was 12062.00)",
    "position_added": "Position added: 25 MSFT at 402.10 USD",
    "position_removed": "Position removed: 4 NFLX at 610.00 USD",
    "dividend_payment": "Dividend from MSFT: 18.75 USD (0.75 per share), paid 2026-03-12",
    "trade_executed": "Bought 10 AAPL at 185.50 USD (total 1855.00 USD)",
    "custom": "Rebalance reminder: tech is now 42% of Retirement",
}


@pytest.mark.parametrize("event_type", [event.value for event in EVENT_TYPES])
def test_each_type_has_its_sentence(event_type):
    message = message_for(example(event_type))
    assert message.text == EXPECTED_SENTENCES[event_type]
    assert message.title == next(e.label for e in EVENT_TYPES if e.value == event_type)


def test_a_falling_portfolio_and_a_sale_read_right():
    falling = {"portfolio_name": "Fun", "current_value": "90", "change_percent": "-10.00"}
    assert message_for(document("portfolio_change", falling)).text == (
        "Portfolio “Fun” fell 10.00% to 90"
    )
    sale = {"side": "sell", "quantity": "3", "symbol": "X", "price": "1"}
    assert message_for(document("trade_executed", sale)).text == "Sold 3 X at 1"


def test_the_test_event_names_the_webhook():
    data = {"test": True, "message": "Webhook configuration verified", "webhook": "Ops 🚨"}
    message = message_for(document(TEST_EVENT, data))
    assert message.title == "Test Event"
    assert message.text == "Test event from Signalpost: webhook “Ops 🚨” is set up."


@pytest.mark.parametrize(
    "data",
    [{}, {"symbol": None}, {"symbol": ["A"], "price": {"x": 1}, "target": 3.5}, {"": ""}],
)
def test_data_missing_what_the_sentence_needs_falls_back_to_the_label(data):
    message = message_for(document("price_above", data))
    assert message.text.startswith("Price Above Target")
    for format_name in FORMATS:
        json.loads(render(format_name, document("price_above", data), TELEGRAM_URL))


def test_an_unknown_type_and_odd_values_still_render():
    data = {"n": 1.5, "ok": False, "none": None, "nested": {"a": [1, "é"]}}
    message = message_for(document("from_the_future", data))
    assert message.title == "from_the_future"
    assert dict(message.details) == {
        "N": "1.5",
        "Ok": "false",
        "None": "—",
        "Nested": '{"a": [1, "é"]}',
    }


def test_many_fields_are_listed_up_to_a_limit():
    data = {f"field_{i}": str(i) for i in range(MAX_DETAILS + 5)}
    message = message_for(document("custom", data))
    assert len(message.details) == MAX_DETAILS and message.more_details == 5


def test_json_is_the_envelope_itself():
    doc = example("price_above")
    assert render("json", doc, "https://example.com/hook") == encode(doc)


def test_discord_body():
    body = json.loads(render("discord", example("price_below"), ""))
    assert body["content"] == "TSLA fell below 200.00 — now 196.12"
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "Price Below Target"
    assert embed["color"] == 0xE74C3C
    assert embed["timestamp"] == "2026-02-01T10:30:00Z"
    assert embed["footer"] == {"text": "evt_1"}
    assert {"name": "Symbol", "value": "TSLA", "inline": True} in embed["fields"]
    assert discord_problems(body) == {}


def test_each_event_type_has_its_own_discord_colour():
    colours = {
        json.loads(render("discord", example(event.value), ""))["embeds"][0]["color"]
        for event in EVENT_TYPES
    }
    assert len(colours) == len(EVENT_TYPES)


def test_discord_shows_markdown_and_mentions_as_typed():
    data = {"message": "BRK_B_ETF **up** @everyone <@123> [click](https://evil.example)"}
    body = json.loads(render("discord", document("custom", data), ""))
    assert body["content"] == (
        r"BRK\_B\_ETF \*\*up\*\* @everyone \<@123\> \[click\](https://evil.example)"
    )
    assert body["allowed_mentions"] == {"parse": []}


def test_slack_body():
    body = json.loads(render("slack", example("trade_executed"), ""))
    assert body["text"] == "Bought 10 AAPL at 185.50 USD (total 1855.00 USD)"
    header, sentence, fields, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Trade Executed", "emoji": True},
    }
    assert sentence["text"]["text"] == body["text"]
    assert {"type": "plain_text", "text": "Side: buy", "emoji": True} in fields["fields"]
    assert context["elements"][0]["text"] == "evt_1 · 2026-02-01T10:30:00Z"
    assert all(map(slack_block_ok, body["blocks"]))


def test_slack_escapes_control_characters_in_the_notification_text():
    data = {"message": "<!channel> P&L > 0"}
    body = json.loads(render("slack", document("custom", data), ""))
    assert body["text"] == "&lt;!channel&gt; P&amp;L &gt; 0"
    assert body["blocks"][1]["text"]["text"] == "<!channel> P&L > 0"  # plain_text: shown as is


def test_slack_puts_at_most_ten_fields_in_a_section():
    data = {f"k{i}": "v" for i in range(15)}
    sections = json.loads(render("slack", document("custom", data), ""))["blocks"][2:-1]
    assert [len(section["fields"]) for section in sections] == [10, 5]


def test_telegram_body_takes_the_chat_from_the_url():
    body = json.loads(render("telegram", example("dividend_payment"), TELEGRAM_URL))
    assert body["chat_id"] == -100123
    assert body["message_thread_id"] == 7
    assert "parse_mode" not in body
    lines = body["text"].splitlines()
    assert lines[:2] == ["Dividend Payment", EXPECTED_SENTENCES["dividend_payment"]]
    assert "Amount per share: 0.75" in lines
    assert lines[-1] == "evt_1 · 2026-02-01T10:30:00Z"


def test_telegram_channel_names_stay_strings_and_a_missing_chat_is_left_out():
    url = "https://api.telegram.org/bot1:x/sendMessage?chat_id=@signals"
    assert json.loads(render("telegram", example("custom"), url))["chat_id"] == "@signals"
    no_chat = json.loads(render("telegram", example("custom"), "https://api.telegram.org/x"))
    assert "chat_id" not in no_chat


LONG_NAME = ("Ünïcödé 🇯🇵 👨‍👩‍👧‍👦 e\u0301 portfolio 日本語 " * 600).strip()


@pytest.mark.parametrize("format_name", ["discord", "slack", "telegram"])
def test_a_very_long_name_is_cut_cleanly_within_the_limits(format_name):
    doc = document(
        "portfolio_change",
        {"portfolio_name": LONG_NAME, "current_value": "1", "change_percent": "1", LONG_NAME: "x"},
    )
    body = json.loads(render(format_name, doc, TELEGRAM_URL))
    if format_name == "discord":
        assert discord_problems(body) == {}
        assert body["content"].endswith(ELLIPSIS) and len(body["content"]) <= 2000
    elif format_name == "slack":
        assert all(map(slack_block_ok, body["blocks"]))
        assert body["blocks"][1]["text"]["text"].endswith(ELLIPSIS)
    else:
        assert len(body["text"].encode("utf-16-le")) // 2 <= 4096
        assert body["text"].endswith(ELLIPSIS)
