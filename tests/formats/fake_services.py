"""Local stand-ins for Discord, Slack and Telegram: each checks a body against the service's
documented constraints and answers, or refuses, the way that service does.

Lengths are counted as each service counts them: Discord in code points, Telegram in UTF-16
code units; Slack does not say, so this fake takes the strictest reading, UTF-8 bytes.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

from tests.support.receiver import Received, Reply

JSON_HEADERS = {"Content-Type": "application/json"}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _parse(request: Received) -> Any:
    if request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
        raise ValueError("content type is not application/json")
    return json.loads(request.body.decode("utf-8"))


# --- Discord: POST /api/webhooks/<id>/<token> ----------------------------------------------

DISCORD_PATH = re.compile(r"^/api/webhooks/\d+/[\w-]+$")


def _discord_reply(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(body), JSON_HEADERS)


def _text_ok(value: Any, limit: int, *, required: bool = False) -> bool:
    if value is None:
        return not required
    return isinstance(value, str) and len(value) <= limit and (not required or value.strip())


def discord_problems(body: dict[str, Any]) -> dict[str, str]:
    """Field path → problem, as Discord's "Invalid Form Body" lists them."""
    problems: dict[str, str] = {}
    if not _text_ok(body.get("content"), 2000):
        problems["content"] = "Must be 2000 or fewer in length."
    embeds = body.get("embeds", [])
    if not isinstance(embeds, list) or len(embeds) > 10:
        return {**problems, "embeds": "Must be 10 or fewer in length."}
    total = 0
    for i, embed in enumerate(embeds):
        at = f"embeds.{i}"
        if not isinstance(embed, dict):
            problems[at] = "Must be an object."
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            if not _text_ok(embed.get(key), limit):
                problems[f"{at}.{key}"] = f"Must be {limit} or fewer in length."
            total += len(embed.get(key) or "")
        colour = embed.get("color")
        if colour is not None and not (isinstance(colour, int) and 0 <= colour <= 0xFFFFFF):
            problems[f"{at}.color"] = "Int value should be between 0 and 16777215."
        if "timestamp" in embed:
            try:
                datetime.fromisoformat(embed["timestamp"])
            except (TypeError, ValueError):
                problems[f"{at}.timestamp"] = "Could not parse timestamp."
        footer = embed.get("footer", {})
        if not _text_ok(footer.get("text"), 2048, required="footer" in embed):
            problems[f"{at}.footer.text"] = "Must be between 1 and 2048 in length."
        total += len(footer.get("text") or "")
        fields = embed.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 25:
            problems[f"{at}.fields"] = "Must be 25 or fewer in length."
            continue
        for j, field in enumerate(fields):
            if not _text_ok(field.get("name"), 256, required=True):
                problems[f"{at}.fields.{j}.name"] = "Must be between 1 and 256 in length."
            if not _text_ok(field.get("value"), 1024, required=True):
                problems[f"{at}.fields.{j}.value"] = "Must be between 1 and 1024 in length."
            total += len(field.get("name") or "") + len(field.get("value") or "")
    if total > 6000:
        problems["embeds"] = "Embed size exceeds maximum size of 6000"
    mentions = body.get("allowed_mentions", {"parse": []})
    if not set(mentions.get("parse", [])) <= {"roles", "users", "everyone"}:
        problems["allowed_mentions.parse"] = "Value must be one of roles, users, everyone."
    return problems


def discord(request: Received) -> Reply:
    """204 and no body when the message is posted, as Discord does without ?wait=true."""
    if request.method != "POST" or not DISCORD_PATH.match(request.path):
        return _discord_reply(404, {"message": "404: Not Found", "code": 0})
    try:
        body = _parse(request)
    except ValueError:
        return _discord_reply(400, {"message": "Cannot send an empty message", "code": 50006})
    if not isinstance(body, dict):
        return _discord_reply(400, {"message": "Invalid Form Body", "code": 50035})
    problems = discord_problems(body)
    if problems:
        errors = {path: {"_errors": [{"message": text}]} for path, text in problems.items()}
        invalid = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        return _discord_reply(400, invalid)
    if not (body.get("content") or "").strip() and not body.get("embeds"):
        return _discord_reply(400, {"message": "Cannot send an empty message", "code": 50006})
    return Reply(204, "")


