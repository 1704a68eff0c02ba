"""Event sources: building each event type's data from the host's objects, and firing it.

Each `on_*` function takes the owner (a `User`, a user id or an email) and a plain object,
builds the documented `data` of its event type (the examples in `app.domain.catalog`, shown in
docs/integrations.md) and fires it with `trigger_event`. Call them inside an app context::

    from app import sources

    with app.app_context():
        sources.on_trade_executed("ann@example.com", trade)

The objects are duck-typed: anything with the attributes of the Protocols below works (your
ORM models, dataclasses, `SimpleNamespace`). Money and quantities must be exact: `Decimal`,
`int` or a numeric string; they become strings such as "185.50", never floats that lose cents.
Datetimes become ISO 8601 UTC ("2026-02-01T10:30:00Z"); a naive datetime is taken as UTC.
Ids become strings. Bad values raise `ValidationError` naming the field.

Each takes `idempotency_key=`: a call repeated with the same key and the same object within
24 hours returns the first call's `Triggered` (with `replayed=True`) and delivers nothing more,
so a host may safely retry a call whose outcome it did not see (a trade's id makes a good key).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Protocol

from app.domain.payload import iso_utc
from app.extensions import db
from app.models import User
from app.services import users
from app.services.errors import NotFound, ValidationError
from app.services.events import Triggered, trigger_event

Owner = User | int | str
Amount = Decimal | int | str


class PriceAlert(Protocol):
    id: Any
    symbol: str
    condition: Any  # "above" / "below", any case, or an enum whose value is one of those
    target_price: Amount
    current_price: Amount
    currency: str
    triggered_at: datetime


class Portfolio(Protocol):
    id: Any
    name: str
    previous_value: Amount
    current_value: Amount
    currency: str
    valued_at: datetime


class Trade(Protocol):
    id: Any
    portfolio_id: Any
    symbol: str
    side: Any  # "buy" / "sell", any case, or an enum whose value is one of those
    quantity: Amount
    price: Amount
    currency: str
    executed_at: datetime


class Position(Protocol):
    portfolio_id: Any
    symbol: str
    quantity: Amount
    average_price: Amount
    currency: str


class Dividend(Protocol):
    portfolio_id: Any
    symbol: str
    amount: Amount
    amount_per_share: Amount
    currency: str
    pay_date: date


def _bad(field: str, problem: str) -> ValidationError:
    return ValidationError.from_fields({field: [problem]})


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise _bad(field, f"Use a Decimal, an int or a numeric string, not {type(value).__name__}.")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise _bad(field, f"{value!r} is not a number.") from None
    if not number.is_finite():
        raise _bad(field, f"{value!r} is not a finite number.")
    return number


def _amount(number: Decimal) -> str:
    """Exact, never in exponent notation: Decimal("185.50") stays "185.50"."""
    return format(number, "f")


def _instant(value: Any, field: str) -> str:
    if not isinstance(value, datetime):
        raise _bad(field, "Use a datetime.")
    return iso_utc(value if value.tzinfo else value.replace(tzinfo=UTC))


def _day(value: Any, field: str) -> str:
    if isinstance(value, datetime):
        return _instant(value, field)
    if not isinstance(value, date):
        raise _bad(field, "Use a date.")
    return value.isoformat()


def _text(value: Any, field: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise _bad(field, "Must not be empty.")
    return text


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    raw = value.value if isinstance(value, enum.Enum) else value
    choice = str(raw).strip().lower()
    if choice not in choices:
        raise _bad(field, f"{raw!r} is not one of: {', '.join(choices)}.")
    return choice


def price_alert_data(alert: PriceAlert) -> tuple[str, dict[str, Any]]:
    """`price_above` or `price_below` by the alert's condition, and its data."""
    condition = _choice(alert.condition, "condition", ("above", "below"))
    return f"price_{condition}", {
        "alert_id": _text(alert.id, "id"),
        "symbol": _text(alert.symbol, "symbol"),
        "condition": condition,
        "target": _amount(_decimal(alert.target_price, "target_price")),
        "price": _amount(_decimal(alert.current_price, "current_price")),
        "currency": _text(alert.currency, "currency"),
        "triggered_at": _instant(alert.triggered_at, "triggered_at"),
    }


