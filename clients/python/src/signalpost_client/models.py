"""What the API answers, as small immutable objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Tenant:
    """The Signalpost user that stands for one of the host's users.

    `created` is True when the call that returned it made the tenant (PUT answered 201).
    """

    id: str
    email: str
    name: str | None
    created_at: datetime | None
    created: bool = False

    @classmethod
    def from_json(cls, document: dict[str, Any], *, created: bool = False) -> Tenant:
        return cls(
            id=str(document["id"]),
            email=str(document["email"]),
            name=document.get("name"),
            created_at=_moment(document.get("created_at")),
            created=created,
        )


@dataclass(frozen=True)
class SignInLink:
    """A single-use URL that signs the tenant into the Signalpost pages until `expires_at`."""

    url: str
    expires_at: datetime | None

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SignInLink:
        return cls(url=str(document["url"]), expires_at=_moment(document.get("expires_at")))


@dataclass(frozen=True)
class SentEvent:
    """An accepted event: its id (`evt_…`), how many deliveries it made, and whether the
    answer is a replay of an earlier send with the same idempotency key (then nothing more
    was delivered). `idempotency_key` is the key it was sent with."""

    id: str
    deliveries: int
    replayed: bool
    idempotency_key: str
