"""Periodic work scheduled by beat (see celeryconfig.beat_schedule)."""

from celery import shared_task
from flask import current_app

from app import queues
from app.models import utcnow
from app.services import idempotency, logs
from app.services.delivery import redelivery


@shared_task(name=queues.REQUEUE_DUE)
def requeue_due() -> int:
    return redelivery.requeue_due()


@shared_task(name=queues.PURGE_LOGS)
def purge_logs() -> int:
    """Old delivery logs, and idempotency keys past their 24 hours."""
    idempotency.purge_keys(utcnow())
    return logs.purge_logs(current_app.config["WEBHOOK_LOG_RETENTION_DAYS"])
