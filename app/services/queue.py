"""Handing work to Celery. Services enqueue through here and never import `tasks`.

Tasks are sent by name so that the web process need not import the worker's modules; the names
below are the ones `tasks/` registers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import Celery
from flask import current_app
from kombu.exceptions import KombuError

DELIVER = "signalpost.deliver"
SEND_MAIL = "signalpost.send_mail"
REQUEUE_DUE = "signalpost.requeue_due"
PURGE_LOGS = "signalpost.purge_logs"

# Queue names as celeryconfig.task_queues declares them.
DELIVERIES_QUEUE = "deliveries"
RETRIES_QUEUE = "retries"

log = logging.getLogger(__name__)


def _celery() -> Celery:
    return current_app.extensions["celery"]


def enqueue_deliveries(delivery_ids: Iterable[int], queue: str = DELIVERIES_QUEUE) -> int:
    """Queue each delivery; returns how many were queued.

    A broker outage is logged, not raised: the deliveries are already in the database, and
    `requeue_due` (beat, every minute, or `flask webhooks requeue`) sends them later.
    """
    queued = 0
    celery = _celery()
    try:
        for delivery_id in delivery_ids:
            celery.send_task(DELIVER, args=[delivery_id], queue=queue)
            queued += 1
    except (KombuError, OSError) as exc:
        log.warning("broker unavailable, %d deliveries left for requeue: %s", queued, exc)
    return queued


def enqueue_mail(to: str, subject: str, body: str) -> None:
    try:
        _celery().send_task(SEND_MAIL, args=[to, subject, body])
    except (KombuError, OSError) as exc:
        log.error("broker unavailable, mail to %s not queued (%s): %s", to, subject, exc)