def portfolio_change_data(portfolio: Portfolio) -> dict[str, Any]:
    """`change` is exact; `change_percent` is rounded to 2 places, null from a value of 0."""
    previous = _decimal(portfolio.previous_value, "previous_value")
    current = _decimal(portfolio.current_value, "current_value")
    percent = None
    if previous != 0:
        ratio = ((current - previous) / previous * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        percent = _amount(ratio.copy_abs() if ratio.is_zero() else ratio)  # never "-0.00"
    return {
        "portfolio_id": _text(portfolio.id, "id"),
        "portfolio_name": _text(portfolio.name, "name"),
        "previous_value": _amount(previous),
        "current_value": _amount(current),
        "change": _amount(current - previous),
        "change_percent": percent,
        "currency": _text(portfolio.currency, "currency"),
        "valued_at": _instant(portfolio.valued_at, "valued_at"),
    }


def trade_data(trade: Trade) -> dict[str, Any]:
    """`total` is quantity × price, exact."""
    quantity = _decimal(trade.quantity, "quantity")
    price = _decimal(trade.price, "price")
    return {
        "trade_id": _text(trade.id, "id"),
        "portfolio_id": _text(trade.portfolio_id, "portfolio_id"),
        "symbol": _text(trade.symbol, "symbol"),
        "side": _choice(trade.side, "side", ("buy", "sell")),
        "quantity": _amount(quantity),
        "price": _amount(price),
        "total": _amount(quantity * price),
        "currency": _text(trade.currency, "currency"),
        "executed_at": _instant(trade.executed_at, "executed_at"),
    }


def position_data(position: Position) -> dict[str, Any]:
    return {
        "portfolio_id": _text(position.portfolio_id, "portfolio_id"),
        "symbol": _text(position.symbol, "symbol"),
        "quantity": _amount(_decimal(position.quantity, "quantity")),
        "average_price": _amount(_decimal(position.average_price, "average_price")),
        "currency": _text(position.currency, "currency"),
    }


def dividend_data(dividend: Dividend) -> dict[str, Any]:
    return {
        "portfolio_id": _text(dividend.portfolio_id, "portfolio_id"),
        "symbol": _text(dividend.symbol, "symbol"),
        "amount": _amount(_decimal(dividend.amount, "amount")),
        "amount_per_share": _amount(_decimal(dividend.amount_per_share, "amount_per_share")),
        "currency": _text(dividend.currency, "currency"),
        "pay_date": _day(dividend.pay_date, "pay_date"),
    }


def resolve_owner(owner: Owner) -> User:
    """A `User` as it is; an int as a user id; a str as an email."""
    if isinstance(owner, User):
        return owner
    if isinstance(owner, str):
        return users.get_user_by_email(owner)
    if isinstance(owner, int) and not isinstance(owner, bool):
        user = db.session.get(User, owner)
        if user is None:
            raise NotFound(f"No user with id {owner}.")
        return user
    raise TypeError(f"owner must be a User, a user id or an email, not {type(owner).__name__}")


def on_price_alert(
    owner: Owner, alert: PriceAlert, *, idempotency_key: str | None = None
) -> Triggered:
    """A price alert fired: `price_above` or `price_below`, by `alert.condition`."""
    event_type, data = price_alert_data(alert)
    return trigger_event(resolve_owner(owner), event_type, data, idempotency_key=idempotency_key)


def on_portfolio_value_change(
    owner: Owner, portfolio: Portfolio, *, idempotency_key: str | None = None
) -> Triggered:
    """A portfolio was revalued: `portfolio_change`."""
    return trigger_event(
        resolve_owner(owner),
        "portfolio_change",
        portfolio_change_data(portfolio),
        idempotency_key=idempotency_key,
    )


def on_trade_executed(
    owner: Owner, trade: Trade, *, idempotency_key: str | None = None
) -> Triggered:
    """An order was filled: `trade_executed`."""
    return trigger_event(
        resolve_owner(owner), "trade_executed", trade_data(trade), idempotency_key=idempotency_key
    )


def on_position_added(
    owner: Owner, position: Position, *, idempotency_key: str | None = None
) -> Triggered:
    """A position was opened: `position_added`."""
    return trigger_event(
        resolve_owner(owner),
        "position_added",
        position_data(position),
        idempotency_key=idempotency_key,
    )


def on_position_removed(
    owner: Owner, position: Position, *, idempotency_key: str | None = None
) -> Triggered:
    """A position was closed or removed: `position_removed`."""
    return trigger_event(
        resolve_owner(owner),
        "position_removed",
        position_data(position),
        idempotency_key=idempotency_key,
    )


def on_dividend_payment(
    owner: Owner, dividend: Dividend, *, idempotency_key: str | None = None
) -> Triggered:
    """A dividend was paid: `dividend_payment`."""
    return trigger_event(
        resolve_owner(owner),
        "dividend_payment",
        dividend_data(dividend),
        idempotency_key=idempotency_key,
    )
