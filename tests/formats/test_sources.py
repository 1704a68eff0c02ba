"""Each event source builds the documented data and fires it for its owner."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app import sources
from app.domain.catalog import EVENT_TYPES, example_data
from app.extensions import db
from app.models import Event
from app.services.errors import NotFound, ValidationError

CET = timezone(timedelta(hours=1))


@dataclass(frozen=True)
class Alert:
    id: int
    symbol: str
    condition: object
    target_price: Decimal
    current_price: Decimal
    currency: str
    triggered_at: datetime


class Condition(enum.Enum):
    ABOVE = "above"
    BELOW = "below"


def alert(**overrides) -> Alert:
    fields = {
        "id": 1042,
        "symbol": "AAPL",
        "condition": "above",
        "target_price": Decimal("180.00"),
        "current_price": Decimal("185.50"),
        "currency": "USD",
        "triggered_at": datetime(2026, 2, 1, 11, 30, tzinfo=CET),
    }
    return Alert(**{**fields, **overrides})


PORTFOLIO = SimpleNamespace(
    id=7,
    name="Retraite 🏖️",
    previous_value=Decimal("12062.00"),
    current_value=Decimal("12345.67"),
    currency="EUR",
    valued_at=datetime(2026, 2, 1, 16, 0),  # naive: taken as UTC
)
TRADE = SimpleNamespace(
    id="trd_5531",
    portfolio_id=7,
    symbol="AAPL",
    side="BUY",
    quantity=Decimal("0.1"),
    price=Decimal("185.55"),
    currency="USD",
    executed_at=datetime(2026, 2, 1, 14, 32, 5, 999999, tzinfo=UTC),
)
POSITION = SimpleNamespace(
    portfolio_id=7, symbol="MSFT", quantity=25, average_price="402.10", currency="USD"
)
DIVIDEND = SimpleNamespace(
    portfolio_id=7,
    symbol="MSFT",
    amount=Decimal("18.75"),
    amount_per_share=Decimal("0.75"),
    currency="USD",
    pay_date=date(2026, 3, 12),
)


def test_price_alert_above_and_below_by_condition():
    event_type, data = sources.price_alert_data(alert())
    assert event_type == "price_above"
    assert data == {
        "alert_id": "1042",
        "symbol": "AAPL",
        "condition": "above",
        "target": "180.00",
        "price": "185.50",
        "currency": "USD",
        "triggered_at": "2026-02-01T10:30:00Z",
    }
    for condition in ("below", "BELOW", Condition.BELOW):
        event_type, data = sources.price_alert_data(alert(condition=condition))
        assert (event_type, data["condition"]) == ("price_below", "below")


def test_portfolio_change_is_exact():
    assert sources.portfolio_change_data(PORTFOLIO) == {
        "portfolio_id": "7",
        "portfolio_name": "Retraite 🏖️",
        "previous_value": "12062.00",
        "current_value": "12345.67",
        "change": "283.67",
        "change_percent": "2.35",
        "currency": "EUR",
        "valued_at": "2026-02-01T16:00:00Z",
    }


def test_portfolio_change_percent_edges():
    from_zero = SimpleNamespace(**{**vars(PORTFOLIO), "previous_value": 0})
    assert sources.portfolio_change_data(from_zero)["change_percent"] is None
    tiny_fall = SimpleNamespace(
        **{**vars(PORTFOLIO), "previous_value": "1000000", "current_value": "999999.99"}
    )
    data = sources.portfolio_change_data(tiny_fall)
    assert (data["change"], data["change_percent"]) == ("-0.01", "0.00")


def test_trade_total_keeps_every_cent():
    assert sources.trade_data(TRADE) == {
        "trade_id": "trd_5531",
        "portfolio_id": "7",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": "0.1",
        "price": "185.55",
        "total": "18.555",
        "currency": "USD",
        "executed_at": "2026-02-01T14:32:05Z",
    }


def test_position_and_dividend():
    assert sources.position_data(POSITION) == {
        "portfolio_id": "7",
        "symbol": "MSFT",
        "quantity": "25",
        "average_price": "402.10",
        "currency": "USD",
    }
    assert sources.dividend_data(DIVIDEND) == {
        "portfolio_id": "7",
        "symbol": "MSFT",
        "amount": "18.75",
        "amount_per_share": "0.75",
        "currency": "USD",
        "pay_date": "2026-03-12",
    }


def test_every_source_builds_the_keys_the_catalog_documents():
    built = {
        sources.price_alert_data(alert())[0]: sources.price_alert_data(alert())[1],
        "price_below": sources.price_alert_data(alert(condition="below"))[1],
        "portfolio_change": sources.portfolio_change_data(PORTFOLIO),
        "trade_executed": sources.trade_data(TRADE),
        "position_added": sources.position_data(POSITION),
        "position_removed": sources.position_data(POSITION),
        "dividend_payment": sources.dividend_data(DIVIDEND),
    }
    for event in EVENT_TYPES:
        if event.value != "custom":
            assert list(built[event.value]) == list(example_data(event.value)), event.value


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"condition": "crosses"}, "condition"),
        ({"current_price": 185.5}, "current_price"),
        ({"current_price": "12,50"}, "current_price"),
        ({"target_price": Decimal("NaN")}, "target_price"),
        ({"target_price": True}, "target_price"),
        ({"symbol": "  "}, "symbol"),
        ({"triggered_at": "2026-02-01"}, "triggered_at"),
    ],
)
def test_bad_values_are_refused_by_name(overrides, field):
    with pytest.raises(ValidationError) as refused:
        sources.price_alert_data(alert(**overrides))
    assert field in refused.value.fields


def test_exponent_notation_is_written_out():
    _, data = sources.price_alert_data(alert(target_price=Decimal("1E+2")))
    assert data["target"] == "100"


@pytest.mark.parametrize(
    ("source", "subject", "event_type"),
    [
        (sources.on_price_alert, alert(condition="below"), "price_below"),
        (sources.on_portfolio_value_change, PORTFOLIO, "portfolio_change"),
        (sources.on_trade_executed, TRADE, "trade_executed"),
        (sources.on_position_added, POSITION, "position_added"),
        (sources.on_position_removed, POSITION, "position_removed"),
        (sources.on_dividend_payment, DIVIDEND, "dividend_payment"),
    ],
)
def test_each_source_fires_its_event_for_its_owner(
    make_user, make_webhook, receiver, source, subject, event_type
):
    owner = make_user()
    make_webhook(receiver.url, user=owner, events=[event_type])
    for who in (owner, owner.id, owner.email.upper()):
        triggered = source(who, subject)
        assert triggered.deliveries == 1
        event = db.session.get(Event, triggered.event_id)
        assert (event.user_id, event.event_type) == (owner.id, event_type)
        assert list(event.data) == list(example_data(event_type))


def test_an_unknown_owner_is_not_found(ctx):
    with pytest.raises(NotFound):
        sources.on_position_added(10**9, POSITION)
    with pytest.raises(NotFound):
        sources.on_position_added("nobody@example.invalid", POSITION)
