"""The fake services must refuse what the real ones refuse, or the delivery tests prove nothing."""

from __future__ import annotations

import json

import pytest
import requests

TIMEOUT = 5


def post(url: str, body, content_type: str = "application/json") -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, data=data, headers={"Content-Type": content_type}, timeout=TIMEOUT)


def embed(**overrides):
    return {"title": "t", "fields": [{"name": "n", "value": "v"}], **overrides}


def test_discord_accepts_a_message_with_204(discord_service):
    response = post(discord_service.url, {"content": "é 🚀" * 500, "embeds": [embed()]})
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"content": "x" * 2001}, 50035),
        ({"content": "", "embeds": []}, 50006),
        ({"embeds": [embed(title="x" * 257)]}, 50035),
        ({"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]}, 50035),
        ({"embeds": [embed(fields=[{"name": "n", "value": " "}])]}, 50035),
        ({"embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]}, 50035),
        ({"embeds": [embed(fields=[{"name": "n", "value": "v" * 1000}] * 7)]}, 50035),
        ({"embeds": [embed(color=0x1000000)]}, 50035),
        ({"embeds": [embed(timestamp="yesterday")]}, 50035),
    ],
)
def test_discord_refuses_a_bad_body_with_its_json_error(discord_service, body, code):
    response = post(discord_service.url, body)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_discord_counts_code_points(discord_service):
    assert post(discord_service.url, {"content": "🚀" * 2000}).status_code == 204
    assert post(discord_service.url, {"content": "🚀" * 2001}).status_code == 400


def test_discord_wants_json(discord_service):
    response = post(discord_service.url, b"content=hi", "application/x-www-form-urlencoded")
    assert response.status_code == 400


def blocks_with(block):
    return {"text": "hi", "blocks": [block]}


def plain(text):
    return {"type": "plain_text", "text": text}


def test_slack_accepts_a_message_with_200_ok(slack_service):
    body = {"text": "hi", "blocks": [{"type": "header", "text": plain("🚀")}]}
    response = post(slack_service.url, body)
    assert response.status_code == 200 and response.text == "ok"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "invalid_payload"),
        ({"text": ""}, "no_text"),
        (blocks_with({"type": "header", "text": plain("x" * 151)}), "invalid_blocks"),
        (blocks_with({"type": "header", "text": plain("🚀" * 38)}), "invalid_blocks"),
        (blocks_with({"type": "section", "text": plain("")}), "invalid_blocks"),
        (blocks_with({"type": "section", "fields": [plain("f")] * 11}), "invalid_blocks"),
        (blocks_with({"type": "section", "text": plain("x" * 3001)}), "invalid_blocks"),
        (blocks_with({"type": "carousel"}), "invalid_blocks"),
        ({"text": "hi", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
    ],
)
def test_slack_refuses_a_bad_body_with_its_error_word(slack_service, body, error):
    response = post(slack_service.url, body)
    assert response.status_code == 400 and response.text == error


def test_telegram_accepts_a_message_with_ok_true(telegram_service):
    response = post(telegram_service.url, {"chat_id": -100777, "text": "hi 🚀"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is True and answer["result"]["text"] == "hi 🚀"


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"text": "hi"}, "chat_id is empty"),
        ({"chat_id": "", "text": "hi"}, "chat_id is empty"),
        ({"chat_id": 1, "text": "  "}, "message text is empty"),
        ({"chat_id": 1, "text": "x" * 4097}, "message is too long"),
        # 2048 emoji are 4096 UTF-16 units; one more is too long though only 2049 code points.
        ({"chat_id": 1, "text": "🚀" * 2049}, "message is too long"),
    ],
)
def test_telegram_refuses_a_bad_body_with_ok_false(telegram_service, body, description):
    response = post(telegram_service.url, body)
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: {description}",
    }


def test_telegram_counts_utf16_units(telegram_service):
    assert post(telegram_service.url, {"chat_id": 1, "text": "🚀" * 2048}).status_code == 200
