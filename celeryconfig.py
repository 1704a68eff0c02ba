"""Celery settings: the one place for broker options, routes and the beat schedule.

The broker URL itself comes from CELERY_BROKER_URL (see app/celery_app.py), so that the web
process, the workers and beat always agree on it.
"""

from celery.schedules import crontab
from kombu import Queue

from app import queues

# A task is acknowledged only after it ran, and given back if its worker dies mid-run, so a
# killed worker loses no delivery; the delivery's lease in the database stops a double send.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_ignore_result = True

# Redis hands an unacknowledged message to another worker after this long. It must be well
# above the longest countdown (retries up to 15 min, Retry-After up to 1 h), otherwise a
# message still waiting for its countdown is delivered twice.
broker_transport_options = {"visibility_timeout": 4 * 3600}

# When the broker is down at trigger time, give up quickly: the deliveries are already stored
# and the requeue task sends them once it is back.
task_publish_retry_policy = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
broker_connection_retry_on_startup = True

# First attempts have a queue of their own, so a backlog of retries to endpoints that keep
# failing never delays a fresh event to a healthy one. Workers consume all three unless told
# otherwise with -Q (see docs/operations.md).
#
# That queue's messages are not acknowledged: a message taken by a worker that then dies leaves
# its delivery `pending` or `sending` in the database, and `requeue_due` sends it within about
# two minutes, where Redis would give the message back only after the visibility timeout. Not
# recording and removing each message as unacknowledged saves the worker and Redis two
# transactions per delivery (docs/performance.md). Retries keep acknowledgements: a message
# held for its countdown is given back when its worker stops.
task_queues = (Queue(queues.DELIVERIES, no_ack=True), Queue(queues.RETRIES), Queue(queues.DEFAULT))
# Without acknowledgements there is no prefetch count to stop a worker taking the whole
# `deliveries` queue into memory; this holds it to as many tasks as it has threads. Celery
# does that on Redis only: on any other broker app/celery_app.py acknowledges every queue.
worker_disable_prefetch = True
# No task_routes: every message is published to a queue named by its sender
# (app.services.queue, and the delivery task's retry), so routes would never be consulted.
task_default_queue = queues.DEFAULT

# PersistentScheduler, which also records beat's heartbeat for /readyz and /metrics.
beat_scheduler = "app.celery_heartbeats:Scheduler"
beat_schedule = {
    "requeue-due-deliveries": {"task": queues.REQUEUE_DUE, "schedule": 60.0},
    "purge-old-logs": {"task": queues.PURGE_LOGS, "schedule": crontab(minute=17, hour=3)},
}

include = ["tasks.delivery", "tasks.mail", "tasks.maintenance"]
