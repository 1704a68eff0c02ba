"""Delivery figures for the pages: 24 hours per webhook, and the admin's overview."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.domain.status import OPEN_STATUSES, DeliveryStatus
from app.extensions import db
from app.models import Delivery, User, Webhook, utcnow
from app.services.operator_notices import SYSTEM_EMAIL

HOURS = 24
TROUBLED_LIMIT = 20


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


# What the admin's last hour counts a delivery as, by its status. Every status is in exactly
# one group (tests/pages/test_admin_overview.py checks it), so the groups add up to every
# delivery made in the hour: deliveries = delivered + failed + in flight, and those never
# sent are counted beside them.
DELIVERED = (DeliveryStatus.SUCCEEDED,)
FAILED = (DeliveryStatus.FAILED,)
IN_FLIGHT = OPEN_STATUSES  # queued, waiting for a retry or the rate limit, being sent
NOT_SENT = (DeliveryStatus.SKIPPED, DeliveryStatus.EXPIRED)  # webhook disabled; too late
GROUPS = {"delivered": DELIVERED, "failed": FAILED, "in_flight": IN_FLIGHT, "not_sent": NOT_SENT}
_GROUP_OF = {status: name for name, statuses in GROUPS.items() for status in statuses}


@dataclass
class LastHour:
    """Deliveries made in the last hour, by what became of them so far."""

    delivered: int = 0
    failed: int = 0
    in_flight: int = 0
    not_sent: int = 0

    @property
    def deliveries(self) -> int:
        return self.delivered + self.failed + self.in_flight

    @property
    def success_rate(self) -> float | None:
        """Of the finished ones: in flight may still go either way."""
        return success_rate(self.delivered, self.failed)


@dataclass(frozen=True)
class Troubled:
    """An endpoint to look at; the page says why from these and the webhook's own state."""

    webhook: Webhook
    failed_last_hour: int
    retrying: int  # deliveries whose last attempt failed, waiting for the next


@dataclass
class Summary:
    last_hour: LastHour
    # The endpoints to look at, worst first (at most TROUBLED_LIMIT), and how many there are.
    troubled: list[Troubled] = field(default_factory=list)
    troubled_count: int = 0

    @property
    def all_answered(self) -> bool:
        """True only when no endpoint is failing, disabled or retrying, and no delivery
        failed in the last hour (its endpoint would be troubled)."""
        return self.troubled_count == 0


def _not_system() -> sa.ColumnElement[bool]:
    """The operator notices' system webhook is no one's: left out of every figure."""
    return Webhook.is_system.is_(False)


def last_hour(now: datetime | None = None) -> LastHour:
    since = (now or utcnow()) - timedelta(hours=1)
    counts = LastHour()
    rows = db.session.execute(
        sa.select(Delivery.status, sa.func.count())
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.created_at >= since, _not_system())
        .group_by(Delivery.status)
    )
    for status, count in rows:
        name = _GROUP_OF[DeliveryStatus(status)]
        setattr(counts, name, getattr(counts, name) + count)
    return counts


def troubled_endpoints(now: datetime | None = None) -> tuple[list[Troubled], int]:
    """Endpoints failing (failed deliveries in a row), disabled, with a delivery failed in
    the last hour or waiting for a retry: the worst TROUBLED_LIMIT, and how many in all."""
    since = (now or utcnow()) - timedelta(hours=1)
    failed = _per_webhook(Delivery.status.in_(FAILED), Delivery.created_at >= since)
    retrying = _per_webhook(Delivery.status == DeliveryStatus.SCHEDULED, Delivery.attempts > 0)
    failed_count = sa.func.coalesce(failed.c.count, 0)
    retrying_count = sa.func.coalesce(retrying.c.count, 0)
    query = (
        sa.select(Webhook, failed_count, retrying_count)
        .outerjoin(failed, failed.c.webhook_id == Webhook.id)
        .outerjoin(retrying, retrying.c.webhook_id == Webhook.id)
        .where(
            _not_system(),
            sa.or_(
                Webhook.consecutive_failures > 0,
                Webhook.is_active.is_(False),
                failed.c.count.is_not(None),
                retrying.c.count.is_not(None),
            ),
        )
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.options(selectinload(Webhook.user))
        .order_by(Webhook.consecutive_failures.desc(), failed_count.desc(), Webhook.id)
        .limit(TROUBLED_LIMIT)
    )
    return [Troubled(*row) for row in rows], total


def _per_webhook(*conditions: sa.ColumnElement[bool]) -> sa.Subquery:
    return (
        sa.select(Delivery.webhook_id, sa.func.count().label("count"))
        .where(*conditions)
        .group_by(Delivery.webhook_id)
        .subquery()
    )


def admin_summary(now: datetime | None = None) -> Summary:
    """The last hour across every user, and the endpoints to look at now."""
    troubled, count = troubled_endpoints(now)
    return Summary(last_hour(now), troubled, count)


@dataclass(frozen=True)
class UserCounts:
    user: User
    webhooks: int
    active: int
    succeeded: int
    failed: int


def user_counts() -> list[UserCounts]:
    """Every user but the system one, by email, with their webhooks and deliveries counted."""
    rows = db.session.execute(
        sa.select(
            User,
            sa.func.count(Webhook.id),
            sa.func.count(Webhook.id).filter(Webhook.is_active.is_(True)),
            sa.func.coalesce(sa.func.sum(Webhook.success_count), 0),
            sa.func.coalesce(sa.func.sum(Webhook.failure_count), 0),
        )
        .outerjoin(Webhook, Webhook.user_id == User.id)
        .where(User.email != SYSTEM_EMAIL)
        .group_by(User.id)
        .order_by(User.email)
    )
    return [UserCounts(*row) for row in rows]