# --- Slack: POST /services/<...> (incoming webhook) ----------------------------------------


def _slack_text_ok(obj: Any, limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("type") in kinds
        and isinstance(obj.get("text"), str)
        and 1 <= _utf8(obj["text"]) <= limit
        and ("emoji" not in obj or obj["type"] == "plain_text")
    )


def slack_block_ok(block: Any) -> bool:
    if not isinstance(block, dict):
        return False
    kind = block.get("type")
    if kind == "header":
        return _slack_text_ok(block.get("text"), 150, ("plain_text",))
    if kind == "section":
        fields = block.get("fields")
        if "text" not in block and not fields:
            return False
        if "text" in block and not _slack_text_ok(block["text"], 3000):
            return False
        return fields is None or (
            isinstance(fields, list)
            and 1 <= len(fields) <= 10
            and all(_slack_text_ok(field, 2000) for field in fields)
        )
    if kind == "context":
        elements = block.get("elements")
        return (
            isinstance(elements, list)
            and 1 <= len(elements) <= 10
            and all(_slack_text_ok(element, 3000) for element in elements)
        )
    return kind == "divider"


def slack(request: Received) -> Reply:
    """200 `ok` as text/html, or 400 with Slack's error word."""
    if request.method != "POST" or not request.path.startswith("/services/"):
        return Reply(404, "no_service")
    try:
        body = _parse(request)
    except ValueError:
        return Reply(400, "invalid_payload")
    if not isinstance(body, dict):
        return Reply(400, "invalid_payload")
    text, blocks = body.get("text"), body.get("blocks")
    if text is not None and not isinstance(text, str):
        return Reply(400, "invalid_payload")
    if not (text or "").strip() and not blocks:
        return Reply(400, "no_text")
    if blocks is not None and not (
        isinstance(blocks, list) and len(blocks) <= 50 and all(map(slack_block_ok, blocks))
    ):
        return Reply(400, "invalid_blocks")
    return Reply(200, "ok", {"Content-Type": "text/html"})


# --- Telegram: POST /bot<token>/sendMessage -----------------------------------------------

TELEGRAM_PATH = re.compile(r"^/bot\d+:[\w-]+/sendMessage$")
_message_ids = iter(range(1, 10**9))


def _telegram_reply(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(body), JSON_HEADERS)


def _bad_request(description: str) -> Reply:
    return _telegram_reply(
        400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
    )


def telegram(request: Received) -> Reply:
    """200 `{"ok": true, "result": <Message>}`, or 400 `{"ok": false, ...}`."""
    if request.method != "POST" or not TELEGRAM_PATH.match(request.path):
        return _telegram_reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
    try:
        body = _parse(request)
    except ValueError:
        return _bad_request("can't parse request JSON object")
    if not isinstance(body, dict):
        return _bad_request("can't parse request JSON object")
    chat_id = body.get("chat_id")
    if isinstance(chat_id, bool) or not (
        isinstance(chat_id, int) or (isinstance(chat_id, str) and chat_id.strip())
    ):
        return _bad_request("chat_id is empty")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return _bad_request("message text is empty")
    if _utf16(text) > 4096:
        return _bad_request("message is too long")
    if "parse_mode" in body and body["parse_mode"] not in ("HTML", "Markdown", "MarkdownV2"):
        return _bad_request("unsupported parse_mode")
    result = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "channel"},
        "text": text,
    }
    return _telegram_reply(200, {"ok": True, "result": result})


# Each fake by format: how it answers, and where it is posted to (the path and query of the
# service's own URL, which the renderers and the fakes read).
ANSWERS = {"discord": discord, "slack": slack, "telegram": telegram}
PATHS = {
    "discord": "/api/webhooks/1234567890/tok-EN_123",
    "slack": "/services/T000/B000/XXXXXXXX",
    "telegram": "/bot123456:ABC-def_1/sendMessage?chat_id=-100777",
}
