"""The human-readable message of an event, shared by every chat format.

Event data comes from the owner's application, so a field may be missing or of any JSON type:
a sentence that lacks a field falls back to the label and the data, and nothing here raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.catalog import TEST_EVENT, label_of

# A chat message lists at most this many data fields; the JSON format carries them all.
MAX_DETAILS = 20


@dataclass(frozen=True)
class Message:
    event_id: str
    event_type: str
    timestamp: str
    title: str  # the event type's label
    text: str  # one sentence, e.g. "AAPL rose above 180.00 — now 185.50"
    details: tuple[tuple[str, str], ...]  # (label, value) per data field, in the data's order
    more_details: int  # data fields left out of `details`


class _Missing(Exception):
    """A field the sentence needs is absent or empty."""


def as_text(value: Any) -> str:
    """A data value as a person reads it: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _field(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or value == "" or isinstance(value, dict | list):
        raise _Missing(key)
    return as_text(value)


def _optional(data: dict[str, Any], key: str, before: str = " ") -> str:
    try:
        return before + _field(data, key)
    except _Missing:
        return ""


def _price(verb: str) -> Callable[[dict[str, Any]], str]:
    def sentence(data: dict[str, Any]) -> str:
        symbol, target, price = (_field(data, key) for key in ("symbol", "target", "price"))
        return f"{symbol} {verb} {target} — now {price}"

    return sentence


def _sign(number: str) -> int:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return 0
    return (value > 0) - (value < 0) if value.is_finite() else 0


def _portfolio(data: dict[str, Any]) -> str:
    name, current = _field(data, "portfolio_name"), _field(data, "current_value")
    value = current + _optional(data, "currency")
    was = _optional(data, "previous_value", " (was ")
    was = f"{was})" if was else ""
    percent = _optional(data, "change_percent", "")
    direction = _sign(percent)
    if not percent or direction == 0:
        return f"Portfolio “{name}” is now {value}{was}"
    verb = "rose" if direction > 0 else "fell"
    return f"Portfolio “{name}” {verb} {percent.lstrip('+-')}% to {value}{was}"


def _position(verb: str) -> Callable[[dict[str, Any]], str]:
    def sentence(data: dict[str, Any]) -> str:
        holding = f"{_field(data, 'quantity')} {_field(data, 'symbol')}"
        price = _optional(data, "average_price", " at ")
        price = price + _optional(data, "currency") if price else ""
        return f"Position {verb}: {holding}{price}"

    return sentence


def _dividend(data: dict[str, Any]) -> str:
    amount = _field(data, "amount") + _optional(data, "currency")
    per_share = _optional(data, "amount_per_share", " (")
    per_share = f"{per_share} per share)" if per_share else ""
    paid = _optional(data, "pay_date", ", paid ")
    return f"Dividend from {_field(data, 'symbol')}: {amount}{per_share}{paid}"


def _trade(data: dict[str, Any]) -> str:
    side = _field(data, "side")
    verb = {"buy": "Bought", "sell": "Sold"}.get(side.lower(), side.capitalize())
    currency = _optional(data, "currency")
    total = _optional(data, "total", " (total ")
    total = f"{total}{currency})" if total else ""
    price = f"{_field(data, 'price')}{currency}"
    return f"{verb} {_field(data, 'quantity')} {_field(data, 'symbol')} at {price}{total}"


def _custom(data: dict[str, Any]) -> str:
    for key in ("message", "text", "title"):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key]
    raise _Missing("message")


def _test(data: dict[str, Any]) -> str:
    return f"Test event from Signalpost: webhook “{_field(data, 'webhook')}” is set up."


SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    "price_above": _price("rose above"),
    "price_below": _price("fell below"),
    "portfolio_change": _portfolio,
    "position_added": _position("added"),
    "position_removed": _position("removed"),
    "dividend_payment": _dividend,
    "trade_executed": _trade,
    "custom": _custom,
    TEST_EVENT: _test,
}


def _key_label(key: str) -> str:
    words = key.replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) or "(empty)"


def _fallback(title: str, data: dict[str, Any]) -> str:
    summary = ", ".join(f"{key} {as_text(value)}" for key, value in list(data.items())[:5])
    return f"{title}: {summary}" if summary else title


def message_for(document: dict[str, Any]) -> Message:
    """The message of an envelope (`{"id", "event", "timestamp", "data"}`)."""
    event_type = str(document.get("event", ""))
    data = document.get("data")
    data = data if isinstance(data, dict) else {}
    title = label_of(event_type) or "Event"
    try:
        text = SENTENCES[event_type](data)
    except (KeyError, _Missing):
        text = _fallback(title, data)
    items = [(_key_label(str(key)), as_text(value)) for key, value in data.items()]
    return Message(
        event_id=str(document.get("id", "")),
        event_type=event_type,
        timestamp=str(document.get("timestamp", "")),
        title=title,
        text=text,
        details=tuple(items[:MAX_DETAILS]),
        more_details=max(len(items) - MAX_DETAILS, 0),
    )
