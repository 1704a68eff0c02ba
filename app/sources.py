"""The public Python API for firing events from the host application (docs/integrations.md).

`from app import sources` is the import path the docs promise; the functions themselves live
in `app.services.sources`, beside the other services.
"""

from app.services.sources import (
    Dividend,
    Portfolio,
    Position,
    PriceAlert,
    Trade,
    dividend_data,
    on_dividend_payment,
    on_portfolio_value_change,
    on_position_added,
    on_position_removed,
    on_price_alert,
    on_trade_executed,
    portfolio_change_data,
    position_data,
    price_alert_data,
    resolve_owner,
    trade_data,
)

__all__ = [
    "Dividend",
    "Portfolio",
    "Position",
    "PriceAlert",
    "Trade",
    "dividend_data",
    "on_dividend_payment",
    "on_portfolio_value_change",
    "on_position_added",
    "on_position_removed",
    "on_price_alert",
    "on_trade_executed",
    "portfolio_change_data",
    "position_data",
    "price_alert_data",
    "resolve_owner",
    "trade_data",
]
