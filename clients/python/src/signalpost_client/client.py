"""`Client`: the host's backend talking to Signalpost with an operator key."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from signalpost_client.encoding import encode
from signalpost_client.errors import SignalpostError
from signalpost_client.models import SentEvent, SignInLink, Tenant
from signalpost_client.transport import Answer, RetryPolicy, Transport

REPLAYED_HEADER = "Idempotent-Replayed"
# Methods `Client.request` retries; a POST or PATCH there is sent once, as it may not be safe.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _tenant_path(external_id: str, suffix: str = "") -> str:
    if not external_id:
        raise ValueError("external_id must not be empty")
    # Quoted whole: an id can never reach another route, whatever it holds (the server
    # answers 422 for characters it does not allow).
    return f"/api/tenants/{quote(external_id, safe='')}{suffix}"


class Tenants:
    """`client.tenants`: create, read and delete the tenants that stand for the host's users."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def put(self, external_id: str, *, email: str, name: str | None = None) -> Tenant:
        """Create the tenant `external_id`, or update its email and name; safe to repeat.

        Call it when your user signs up, signs in or changes their address.
        """
        document: dict[str, Any] = {"email": email}
        if name is not None:
            document["name"] = name
        answer = self._transport.request("PUT", _tenant_path(external_id), body=encode(document))
        return Tenant.from_json(answer.json(), created=answer.status == 201)

    def get(self, external_id: str) -> Tenant:
        """The tenant `external_id`; raises `NotFound` when there is none."""
        return Tenant.from_json(self._transport.request("GET", _tenant_path(external_id)).json())

    def delete(self, external_id: str) -> None:
        """Delete the tenant with all their webhooks, events, deliveries and tokens.

        Raises `NotFound` when there is no such tenant, except on the client's own retry after
        a lost answer, where a 404 means the first attempt already deleted it.
        """
        self._transport.request("DELETE", _tenant_path(external_id), done_on_retry=(404,))


class Events:
    """`client.events`: firing events for a tenant."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def send(
        self,
        external_id: str,
        event: str,
        data: Mapping[str, Any],
        idempotency_key: str | None = None,
        expires_in: int | None = None,
    ) -> SentEvent:
        """Fire `event` (e.g. `price_above`) with `data` to the tenant's subscribed webhooks.

        `data` may hold `Decimal`, `datetime` and `date` values: they are sent as
        `app.sources` sends them ("185.50", "2026-02-01T10:30:00Z"). Without an
        `idempotency_key` one is made; either way every retry of this call carries the same
        key, so a retry after a lost answer never delivers twice. Pass your own key (e.g.
        `f"alert-{alert.id}-{alert.triggered_at:%s}"`) to make repeats of *your* call safe
        too, across processes and restarts. `expires_in`: seconds after which a delivery not
        yet made is dropped rather than sent late.
        """
        key = idempotency_key if idempotency_key is not None else f"spc_{uuid.uuid4().hex}"
        document: dict[str, Any] = {"event": event, "data": dict(data)}
        if expires_in is not None:
            document["expires_in"] = expires_in
        try:
            answer = self._transport.request(
                "POST",
                "/api/events",
                body=encode(document),
                tenant=external_id,
                headers={"Idempotency-Key": key},
            )
        except SignalpostError as exc:
            exc.idempotency_key = key  # to send the same event again later, safely
            raise
        result = answer.json()
        return SentEvent(
            id=str(result["id"]),
            deliveries=int(result["deliveries"]),
            replayed=answer.headers.get(REPLAYED_HEADER, "").lower() == "true",
            idempotency_key=key,
        )


class Client:
    """A Signalpost client for the host's backend.

    `base_url` is Signalpost's address (`https://webhooks.example.com`, a path prefix allowed);
    `key` an operator key `spk_…` (`flask keys create NAME`): keep it on the server, never in a
    browser. `timeout` bounds each attempt (connect and read), in seconds; `max_retries` is how
    many times a call is retried after a connection error, a timeout, a 429 or a 5xx.

    A client holds no connection between calls and may be shared between threads.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 10,
        max_retries: int = 3,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._transport = Transport(
            base_url,
            key,
            timeout=timeout,
            policy=RetryPolicy(max_retries=max_retries),
            ssl_context=ssl_context,
        )
        self.tenants = Tenants(self._transport)
        self.events = Events(self._transport)

    def sign_in_link(self, external_id: str, return_to: str | None = None) -> SignInLink:
        """A single-use link that signs the tenant into the pages and lands on `return_to`
        (a path on Signalpost, e.g. "/webhooks"). Redirect the user's browser to `.url`."""
        document = {} if return_to is None else {"return_to": return_to}
        answer = self._transport.request(
            "POST", _tenant_path(external_id, "/sign-in-link"), body=encode(document)
        )
        return SignInLink.from_json(answer.json())

    def request(
        self,
        method: str,
        path: str,
        *,
        tenant: str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Any other route of the API, e.g. `request("GET", "/api/webhooks", tenant="42")`.

        With `tenant`, the call acts as that tenant. GET, HEAD, OPTIONS, PUT and DELETE are
        retried like the other calls; POST and PATCH are sent once, since repeating them may
        not be safe. Errors raise the same exceptions.
        """
        body = None if json is None else encode(json)
        retries = None if method.upper() in IDEMPOTENT_METHODS else 0
        return self._transport.request(
            method, path, body=body, tenant=tenant, headers=headers, retries=retries
        )
