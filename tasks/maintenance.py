"""Periodic work scheduled by beat (see celeryconfig.beat_schedule)."""

from celery import shared_task
from flask import current_app

from app.services import delivery, logs, queue


@shared_task(name=queue.REQUEUE_DUE)
def requeue_due() -> int:
    return delivery.requeue_due()


@shared_task(name=queue.PURGE_LOGS)
def purge_logs() -> int:
    return logs.purge_logs(current_app.config["WEBHOOK_LOG_RETENTION_DAYS"])
