"""Everything this host says to Signalpost, through `signalpost_client`."""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from signalpost_client import Client, SentEvent, SignalpostError

from trading.models import PriceAlert

log = logging.getLogger(__name__)


@cache
def client() -> Client:
    return Client(settings.SIGNALPOST_URL, settings.SIGNALPOST_KEY, timeout=5)


def tenant_id(user) -> str:
    """The tenant that stands for this user: our own user id (with the configured prefix)."""
    return f"{settings.SIGNALPOST_TENANT_PREFIX}{user.pk}"


def put_tenant(user) -> None:
    client().tenants.put(tenant_id(user), email=user.email, name=user.get_username())


def sync_tenant_on_login(sender, request, user, **kwargs) -> None:
    """Signing in must work while Signalpost is away: log, and let /webhooks try again."""
    try:
        put_tenant(user)
    except SignalpostError:
        log.warning("could not update the Signalpost tenant of user %s", user.pk, exc_info=True)


def fire_price_alert(alert: PriceAlert) -> SentEvent:
    """`price_above` / `price_below` with the data Signalpost documents for them.

    The key names the alert, which fires once: a repeat of this call (a retried task, a
    double-submitted form) is answered with the first event and delivers nothing more.
    """
    return client().events.send(
        tenant_id(alert.user),
        f"price_{alert.condition}",
        {
            "alert_id": str(alert.pk),
            "symbol": alert.symbol,
            "condition": alert.condition,
            "target": alert.target_price.normalize(),
            "price": alert.current_price.normalize(),
            "currency": alert.currency,
            "triggered_at": alert.triggered_at,
        },
        idempotency_key=f"price-alert-{alert.pk}",
    )
