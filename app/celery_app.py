"""Celery bound to the Flask app, the way Flask's own Celery pattern does it."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import Celery, Task
from celery.signals import after_setup_logger
from flask import Flask
from kombu import Queue

from app import celery_heartbeats

# Celery's "received" and "succeeded" lines, two per task at INFO. Each delivery already logs
# one line of its own with the ids an operator searches by (services.delivery), and at
# hundreds of deliveries a second the extra lines cost CPU. Failures are still logged.
PER_TASK_LOGGERS = ("celery.app.trace", "celery.worker.strategy")
# Where Celery can hold a worker's intake from a queue without acknowledgements to its
# threads (worker_disable_prefetch, celeryconfig).
REDIS_BROKERS = ("redis://", "rediss://", "sentinel://")


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, amqp="app.broker:AMQP")
    celery.config_from_object("celeryconfig")
    broker_url = app.config["CELERY_BROKER_URL"]
    celery.conf.broker_url = broker_url
    if broker_url.startswith("redis://"):  # rediss:// and sentinel:// keep kombu's own
        celery.conf.broker_transport = "app.broker:Transport"
    if not broker_url.startswith(REDIS_BROKERS):
        # Elsewhere (`make run`'s embedded broker) that bound does not hold and Celery warns
        # at every start; every queue keeps its acknowledgements and the prefetch count.
        celery.conf.task_queues = [Queue(queue.name) for queue in celery.conf.task_queues]
        celery.conf.worker_disable_prefetch = False
    if broker_url.startswith("filesystem://"):
        folder = Path(app.config["EMBEDDED_BROKER_DIR"])
        celery.conf.broker_transport_options = _embedded_broker(folder)
    celery_heartbeats.install(celery, app)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _embedded_broker(folder: Path) -> dict[str, object]:
    """kombu's filesystem transport: a broker in instance/ for `make run`, no Redis needed.

    All three of its folders are set: left unset, the control folder (its exchange tables) is
    `control/` in whatever directory the process started in, the checkout itself.
    """
    queue_dir = folder / "queue"
    processed_dir = folder / "processed"
    control_dir = folder / "control"
    for directory in (queue_dir, processed_dir, control_dir):
        directory.mkdir(parents=True, exist_ok=True)
    return {
        "control_folder": str(control_dir),
        "data_folder_in": str(queue_dir),
        "data_folder_out": str(queue_dir),
        "processed_folder": str(processed_dir),
        "store_processed": False,
    }


@after_setup_logger.connect
def _quiet_per_task_lines(**_: object) -> None:
    for name in PER_TASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
