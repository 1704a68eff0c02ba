"""Delivery figures for the pages: 24 hours per webhook, and the admin's summary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Delivery, User, Webhook, utcnow
from app.services.operator_notices import SYSTEM_EMAIL

HOURS = 24
FAILING_LIMIT = 20


@dataclass
class HourCount:
    start: datetime
    succeeded: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.succeeded + self.failed


def _hour_key(column: sa.ColumnElement) -> sa.ColumnElement[str]:
    """`YYYY-MM-DD HH` of a UTC timestamp, in SQL, so counting stays in the database."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)


def hourly_deliveries(
    webhook_ids: Iterable[int], now: datetime | None = None
) -> dict[int, list[HourCount]]:
    """Per webhook, the last 24 hours oldest first: deliveries that succeeded and that failed.

    A delivery counts in the hour it was created; one still waiting for its first attempt
    counts nowhere yet.
    """
    ids = list(webhook_ids)
    now = now or utcnow()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    hours = [first + timedelta(hours=offset) for offset in range(HOURS)]
    result = {webhook_id: [HourCount(start) for start in hours] for webhook_id in ids}
    if not ids:
        return result
    slot = {start.strftime("%Y-%m-%d %H"): index for index, start in enumerate(hours)}
    key = _hour_key(Delivery.created_at)
    rows = db.session.execute(
        sa.select(Delivery.webhook_id, key, Delivery.success, sa.func.count())
        .where(
            Delivery.webhook_id.in_(ids),
            Delivery.created_at >= first,
            Delivery.success.is_not(None),
        )
        .group_by(Delivery.webhook_id, key, Delivery.success)
    )
    for webhook_id, hour, success, count in rows:
        index = slot.get(hour)
        if index is None:
            continue
        bucket = result[webhook_id][index]
        if success:
            bucket.succeeded += count
        else:
            bucket.failed += count
    return result


def success_rate(succeeded: int, failed: int) -> float | None:
    """Share of successes in percent, or None when there is nothing to judge by."""
    total = succeeded + failed
    return None if total == 0 else 100.0 * succeeded / total


@dataclass(frozen=True)
class UserCounts:
    user_id: int
    email: str
    is_admin: bool
    webhooks: int
    active: int
    succeeded: int
    failed: int


@dataclass
class Summary:
    deliveries_last_hour: int
    succeeded_last_hour: int
    failed_last_hour: int
    failing: list[Webhook] = field(default_factory=list)
    users: list[UserCounts] = field(default_factory=list)

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.succeeded_last_hour, self.failed_last_hour)


def admin_summary(now: datetime | None = None) -> Summary:
    """The last hour across every user, the endpoints failing now, and counts per user.

    The operator notices' system webhook and its user are no one's: they are left out.
    """
    since = (now or utcnow()) - timedelta(hours=1)
    system_webhooks = sa.select(Webhook.id).where(Webhook.is_system.is_(True))
    total, succeeded, failed = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Delivery.success.is_(True)),
            sa.func.count().filter(Delivery.success.is_(False)),
        ).where(Delivery.created_at >= since, Delivery.webhook_id.not_in(system_webhooks))
    ).one()
    failing = list(
        db.session.scalars(
            sa.select(Webhook)
            .where(Webhook.consecutive_failures > 0, Webhook.is_system.is_(False))
            .order_by(Webhook.consecutive_failures.desc(), Webhook.id)
            .limit(FAILING_LIMIT)
        )
    )
    per_user = db.session.execute(
        sa.select(
            User.id,
            User.email,
            User.is_admin,
            sa.func.count(Webhook.id),
            sa.func.count(Webhook.id).filter(Webhook.is_active.is_(True)),
            sa.func.coalesce(sa.func.sum(Webhook.success_count), 0),
            sa.func.coalesce(sa.func.sum(Webhook.failure_count), 0),
        )
        .outerjoin(Webhook, Webhook.user_id == User.id)
        .where(User.email != SYSTEM_EMAIL)
        .group_by(User.id, User.email, User.is_admin)
        .order_by(User.email)
    )
    return Summary(
        deliveries_last_hour=total,
        succeeded_last_hour=succeeded,
        failed_last_hour=failed,
        failing=failing,
        users=[UserCounts(*row) for row in per_user],
    )
