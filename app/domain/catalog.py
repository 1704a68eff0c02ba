"""The event types an owner can subscribe a webhook to: label, description and example data.

The examples are the documented `data` of each type: `app/services/sources.py` builds exactly
these keys, docs/integrations.md shows them, and the test action sends them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EventType:
    value: str
    label: str
    description: str
    # Read it through `example_data`, which hands out a copy.
    example: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "price_above",
        "Price Above Target",
        "A watched price rose above its target.",
        {
            "alert_id": "alrt_1042",
            "symbol": "AAPL",
            "condition": "above",
            "target": "180.00",
            "price": "185.50",
            "currency": "USD",
            "triggered_at": "2026-02-01T10:30:00Z",
        },
    ),
    EventType(
        "price_below",
        "Price Below Target",
        "A watched price fell below its target.",
        {
            "alert_id": "alrt_1043",
            "symbol": "TSLA",
            "condition": "below",
            "target": "200.00",
            "price": "196.12",
            "currency": "USD",
            "triggered_at": "2026-02-01T10:31:00Z",
        },
    ),
    EventType(
        "portfolio_change",
        "Portfolio Value Change",
        "A portfolio's value moved.",
        {
            "portfolio_id": "pf_7",
            "portfolio_name": "Retirement",
            "previous_value": "12062.00",
            "current_value": "12345.67",
            "change": "283.67",
            "change_percent": "2.35",
            "currency": "USD",
            "valued_at": "2026-02-01T16:00:00Z",
        },
    ),
    EventType(
        "position_added",
        "Position Added",
        "A position was opened in a portfolio.",
        {
            "portfolio_id": "pf_7",
            "symbol": "MSFT",
            "quantity": "25",
            "average_price": "402.10",
            "currency": "USD",
        },
    ),
    EventType(
        "position_removed",
        "Position Removed",
        "A position was closed or removed.",
        {
            "portfolio_id": "pf_7",
            "symbol": "NFLX",
            "quantity": "4",
            "average_price": "610.00",
            "currency": "USD",
        },
    ),
    EventType(
        "dividend_payment",
        "Dividend Payment",
        "A dividend was paid into a portfolio.",
        {
            "portfolio_id": "pf_7",
            "symbol": "MSFT",
            "amount": "18.75",
            "amount_per_share": "0.75",
            "currency": "USD",
            "pay_date": "2026-03-12",
        },
    ),
    EventType(
        "trade_executed",
        "Trade Executed",
        "A buy or sell order was filled.",
        {
            "trade_id": "trd_5531",
            "portfolio_id": "pf_7",
            "symbol": "AAPL",
            "side": "buy",
            "quantity": "10",
            "price": "185.50",
            "total": "1855.00",
            "currency": "USD",
            "executed_at": "2026-02-01T14:32:05Z",
        },
    ),
    EventType(
        "custom",
        "Custom Event",
        "Anything your own application sends.",
        {"message": "Rebalance reminder: tech is now 42% of Retirement", "level": "info"},
    ),
)

# Sent only by the test action; a webhook needs no subscription to receive it.
TEST_EVENT = "test"
TEST_LABEL = "Test Event"

EVENT_VALUES: frozenset[str] = frozenset(event.value for event in EVENT_TYPES)
_BY_VALUE: dict[str, EventType] = {event.value: event for event in EVENT_TYPES}


def unknown_event_types(values: list[str]) -> list[str]:
    """The given values that are not subscribable event types, in the order given."""
    return [value for value in values if value not in EVENT_VALUES]


def label_of(value: str) -> str:
    """The type's label; the value itself for a type this version does not know."""
    if value == TEST_EVENT:
        return TEST_LABEL
    event = _BY_VALUE.get(value)
    return event.label if event else value


def example_data(value: str) -> dict[str, Any]:
    """A fresh copy of the type's example data (KeyError for an unknown type)."""
    return copy.deepcopy(_BY_VALUE[value].example)
