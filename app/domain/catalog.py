"""The event types an owner can subscribe a webhook to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    value: str
    label: str
    description: str


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("price_above", "Price Above Target", "A watched price rose above its target."),
    EventType("price_below", "Price Below Target", "A watched price fell below its target."),
    EventType("portfolio_change", "Portfolio Value Change", "A portfolio's value moved."),
    EventType("position_added", "Position Added", "A position was opened in a portfolio."),
    EventType("position_removed", "Position Removed", "A position was closed or removed."),
    EventType("dividend_payment", "Dividend Payment", "A dividend was paid into a portfolio."),
    EventType("trade_executed", "Trade Executed", "A buy or sell order was filled."),
    EventType("custom", "Custom Event", "Anything your own application sends."),
)

# Sent only by the test action; a webhook needs no subscription to receive it.
TEST_EVENT = "test"

EVENT_VALUES: frozenset[str] = frozenset(event.value for event in EVENT_TYPES)


def unknown_event_types(values: list[str]) -> list[str]:
    """The given values that are not subscribable event types, in the order given."""
    return [value for value in values if value not in EVENT_VALUES]
