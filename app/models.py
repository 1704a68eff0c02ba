"""Database models. They know nothing of services, views or tasks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.domain.status import DeliveryStatus
from app.extensions import db


def utcnow() -> datetime:
    """Now, as this process goes by it (app/clock.py)."""
    return clock.utcnow()


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, whatever the database keeps (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC was expected")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id (`get_id`): a new one ends all of the user's sessions.
    session_token: Mapped[str] = mapped_column(sa.String(32), default=new_session_token)
    # Notices are mailed only to a verified address. Only self-registered users start unverified.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # The host application's own id for this user, when the user is one of its tenants.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    # The name the host application knows its tenant by; other users have none.
    name: Mapped[str | None] = mapped_column(sa.String(100))
    # Set by an admin: the user cannot get in (sign-in, links, API tokens, an operator acting
    # for them) until an admin enables them again; their webhooks go on delivering.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhooks: Mapped[list[Webhook]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        """Flask-Login's "not suspended": `login_user` signs in no disabled user."""
        return self.disabled_at is None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session (app/sessions.py reads it back)."""
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class OperatorKey(db.Model):
    """A key for the host application's backend, acting for any tenant. Only its SHA-256 is kept."""

    __tablename__ = "operator_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInLink(db.Model):
    """A single-use link that signs a tenant into the pages. Only its token's SHA-256 is kept."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # A path on Signalpost, checked when the link was made; None lands on the webhook list.
    return_to: Mapped[str | None] = mapped_column(sa.String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Heartbeat(db.Model):
    """A worker or beat process saying it is alive every few seconds (services/heartbeats.py)."""

    __tablename__ = "heartbeats"

    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)  # "worker" or "beat"
    instance: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # host and pid
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Webhook(db.Model):
    __tablename__ = "webhooks"
    # A trigger reads the filters of the owner's filtered webhooks only (app/services/events.py);
    # GET /metrics counts the disabled ones at every scrape (app/services/monitoring.py).
    __table_args__ = (
        sa.Index(
            "ix_webhooks_filtered",
            "user_id",
            postgresql_where=sa.text("filter IS NOT NULL"),
            sqlite_where=sa.text("filter IS NOT NULL"),
        ),
        sa.Index("ix_webhooks_is_active", "is_active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    url: Mapped[str] = mapped_column(sa.String(2048))
    # Fernet tokens of the `whsec_...` secrets; the plaintext is never stored.
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    format: Mapped[str] = mapped_column(sa.String(16), default="json")
    # The JSON text of the filter its events must pass (app/domain/filters.py); None: all pass.
    filter: Mapped[str | None] = mapped_column(sa.Text)
    # "N/second|minute|hour"; None: its format's default (app/domain/delivery_rate.py).
    rate_limit: Mapped[str | None] = mapped_column(sa.String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An admin's disable holds until an admin lifts it: its owner cannot enable it again.
    disabled_by_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A 429 from the endpoint holds every delivery to this webhook back until its Retry-After
    # has passed, not only the one that was refused (a chat service's flood control).
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One delivery at a time, in the order the events were fired (services/delivery/ordering.py).
    ordered: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Signalpost's own webhook for the operator's notices (app/services/operator_notices.py):
    # owned by a system user, never listed or counted, never disabled by the circuit breaker.
    is_system: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_triggered: Mapped[datetime | None] = mapped_column(UTCDateTime)
    success_count: Mapped[int] = mapped_column(default=0)
    failure_count: Mapped[int] = mapped_column(default=0)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    # When the owner was last told it is failing; they are told at most once a day.
    failure_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="webhooks")
    subscriptions: Mapped[list[Subscription]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Subscription.event_type"
    )

    @property
    def events(self) -> list[str]:
        return [subscription.event_type for subscription in self.subscriptions]


class Subscription(db.Model):
    """One event type one webhook listens to.

    `user_id` is copied from the webhook so that the subscribers of (owner, event type) are
    one index lookup, whatever the number of webhooks in the database.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (sa.Index("ix_subscriptions_user_event", "user_id", "event_type"),)

    webhook_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))


class Event(db.Model):
    """An event as its owner fired it, stored once whatever the number of deliveries."""

    __tablename__ = "events"
    # A webhook's log filtered by event type looks up its owner's events of that type here,
    # rather than reading the whole log for a type it rarely or never received.
    __table_args__ = (sa.Index("ix_events_user_type", "user_id", "event_type"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotencyKey(db.Model):
    """An `Idempotency-Key` an owner fired an event with, and the answer it got, for 24 hours.

    Written in the event's own transaction: of two concurrent requests with one key, the
    unique constraint lets exactly one store its event and deliveries.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    # SHA-256 of the request (event type and data), to tell a repeat from a reuse.
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    event_id: Mapped[str] = mapped_column(sa.String(40))
    deliveries: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Delivery(db.Model):
    """A delivery: one event for one webhook, across all its attempts.

    The API and the pages call a delivery a log entry (`/logs`, "Delivery logs"), and the
    attempts it holds are its attempt log; it is the same row.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
        # A webhook's log newest first, one keyset page at a time: an exact index range,
        # however many other webhooks' deliveries are newer (see docs/performance.md).
        sa.Index("ix_deliveries_webhook_log", "webhook_id", "id"),
        # The deliveries a digest may carry: those waiting for their webhook's rate limit,
        # found without reading the rest of a busy chat webhook's log.
        sa.Index(
            "ix_deliveries_rate_waiting",
            "webhook_id",
            "id",
            sqlite_where=sa.text("rate_window IS NOT NULL"),
            postgresql_where=sa.text("rate_window IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    success: Mapped[bool | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    # The exact bytes of the latest attempt, as sent (the format may differ from the envelope).
    request_body: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rate-limit window (its start, epoch seconds) this delivery's next attempt already
    # has a place in, when the endpoint's limit postponed it (app/services/delivery_rate.py).
    rate_window: Mapped[int | None] = mapped_column(sa.BigInteger)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The delivery this one sends again (Redeliver); the original's redeliveries are found by
    # this index. No foreign key: SQLite can neither add nor drop one in place; purging an
    # original unlinks its redeliveries instead (services/logs.py).
    redelivery_of: Mapped[int | None] = mapped_column(index=True)
    # After this the delivery is worth nothing (a stale price): it ends `expired`, unsent.
    # A redelivery asked for by hand has none.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For an ordered webhook: the earlier delivery this one waits for.
    waiting_behind: Mapped[int | None]
    # The delivery whose digest message carried this one's event (no foreign key, as for
    # redelivery_of: purging the carrier unlinks what it carried).
    carried_by: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    webhook: Mapped[Webhook] = relationship()
    event: Mapped[Event] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="DeliveryAttempt.number"
    )


class DeliveryAttempt(db.Model):
    """One HTTP request made for a delivery."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id", ondelete="CASCADE"))
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(sa.Text)


class DeliveryRateWindow(db.Model):
    """Attempts granted to one endpoint in one rate-limit window, when Redis is not configured.

    An endpoint is an owner's URL: all of one owner's webhooks to the same (normalised) URL
    share its budget, named by the URL's SHA-256 so that the key has a fixed length.
    The database is the one store every worker process shares, so the limit holds across them.
    """

    __tablename__ = "delivery_rate_windows"

    owner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    url_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)
