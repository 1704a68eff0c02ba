"""`client.events.send` against the live server: delivered, encoded as app.sources encodes,
and refused with typed errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from signalpost_client import Client, Forbidden, NotFound, Unauthorized, ValidationError
from standardwebhooks import Webhook as StandardWebhook

from app.extensions import db
from app.models import Delivery
from app.services import sources, users
from tests.client.conftest import events_of
from tests.support.receiver import Receiver
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def test_send_delivers_the_event_signed_to_the_tenants_webhook(
    signalpost: Client, make_tenant, make_webhook, receiver: Receiver
) -> None:
    external_id, user = make_tenant()
    webhook, secret = make_webhook(receiver.url, user=user)

    sent = signalpost.events.send(external_id, "price_above", {"symbol": "ACME", "price": "101.5"})

    assert sent.id.startswith("evt_") and sent.deliveries == 1 and not sent.replayed
    assert sent.idempotency_key
    wait_for(lambda: receiver.requests)
    delivery = receiver.requests[0]
    assert delivery.headers["X-Webhook-Id"] == sent.id
    verified = StandardWebhook(secret).verify(delivery.body, delivery.headers)
    assert verified["data"] == {"symbol": "ACME", "price": "101.5"}
    assert [event.id for event in events_of(user)] == [sent.id]


def test_decimals_and_datetimes_arrive_exactly_as_app_sources_sends_them(
    signalpost: Client, make_tenant, make_webhook, receiver: Receiver
) -> None:
    external_id, user = make_tenant()
    make_webhook(receiver.url, user=user)
    alert = SimpleNamespace(
        id=7,
        symbol="AAPL",
        condition="above",
        target_price=Decimal("180"),
        current_price=Decimal("1.855E+2"),  # exponent notation in, "185.5" out
        currency="USD",
        triggered_at=datetime(2026, 2, 1, 10, 30, 0, 123456),  # naive: taken as UTC
    )
    event_type, expected = sources.price_alert_data(alert)
    data = {
        "alert_id": "7",
        "symbol": "AAPL",
        "condition": "above",
        "target": alert.target_price,
        "price": alert.current_price,
        "currency": "USD",
        "triggered_at": alert.triggered_at,
    }

    signalpost.events.send(external_id, event_type, data)

    wait_for(lambda: receiver.requests)
    assert json.loads(receiver.requests[0].body)["data"] == expected
    assert expected["price"] == "185.5" and expected["triggered_at"] == "2026-02-01T10:30:00Z"


def test_aware_datetimes_become_utc_and_dates_iso(
    signalpost: Client, make_tenant, make_webhook, receiver: Receiver
) -> None:
    external_id, user = make_tenant()
    make_webhook(receiver.url, user=user, events=["dividend_payment"])
    paris = timezone(timedelta(hours=1))

    signalpost.events.send(
        external_id,
        "dividend_payment",
        {"at": datetime(2026, 2, 1, 11, 30, tzinfo=paris), "pay_date": date(2026, 3, 2)},
    )

    wait_for(lambda: receiver.requests)
    assert json.loads(receiver.requests[0].body)["data"] == {
        "at": sources._instant(datetime(2026, 2, 1, 10, 30, tzinfo=UTC), "at"),
        "pay_date": sources._day(date(2026, 3, 2), "pay_date"),
    }


def test_a_value_that_cannot_be_sent_is_refused_before_sending(
    signalpost: Client, make_tenant
) -> None:
    external_id, user = make_tenant()
    with pytest.raises(ValueError, match="finite"):
        signalpost.events.send(external_id, "price_above", {"price": Decimal("NaN")})
    with pytest.raises(TypeError, match="set"):
        signalpost.events.send(external_id, "price_above", {"symbols": {"A"}})
    assert events_of(user) == []


def test_no_subscribed_webhook_means_no_delivery(signalpost: Client, make_tenant) -> None:
    external_id, _ = make_tenant()
    assert signalpost.events.send(external_id, "custom", {}).deliveries == 0


def test_an_unknown_event_type_is_a_validation_error_naming_the_field(
    signalpost: Client, make_tenant
) -> None:
    external_id, _ = make_tenant()
    with pytest.raises(ValidationError) as refused:
        signalpost.events.send(external_id, "price_sideways", {})
    assert refused.value.status == 422
    assert refused.value.code == "validation_error"
    assert "event" in refused.value.fields
    assert "price_sideways" in refused.value.message


def test_an_unknown_tenant_is_not_found(signalpost: Client) -> None:
    with pytest.raises(NotFound) as refused:
        signalpost.events.send("nobody-here", "custom", {})
    assert refused.value.code == "not_found"


def test_an_unknown_key_is_unauthorized_and_a_user_token_is_forbidden(
    live_server: str, make_tenant
) -> None:
    external_id, user = make_tenant()
    with pytest.raises(Unauthorized) as refused:
        Client(live_server, "spk_not-a-key", max_retries=0).events.send(external_id, "custom", {})
    assert refused.value.status == 401
    token = users.create_api_token(user)
    with pytest.raises(Forbidden) as refused:
        Client(live_server, token, max_retries=0).events.send(external_id, "custom", {})
    assert refused.value.code == "forbidden"


def test_expires_in_bounds_how_long_the_delivery_may_wait(
    signalpost: Client, make_tenant, make_webhook, receiver: Receiver
) -> None:
    external_id, user = make_tenant()
    make_webhook(receiver.url, user=user, events=["custom"])

    sent = signalpost.events.send(external_id, "custom", {}, expires_in=120)

    db.session.rollback()
    delivery = db.session.scalar(sa.select(Delivery).where(Delivery.event_id == sent.id))
    assert delivery is not None and delivery.expires_at is not None
    assert 119 <= (delivery.expires_at - delivery.created_at).total_seconds() <= 121
    with pytest.raises(ValidationError) as refused:
        signalpost.events.send(external_id, "custom", {}, expires_in=0)
    assert "expires_in" in refused.value.fields
