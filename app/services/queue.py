"""Handing work to Celery. Services enqueue through here and never import `tasks`.

Tasks are sent by name so that the web process need not import the worker's modules; the names
below are the ones `tasks/` registers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from celery import Celery
from flask import current_app
from kombu.exceptions import KombuError

DELIVER = "signalpost.deliver"
EXPAND = "signalpost.expand_deliveries"
SEND_MAIL = "signalpost.send_mail"
REQUEUE_DUE = "signalpost.requeue_due"
PURGE_LOGS = "signalpost.purge_logs"

# Queue names as celeryconfig.task_queues declares them.
DELIVERIES_QUEUE = "deliveries"
RETRIES_QUEUE = "retries"

# Publishing one message costs about 0.3 ms of CPU (docs/performance.md), and the workers
# start taking CPU as soon as the first one is out. So an event with several deliveries is
# queued in batches of this size that a worker expands into one message each: the caller
# publishes one message per 50 subscribers, not one per subscriber.
EXPAND_BATCH = 50

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


def enqueue_fan_out(delivery_ids: Sequence[int]) -> int:
    """Queue a new event's deliveries: a single one as it is, several in batches that a
    worker expands (see EXPAND_BATCH).

    A batch lost to a broker outage or a dead worker leaves its deliveries `pending`, and
    `requeue_due` sends them; a batch expanded twice is harmless, the claim sends each once.
    """
    if len(delivery_ids) <= 1:
        return enqueue_deliveries(delivery_ids)
    queued = 0
    celery = _celery()
    try:
        for start in range(0, len(delivery_ids), EXPAND_BATCH):
            batch = list(delivery_ids[start : start + EXPAND_BATCH])
            celery.send_task(EXPAND, args=[batch], queue=DELIVERIES_QUEUE)
            queued += len(batch)
    except (KombuError, OSError) as exc:
        log.warning(
            "broker unavailable, %d deliveries left for requeue: %s",
            len(delivery_ids) - queued,
            exc,
        )
    return queued


def enqueue_mail(to: str, subject: str, body: str) -> None:
    try:
        _celery().send_task(SEND_MAIL, args=[to, subject, body])
    except (KombuError, OSError) as exc:
        log.error("broker unavailable, mail to %s not queued (%s): %s", to, subject, exc)
