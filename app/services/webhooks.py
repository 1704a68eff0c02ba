"""Registering, changing and looking up webhooks. One validation path for every caller."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.domain import formats, signing
from app.domain.catalog import unknown_event_types
from app.domain.formats import FORMATS
from app.domain.secretbox import SecretBox
from app.domain.timestamps import isoformat
from app.domain.urls import normalise_url, url_problem
from app.extensions import db
from app.models import Delivery, Subscription, User, Webhook, utcnow
from app.services import operator_notices
from app.services.errors import Conflict, NotFound, ValidationError

NAME_MAX_LENGTH = 100
# What a name may not hold: control and format characters (NUL, bidi overrides, zero-width
# joiners...), line and paragraph separators, lone surrogates. The API's description states
# the same rule as a pattern (app/api/schemas.py).
NAME_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# A rotated-out secret keeps signing this long, so receivers can switch without losing events.
ROTATION_OVERLAP = timedelta(hours=24)
# Why a webhook was disabled by hand, as its owner is shown it.
DISABLED_BY_ADMIN = "Disabled by an admin."
DISABLED_BY_OWNER = "Disabled by its owner."
ENABLED_BY_ADMIN = "Enabled by an admin."
ENABLED_BY_OWNER = "Enabled by its owner."


@dataclass(frozen=True)
class WebhookInput:
    """What an owner may set on a webhook; None means "leave as it is" on update."""

    name: str | None = None
    url: str | None = None
    events: list[str] | None = None
    format: str | None = None
    is_active: bool | None = None


def _secret_box() -> SecretBox:
    return _box_for(current_app.config["WEBHOOK_ENCRYPTION_KEY"])


@cache
def _box_for(keys: str) -> SecretBox:
    # Built once per key list: every delivery opens a secret with it.
    return SecretBox(keys)


def _open(sealed: str) -> str:
    return _opened(current_app.config["WEBHOOK_ENCRYPTION_KEY"], sealed)


@lru_cache(maxsize=4096)
def _opened(keys: str, sealed: str) -> str:
    # Opening is an HMAC check and an AES decryption, a tenth of a delivery's own CPU. A
    # sealed secret changes only when it is rotated or re-encrypted, so its plaintext is kept
    # by the sealed form, in the worker's memory, which holds the encryption key anyway.
    return _box_for(keys).open(sealed)


class SealedSecrets(Protocol):
    """A webhook's encrypted secrets: the model, or a row read in the delivery claim."""

    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None


def validate(data: WebhookInput, *, creating: bool) -> None:
    """Raise ValidationError naming every bad field at once."""
    problems: dict[str, list[str]] = {}
    if creating or data.name is not None:
        name = (data.name or "").strip()
        if not name:
            problems["name"] = ["Enter a name."]
        elif len(name) > NAME_MAX_LENGTH:
            problems["name"] = [f"Use at most {NAME_MAX_LENGTH} characters."]
        elif any(unicodedata.category(char) in NAME_REFUSED_CATEGORIES for char in name):
            problems["name"] = ["Use printable characters only."]
    if creating or data.url is not None:
        problem = url_problem(
            (data.url or "").strip(),
            require_https=current_app.config["WEBHOOK_REQUIRE_HTTPS"],
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"],
        )
        if problem:
            problems["url"] = [problem]
    if creating or data.events is not None:
        events = data.events or []
        unknown = unknown_event_types(events)
        if not events:
            problems["events"] = ["Choose at least one event type."]
        elif unknown:
            problems["events"] = [f"Unknown event type: {', '.join(unknown)}."]
    if data.format is not None and data.format not in FORMATS:
        problems["format"] = [f"Choose one of: {', '.join(FORMATS)}."]
    if problems:
        raise ValidationError.from_fields(problems)


def suggest_format(url: str) -> str:
    """The format the form should preselect for this URL."""
    return formats.suggest_format(url or "")


def format_warning(url: str, format_name: str | None) -> str | None:
    """Advice (never a refusal) for the form and the API when URL and format seem not to match."""
    return formats.format_warning(url or "", format_name or "json")


def _set_subscriptions(webhook: Webhook, events: Iterable[str]) -> None:
    wanted = sorted(set(events))
    webhook.subscriptions = [
        Subscription(event_type=event, user_id=webhook.user_id) for event in wanted
    ]


def register_webhook(user: User, data: WebhookInput) -> tuple[Webhook, str]:
    """Create a webhook; returns it with its secret, which is shown to the owner only now."""
    validate(data, creating=True)
    limit = current_app.config["WEBHOOK_MAX_PER_USER"]
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Webhook).where(Webhook.user_id == user.id)
    )
    if count is not None and count >= limit:
        raise Conflict(f"You already have {count} webhooks, the most allowed is {limit}.")
    secret = signing.generate_secret()
    webhook = Webhook(
        user_id=user.id,
        name=(data.name or "").strip(),
        url=normalise_url((data.url or "").strip()),
        secret_encrypted=_secret_box().seal(secret),
        format=data.format or "json",
        is_active=True if data.is_active is None else data.is_active,
    )
    _set_subscriptions(webhook, data.events or [])
    db.session.add(webhook)
    db.session.commit()
    return webhook, secret


def update_webhook(webhook: Webhook, data: WebhookInput) -> Webhook:
    validate(data, creating=False)
    notice = None
    if data.is_active is not None:
        notice = set_active(webhook, data.is_active, commit=False)  # first: it may refuse
    if data.name is not None:
        webhook.name = data.name.strip()
    if data.url is not None:
        webhook.url = normalise_url(data.url.strip())
    if data.format is not None:
        webhook.format = data.format
    if data.events is not None:
        _set_subscriptions(webhook, data.events)
    db.session.commit()
    _announce(webhook, notice)
    return webhook


