"""The delivery task: thin on purpose; the rules live in app.services.delivery."""

from celery import Task, shared_task
from celery.signals import worker_shutdown
from flask import current_app

from app import outbound, queues
from app.services import connections, queue
from app.services.delivery import attempt
from tasks import recovery


@shared_task(
    bind=True,
    name=queues.DELIVER,
    max_retries=None,
    # The database restarting or failing over: try again shortly, the delivery is still there.
    autoretry_for=connections.DATABASE_AWAY,
    retry_backoff=2,
    retry_backoff_max=60,
)
def deliver(self: Task, delivery_id: int) -> str | None:
    try:
        outcome = attempt.attempt_delivery(delivery_id)
    except connections.DATABASE_AWAY:
        # Retried with a backoff of up to a minute; the sweep sends what is due sooner.
        recovery.outage_seen(current_app._get_current_object(), "the database away")
        raise
    if outcome.retry_in is not None:
        # Same message, same event id; the database already says when it is due, so if this
        # publish fails the requeue task still finds it.
        raise self.retry(countdown=outcome.retry_in, queue=queues.RETRIES)
    return outcome.status


@worker_shutdown.connect
def close_kept_connections(**_: object) -> None:
    outbound.close_idle()


@shared_task(name=queues.EXPAND)
def expand_deliveries(delivery_ids: list[int]) -> int:
    """One message per delivery of a batch that `queue.enqueue_fan_out` sent."""
    return queue.enqueue_deliveries(delivery_ids)
