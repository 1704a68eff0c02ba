"""Operator notices: Signalpost's own signed events about endpoints, sent to the host's URL.

With SIGNALPOST_OPERATOR_WEBHOOK_URL and _SECRET set, a system webhook, owned by a system user,
is kept in step with them and subscribed to the notice types; a notice is an event of that
user, so it is stored, signed, retried and logged like any delivery. The system webhook is
never listed or counted, never disabled by the circuit breaker, and never the subject of a
notice itself: a failing operator endpoint cannot cause notices about itself.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.domain.urls import normalise_url
from app.extensions import db
from app.models import Subscription, User, Webhook
from app.services import events, webhooks

log = logging.getLogger(__name__)

WEBHOOK_DISABLED = "webhook.disabled"
WEBHOOK_ENABLED = "webhook.enabled"
DELIVERY_EXHAUSTED = "delivery.exhausted"
NOTICE_TYPES = (WEBHOOK_DISABLED, WEBHOOK_ENABLED, DELIVERY_EXHAUSTED)
# No address can be registered as this one (app.services.users.EMAIL_PATTERN wants a dot
# after the @), and the unique email makes concurrent first notices create one system user.
SYSTEM_EMAIL = "operator-notices@signalpost"
SYSTEM_WEBHOOK_NAME = "Operator notices"


def notify(notice: str, webhook: Webhook, **details: Any) -> None:
    """Tell the operator about `webhook`; `details` carry the `reason` or the `error`.

    Every notice goes out here. Nothing is sent when no operator URL is configured, or when
    the webhook is the system webhook itself.
    """
    if webhook.is_system:
        return
    target = system_webhook()
    if target is None:
        return
    data = {
        "tenant": webhook.user.external_id,
        "webhook_id": webhook.id,
        "webhook_name": webhook.name,
        **details,
    }
    triggered = events.fire_own_event(target.user, notice, data)
    log.info("notice=%s webhook=%s event=%s", notice, webhook.id, triggered.event_id)


def system_webhook() -> Webhook | None:
    """The system webhook as the configuration wants it: created, updated, or switched off."""
    url = current_app.config["OPERATOR_WEBHOOK_URL"]
    secret = current_app.config["OPERATOR_WEBHOOK_SECRET"]
    webhook = _find()
    if url is None:
        if webhook is not None and webhook.is_active:
            webhook.is_active = False
            db.session.commit()
        return None
    if webhook is None:
        return _create(normalise_url(url), secret)
    if (
        not webhook.is_active
        or webhook.url != normalise_url(url)
        or webhooks.reveal_secret(webhook) != secret
    ):
        webhook.url = normalise_url(url)
        webhooks.seal_secret(webhook, secret)
        webhook.is_active = True
        db.session.commit()
    return webhook


def _find() -> Webhook | None:
    # By the system user's unique email, then its webhooks: two index lookups.
    return db.session.scalar(
        sa.select(Webhook)
        .join(User, User.id == Webhook.user_id)
        .options(selectinload(Webhook.user))
        .where(User.email == SYSTEM_EMAIL, Webhook.is_system.is_(True))
    )


def _create(url: str, secret: str) -> Webhook | None:
    """The system user and its webhook, in one transaction; a concurrent creator wins ties."""
    owner = User(email=SYSTEM_EMAIL, email_verified_at=sa.null())
    owner.set_password(secrets.token_urlsafe(32))  # never told to anyone: nobody signs in
    # Ordered: a webhook's `disabled` and `enabled` must reach the host in the order they
    # happened, or it would show its user the wrong state.
    webhook = Webhook(user=owner, is_system=True, ordered=True, name=SYSTEM_WEBHOOK_NAME, url=url)
    webhooks.seal_secret(webhook, secret)
    db.session.add(webhook)
    try:
        db.session.flush()
        webhook.subscriptions = [
            Subscription(event_type=notice, user_id=owner.id) for notice in NOTICE_TYPES
        ]
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return _find()
    return webhook
