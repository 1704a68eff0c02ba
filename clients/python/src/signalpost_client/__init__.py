"""signalpost_client: the host application's backend talking to Signalpost.

    from signalpost_client import Client

    signalpost = Client("https://webhooks.example.com", "spk_…")
    signalpost.tenants.put("42", email="ann@example.com", name="Ann")
    link = signalpost.sign_in_link("42", return_to="/webhooks")   # redirect to link.url
    sent = signalpost.events.send("42", "price_above", {"price": Decimal("185.50")})

The standard library only; see README.md beside this package.
"""

from signalpost_client._version import __version__
from signalpost_client.client import Client, Events, Tenants
from signalpost_client.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    SignalpostError,
    TransportError,
    Unauthorized,
    ValidationError,
)
from signalpost_client.models import SentEvent, SignInLink, Tenant

__all__ = [
    "Client",
    "Conflict",
    "Events",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "SentEvent",
    "ServerError",
    "SignInLink",
    "SignalpostError",
    "Tenant",
    "Tenants",
    "TransportError",
    "Unauthorized",
    "ValidationError",
    "__version__",
]
