"""Celery bound to the Flask app, the way Flask's own Celery pattern does it."""

from __future__ import annotations

from pathlib import Path

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object("celeryconfig")
    broker_url = app.config["CELERY_BROKER_URL"]
    celery.conf.broker_url = broker_url
    if broker_url.startswith("filesystem://"):
        folder = Path(app.config["EMBEDDED_BROKER_DIR"])
        celery.conf.broker_transport_options = _embedded_broker(folder)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _embedded_broker(folder: Path) -> dict[str, object]:
    """kombu's filesystem transport: a broker in instance/ for `make run`, no Redis needed."""
    queue_dir = folder / "queue"
    processed_dir = folder / "processed"
    queue_dir.mkdir(parents=True, exist_ok=True)
    processed_dir.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue_dir),
        "data_folder_out": str(queue_dir),
        "processed_folder": str(processed_dir),
        "store_processed": False,
    }
