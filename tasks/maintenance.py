"""Periodic work scheduled by beat (see celeryconfig.beat_schedule)."""

from celery import shared_task
from flask import current_app

from app import queues
from app.services import logs
from app.services.delivery import redelivery


@shared_task(name=queues.REQUEUE_DUE)
def requeue_due() -> int:
    return redelivery.requeue_due()


@shared_task(name=queues.PURGE_LOGS)
def purge_logs() -> int:
    return logs.purge_logs(current_app.config["WEBHOOK_LOG_RETENTION_DAYS"])