def set_active(
    webhook: Webhook,
    active: bool,
    *,
    reason: str | None = None,
    by_admin: bool = False,
    commit: bool = True,
) -> tuple[str, str] | None:
    """Enable or disable by hand. Enabling forgives past failures.

    An admin's disable holds until an admin lifts it: its owner's enable is refused, saying why.
    Returns the operator notice the change calls for, if it is one; it is sent here once
    committed, or by the caller after its own commit.
    """
    was_active = webhook.is_active
    if active:
        if webhook.disabled_by_admin and not by_admin:
            message = f"{webhook.disabled_reason} Only an admin can enable it again."
            raise Conflict(message, {"is_active": [message]})
        webhook.is_active = True
        webhook.disabled_reason = None
        webhook.disabled_at = None
        webhook.disabled_by_admin = False
        webhook.consecutive_failures = 0
    elif by_admin:
        webhook.is_active = False
        webhook.disabled_reason = reason or DISABLED_BY_ADMIN
        webhook.disabled_at = webhook.disabled_at or utcnow()
        webhook.disabled_by_admin = True
    elif webhook.is_active:
        webhook.is_active = False
        webhook.disabled_reason = reason or DISABLED_BY_OWNER
        webhook.disabled_at = utcnow()
    notice = None
    if webhook.is_active and not was_active:
        notice = (
            operator_notices.WEBHOOK_ENABLED,
            ENABLED_BY_ADMIN if by_admin else ENABLED_BY_OWNER,
        )
    elif was_active and not webhook.is_active:
        notice = (operator_notices.WEBHOOK_DISABLED, webhook.disabled_reason or "")
    if commit:
        db.session.commit()
        _announce(webhook, notice)
    return notice


def _announce(webhook: Webhook, notice: tuple[str, str] | None) -> None:
    if notice is not None:
        operator_notices.notify(notice[0], webhook, reason=notice[1])


def delete_webhook(webhook: Webhook) -> None:
    # Lock the webhook's deliveries before the webhook itself, the order a worker finishing a
    # delivery takes them in (its delivery row, then the webhook's counters): the delete then
    # waits for that worker instead of deadlocking with it on PostgreSQL.
    db.session.execute(
        sa.select(Delivery.id).where(Delivery.webhook_id == webhook.id).with_for_update()
    )
    db.session.delete(webhook)
    db.session.commit()


def get_webhook(webhook_id: int, owner: User | None = None) -> Webhook:
    """The webhook, when it exists and (if an owner is given) belongs to that owner."""
    # The operator notices' own webhook is nobody's to see or change.
    query = sa.select(Webhook).where(Webhook.id == webhook_id, Webhook.is_system.is_(False))
    if owner is not None:
        query = query.where(Webhook.user_id == owner.id)
    webhook = db.session.scalar(query)
    if webhook is None:
        raise NotFound(f"No webhook with id {webhook_id}.")
    return webhook


def list_webhooks(owner: User | None = None) -> list[Webhook]:
    # Every list shows each webhook's events, and the admin's its owner: loaded in one query
    # each rather than one per row.
    query = (
        sa.select(Webhook)
        .options(selectinload(Webhook.subscriptions), selectinload(Webhook.user))
        .where(Webhook.is_system.is_(False))
        .order_by(Webhook.id)
    )
    if owner is not None:
        query = query.where(Webhook.user_id == owner.id)
    return list(db.session.scalars(query))


def reveal_secret(webhook: Webhook) -> str:
    return _open(webhook.secret_encrypted)


def signing_secrets(webhook: SealedSecrets) -> list[str]:
    """Secrets that sign a delivery now: the current one, and the previous one while it overlaps."""
    secrets_in_force = [_open(webhook.secret_encrypted)]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret_encrypted and expires and expires > utcnow():
        secrets_in_force.append(_open(webhook.previous_secret_encrypted))
    return secrets_in_force


def seal_secret(webhook: Webhook, secret: str) -> None:
    """Set a secret chosen elsewhere (the operator's), with no overlap: the old one stops now."""
    webhook.secret_encrypted = _secret_box().seal(secret)
    webhook.previous_secret_encrypted = None
    webhook.previous_secret_expires_at = None


def rotate_secret(webhook: Webhook) -> str:
    """Give the webhook a new secret; the old one keeps signing for ROTATION_OVERLAP."""
    secret = signing.generate_secret()
    webhook.previous_secret_encrypted = webhook.secret_encrypted
    webhook.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    webhook.secret_encrypted = _secret_box().seal(secret)
    db.session.commit()
    return secret


def as_dict(webhook: Webhook, *, secret: str | None = None) -> dict[str, Any]:
    """The contract's webhook object; the secret is masked unless given in full."""
    return {
        "id": webhook.id,
        "name": webhook.name,
        "url": webhook.url,
        "events": webhook.events,
        "format": webhook.format,
        "is_active": webhook.is_active,
        "disabled_reason": webhook.disabled_reason,
        "last_triggered": isoformat(webhook.last_triggered),
        "success_count": webhook.success_count,
        "failure_count": webhook.failure_count,
        "consecutive_failures": webhook.consecutive_failures,
        "secret": secret if secret is not None else signing.mask(reveal_secret(webhook)),
        "created_at": isoformat(webhook.created_at),
        "updated_at": isoformat(webhook.updated_at),
    }
