"""What `celery -A tasks worker` and `celery -A tasks beat` load.

The Celery app is built on first use rather than at import, so that importing a task module
(the worker does, through `include`) never builds a second Flask app.
"""

from functools import cache

from celery import Celery


@cache
def _celery() -> Celery:
    from app import clock, create_app
    from tasks import recovery

    app = create_app()
    # Before the first task: a wrong clock would take leases it must not (app/clock.py).
    clock.follow_broker(app.config["CELERY_BROKER_URL"])
    celery = app.extensions["celery"]
    recovery.install(celery, app)
    return celery


def __getattr__(name: str) -> Celery:
    if name == "celery":
        return _celery()
    raise AttributeError(name)
