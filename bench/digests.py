"""A burst of price alerts to a chat webhook at its service's budget, with digests and without.

`python -m bench.digests [EVENTS]` (default 1000), also the `digests` phase of `make bench`.
For Telegram (20 a minute to a group) and Discord (30 a minute): the messages sent, the time
from the burst to its last alert, and how stale the stalest alert was when it went; then the
same with WEBHOOK_DIGESTS=false. As in bench/burst.py, time is frozen and moved from one due
delivery to the next, so fifty minutes of a queue take seconds: every delivery that is due is
attempted, as its queued message would be, against a local fake of the service that judges
each body as the service does (tests/formats/fake_services.py).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from freezegun import freeze_time

from app import create_app
from app.domain.delivery_rate import FORMAT_DEFAULTS
from app.domain.retry import EARLY_TOLERANCE
from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, utcnow
from app.services import connections, events, users, webhooks
from app.services.delivery import attempt
from tests.formats import fake_services
from tests.support.receiver import Receiver

SERVICES = ("telegram", "discord")
START = "2030-01-01 09:30:00"


def compare(count: int) -> dict[str, Any]:
    """Each service's figures, with digests and without."""
    return {
        format_name: {
            "budget": FORMAT_DEFAULTS[format_name],
            "with_digests": burst(format_name, count, digests=True),
            "without_digests": burst(format_name, count, digests=False),
        }
        for format_name in SERVICES
    }


def burst(format_name: str, count: int, *, digests: bool) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per message otherwise
    answer, path = fake_services.ANSWERS[format_name], fake_services.PATHS[format_name]
    service = Receiver(answer=answer).start()
    try:
        with tempfile.TemporaryDirectory(prefix="signalpost-digests-") as folder:
            app = create_app(
                {
                    "DATABASE_URL": f"sqlite:///{Path(folder) / 'digests.sqlite'}",
                    "CELERY_BROKER_URL": "memory://",
                    "SECRET_KEY": "bench-secret-key-of-at-least-32-bytes",
                    "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                    "WEBHOOK_DIGESTS": str(digests).lower(),
                    "WEBHOOK_REQUIRE_HTTPS": "false",
                    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                }
            )
            with app.app_context():
                upgrade()
                url = f"http://127.0.0.1:{service.port}{path}"
                figures = _run(url, format_name, count)
                connections.dispose()
    finally:
        service.stop()
    refused = [r for r in service.requests if r is not None and not _accepted(answer, r)]
    return {**figures, "messages": len(service.requests), "refused_by_service": len(refused)}


def _accepted(answer, request) -> bool:
    return answer(request).status < 300


def _run(url: str, format_name: str, count: int) -> dict[str, Any]:
    owner = users.create_user("digests@example.com", "a long password")
    webhook, _ = webhooks.register_webhook(
        owner,
        webhooks.WebhookInput(name="alerts", url=url, events=["price_above"], format=format_name),
    )
    with freeze_time(START) as clock:
        fired_at = utcnow()
        for n in range(count):
            event_id = events.new_event_id()
            data = {"symbol": f"S{n:04d}", "target": "180.00", "price": "185.50"}
            db.session.add(
                Event(id=event_id, user_id=owner.id, event_type="price_above", data=data)
            )
            db.session.add(
                Delivery(webhook_id=webhook.id, event_id=event_id, next_attempt_at=fired_at)
            )
        db.session.commit()
        calls, cpu = 0, 0.0
        sent_at: dict[int, datetime] = {}
        while True:
            due = _due(webhook.id)
            if due:
                started = time.process_time()
                for delivery_id in due:
                    attempt.attempt_delivery(delivery_id)
                cpu += time.process_time() - started
                calls += len(due)
                for delivery_id in _succeeded(webhook.id):
                    sent_at.setdefault(delivery_id, utcnow())
            following = _next_due(webhook.id)
            if following is None:
                break
            clock.move_to(max(following, utcnow()))
    # All fired at once: an alert's staleness when it went is its time from the burst.
    staleness = sorted((moment - fired_at).total_seconds() for moment in sent_at.values())
    return {
        "alerts": count,
        "delivered": len(sent_at),
        "seconds_to_last_alert": round(staleness[-1], 1),
        "median_alert_staleness_seconds": round(staleness[len(staleness) // 2], 1),
        "attempt_calls": calls,
        "cpu_ms_per_alert": round(cpu / count * 1000, 2),
    }


def _due(webhook_id: int) -> list[int]:
    ids = list(
        db.session.scalars(
            sa.select(Delivery.id).where(
                Delivery.webhook_id == webhook_id,
                Delivery.status.in_(OPEN_STATUSES),
                Delivery.next_attempt_at <= utcnow() + EARLY_TOLERANCE,
            )
        )
    )
    db.session.commit()
    return ids


def _succeeded(webhook_id: int) -> list[int]:
    ids = list(
        db.session.scalars(
            sa.select(Delivery.id).where(
                Delivery.webhook_id == webhook_id, Delivery.status == DeliveryStatus.SUCCEEDED
            )
        )
    )
    db.session.commit()
    return ids


def _next_due(webhook_id: int) -> datetime | None:
    moment = db.session.scalar(
        sa.select(sa.func.min(Delivery.next_attempt_at)).where(
            Delivery.webhook_id == webhook_id, Delivery.status.in_(OPEN_STATUSES)
        )
    )
    db.session.commit()
    return moment


def table(results: dict[str, Any]) -> str:
    lines = [
        "service (budget)       | digests | messages | to the last alert | median staleness"
        " | CPU ms/alert"
    ]
    for format_name, figures in results.items():
        for label, key in (("on", "with_digests"), ("off", "without_digests")):
            run = figures[key]
            lines.append(
                f"{format_name} ({figures['budget']})".ljust(23)
                + f"| {label:<7} | {run['messages']:>8} | {run['seconds_to_last_alert']:>15.0f} s"
                + f" | {run['median_alert_staleness_seconds']:>14.0f} s"
                + f" | {run['cpu_ms_per_alert']:>12.2f}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(compare(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
