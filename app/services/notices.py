"""Telling an owner about their endpoints by email (sent by a Celery task, see services.queue)."""

from __future__ import annotations

from flask import current_app

from app.models import Webhook
from app.services import queue


def webhook_disabled(webhook: Webhook, last_error: str | None) -> None:
    base_url = current_app.config["BASE_URL"].rstrip("/")
    threshold = current_app.config["WEBHOOK_FAILURE_THRESHOLD"]
    body = f"""Hello,

Signalpost has disabled your webhook "{webhook.name}" ({webhook.url})
after {threshold} deliveries in a row failed.

Last error: {last_error or "unknown"}

No events are sent to it while it is disabled. Once the endpoint works again, re-enable it
on its page or with `flask webhooks enable {webhook.id}`. Its delivery log:
{base_url}/webhooks/{webhook.id}/logs

-- Signalpost
"""
    queue.enqueue_mail(webhook.user.email, f"Webhook disabled: {webhook.name}", body)
