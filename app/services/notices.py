"""Telling an owner about their endpoints by email (sent by a Celery task, see services.queue).

An owner hears when an endpoint starts failing (its first failed delivery, then at most once
a day while it keeps failing) and when it is disabled.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import User, Webhook, utcnow
from app.services import queue

log = logging.getLogger(__name__)

FAILING_NOTICE_INTERVAL = timedelta(days=1)


def _mail_owner(owner: User, subject: str, body: str) -> None:
    """Every notice goes out here: only to an address its owner has confirmed, so that no one
    can have Signalpost mail an address that is not theirs."""
    if owner.email_verified_at is None:
        log.info("notice %r not mailed: user %s has not confirmed their address", subject, owner.id)
        return
    queue.enqueue_mail(owner.email, subject, body)


def _what_to_do(webhook: Webhook) -> str:
    base_url = current_app.config["BASE_URL"].rstrip("/")
    return f"""Every attempt, with the endpoint's answer, is in its delivery log:
{base_url}/webhooks/{webhook.id}/logs

A disabled webhook gets no events. Once the endpoint works again, re-enable it on its page
or with `flask webhooks enable {webhook.id}`; that also clears its failure count."""


def webhook_failing(webhook_id: int, failures: int, last_error: str | None) -> None:
    """A delivery has failed for good: tell the owner, unless they were told in the last day."""
    now = utcnow()
    table = Webhook.__table__
    # Whoever sets the time sends the mail, so concurrent workers send it once.
    claimed = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == webhook_id,
            sa.or_(
                table.c.failure_notified_at.is_(None),
                table.c.failure_notified_at < now - FAILING_NOTICE_INTERVAL,
            ),
        )
        .values(failure_notified_at=now)
    ).rowcount
    db.session.commit()
    webhook = db.session.get(Webhook, webhook_id) if claimed == 1 else None
    if webhook is None:
        return
    threshold = current_app.config["WEBHOOK_FAILURE_THRESHOLD"]
    body = f"""Hello,

Deliveries to your webhook "{webhook.name}" ({webhook.url}) are failing: an event could not be
delivered after every retry. {failures} deliveries in a row have failed so far; after
{threshold} it is disabled.

Last error: {last_error or "unknown"}

{_what_to_do(webhook)}

You will hear about this webhook at most once a day while it keeps failing.

-- Signalpost
"""
    _mail_owner(webhook.user, f"Webhook failing: {webhook.name}", body)


def webhook_disabled(webhook: Webhook, last_error: str | None) -> None:
    threshold = current_app.config["WEBHOOK_FAILURE_THRESHOLD"]
    body = f"""Hello,

Signalpost has disabled your webhook "{webhook.name}" ({webhook.url})
after {threshold} deliveries in a row failed.

Last error: {last_error or "unknown"}

{_what_to_do(webhook)}

-- Signalpost
"""
    _mail_owner(webhook.user, f"Webhook disabled: {webhook.name}", body)
