"""A burst of events to one rate-limited endpoint: what it costs to get them all through.

`python -m bench.burst [EVENTS] [PER_MINUTE]` (default 1000 at 10 a minute). Time is frozen
and moved a window at a time, so a run takes seconds, not the hours the burst would: at each
window every delivery that is due is attempted, as its queued message would be. It counts
the attempt calls (each one a claim, a rate check and a send or a postponement) and their
CPU time, on an SQLite database of its own and a local receiver.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from freezegun import freeze_time

from app import create_app
from app.domain.retry import EARLY_TOLERANCE
from app.domain.status import OPEN_STATUSES
from app.extensions import db
from app.models import Delivery, Event, utcnow
from app.services import connections, events, users, webhooks
from app.services.delivery import attempt
from tests.support.receiver import Receiver


def main(count: int, per_minute: int) -> None:
    receiver = Receiver().start()
    with tempfile.TemporaryDirectory(prefix="signalpost-burst-") as folder:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'burst.sqlite'}",
                "CELERY_BROKER_URL": "memory://",
                "SECRET_KEY": "bench-secret-key-of-at-least-32-bytes",
                "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "WEBHOOK_RATE_LIMIT": f"{per_minute}/minute",
                "WEBHOOK_REQUIRE_HTTPS": "false",
                "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            }
        )
        try:
            with app.app_context():
                upgrade()
                report(*run(receiver.url, count), count, per_minute)
                connections.dispose()
        finally:
            receiver.stop()


def run(url: str, count: int) -> tuple[int, float, int]:
    owner = users.create_user("burst@example.com", "a long password")
    webhook, _ = webhooks.register_webhook(
        owner, webhooks.WebhookInput(name="burst", url=url, events=["custom"])
    )
    with freeze_time("2030-01-01 12:00:00") as clock:
        for _ in range(count):
            event_id = events.new_event_id()
            db.session.add(Event(id=event_id, user_id=owner.id, event_type="custom", data={}))
            db.session.add(
                Delivery(webhook_id=webhook.id, event_id=event_id, next_attempt_at=utcnow())
            )
        db.session.commit()
        calls, cpu, windows = 0, 0.0, 0
        while True:
            due = list(
                db.session.scalars(
                    sa.select(Delivery.id).where(
                        Delivery.webhook_id == webhook.id,
                        Delivery.status.in_(OPEN_STATUSES),
                        Delivery.next_attempt_at <= utcnow() + EARLY_TOLERANCE,
                    )
                )
            )
            db.session.commit()
            if not due and not _open(webhook.id):
                return calls, cpu, windows
            started = time.process_time()
            for delivery_id in due:
                attempt.attempt_delivery(delivery_id)
            cpu += time.process_time() - started
            calls += len(due)
            windows += 1
            clock.tick(60)


def _open(webhook_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Delivery.webhook_id == webhook_id, Delivery.status.in_(OPEN_STATUSES)
        )
    )


def report(calls: int, cpu: float, windows: int, count: int, per_minute: int) -> None:
    print(f"{count} events at {per_minute} a minute: {windows} windows")
    print(f"attempt calls: {calls} ({calls / count:.1f} per delivery)")
    print(f"CPU: {cpu:.1f} s ({cpu / count * 1000:.1f} ms per delivery)")


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:3]))
