"""Handing work to Celery. Services enqueue through here and never import `tasks`.

Tasks are sent by name (`app.queues`) so that the web process need not import the worker's
modules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from celery import Celery, uuid
from flask import current_app
from kombu.exceptions import KombuError, OperationalError

from app import queues

# Publishing one message costs about 0.3 ms of CPU (docs/performance.md), and the workers
# start taking CPU as soon as the first one is out. So an event with several deliveries is
# queued in batches of this size that a worker expands into one message each: the caller
# publishes one message per 50 subscribers, not one per subscriber.
EXPAND_BATCH = 50

# What a worker's log shows of a task's arguments, as Celery's own default limit.
ARGSREPR_LIMIT = 1024

log = logging.getLogger(__name__)


def _celery() -> Celery:
    return current_app.extensions["celery"]


def _publish(celery: Celery, name: str, args: list, queue: str) -> None:
    """One task message, as `Celery.send_task` writes it, published to `queue`.

    `send_task` costs about 0.7 ms of CPU here, more than storing the event: it looks up
    routes, parent tasks, time limits and result backends, declares the queue again and
    formats the arguments safely for the log, none of which these tasks use. This costs
    about 0.3 ms (docs/performance.md). A broker that cannot be reached after the publish
    retry policy raises kombu's OperationalError, as `send_task` does.
    """
    message = celery.amqp.as_task_v2(
        uuid(),
        name,
        args=args,
        argsrepr=repr(args)[:ARGSREPR_LIMIT],
        kwargsrepr="{}",
        ignore_result=celery.conf.task_ignore_result,
    )
    with celery.producer_or_acquire() as producer:
        connection = producer.connection
        try:
            producer.publish(
                message.body,
                routing_key=queue,
                headers=message.headers,
                serializer="json",
                delivery_mode="persistent",
                retry=True,
                retry_policy=celery.conf.task_publish_retry_policy,
                **message.properties,
            )
        except (
            connection.recoverable_connection_errors + connection.recoverable_channel_errors
        ) as exc:
            raise OperationalError(str(exc)) from exc


def enqueue_deliveries(delivery_ids: Iterable[int], queue: str = queues.DELIVERIES) -> int:
    """Queue each delivery; returns how many were queued.

    A broker outage is logged, not raised: the deliveries are already in the database, and
    `requeue_due` (beat, every minute, or `flask webhooks requeue`) sends them later.
    """
    queued = 0
    celery = _celery()
    try:
        for delivery_id in delivery_ids:
            _publish(celery, queues.DELIVER, [delivery_id], queue)
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
            _publish(celery, queues.EXPAND, [batch], queues.DELIVERIES)
            queued += len(batch)
    except (KombuError, OSError) as exc:
        log.warning(
            "broker unavailable, %d deliveries left for requeue: %s",
            len(delivery_ids) - queued,
            exc,
        )
    return queued


def enqueue_mail(to: str, subject: str, body: str) -> None:
    celery = _celery()
    try:
        _publish(celery, queues.SEND_MAIL, [to, subject, body], queues.DEFAULT)
    except (KombuError, OSError) as exc:
        log.error("broker unavailable, mail to %s not queued (%s): %s", to, subject, exc)
