"""Firing an event: store it once, fan it out to the owner's webhooks, queue after commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.domain.catalog import EVENT_VALUES
from app.domain.payload import data_size
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import (
    Delivery,
    Event,
    IdempotencyKey,
    Subscription,
    User,
    UTCDateTime,
    Webhook,
    utcnow,
)
from app.services import connections, idempotency, queue
from app.services.errors import PayloadTooLarge, ValidationError

# The longest time to live an event may ask for; longer is as good as none.
MAX_EXPIRES_IN = 30 * 24 * 3600
# Tries at storing a keyed event: a conflict frees the key only when the row it met has expired
# (deleted, then tried again) or vanished with a transaction that rolled back.
KEYED_TRIES = 3


@dataclass(frozen=True)
class Triggered:
    event_id: str
    deliveries: int
    replayed: bool = False  # the first answer to this idempotency key, given again


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def validate_event(event_type: Any, data: Any) -> None:
    if not isinstance(event_type, str) or event_type not in EVENT_VALUES:
        known = ", ".join(sorted(EVENT_VALUES))
        raise ValidationError.from_fields(
            {"event": [f"Unknown event type {event_type!r}; use one of: {known}."]}
        )
    if not isinstance(data, dict):
        raise ValidationError.from_fields({"data": ["The event data must be a JSON object."]})
    limit = current_app.config["WEBHOOK_MAX_PAYLOAD_BYTES"]
    try:
        size = data_size(data)
    except UnicodeEncodeError:
        raise ValidationError.from_fields(
            {"data": ["The event data holds text that is not valid Unicode (a lone surrogate)."]}
        ) from None
    if size > limit:
        raise PayloadTooLarge(
            f"The event data is {size} bytes; the most accepted is {limit}.",
            {"data": [f"At most {limit} bytes."]},
        )


def _fan_out_statement() -> sa.Insert:
    """One delivery row per subscribed, active webhook of the owner, in one INSERT … SELECT.

    The subscribers are found by the (user_id, event_type) index and the rows are written by
    the database itself, so an event with 1,000 subscribers costs one round trip, not 1,000.
    """
    table = Delivery.__table__
    now = sa.bindparam("now", type_=UTCDateTime)
    subscribed = (
        sa.select(
            Subscription.webhook_id,
            sa.bindparam("event_id", type_=sa.String),
            sa.literal(DeliveryStatus.PENDING.value, sa.String),
            sa.literal(0),
            now,
            now,
            now,
            sa.bindparam("expires_at", type_=UTCDateTime),
        )
        .join(Webhook, Webhook.id == Subscription.webhook_id)
        .where(
            Subscription.user_id == sa.bindparam("owner_id"),
            Subscription.event_type == sa.bindparam("event_type"),
            Webhook.is_active.is_(True),
        )
    )
    columns = ["webhook_id", "event_id", "status", "attempts", "next_attempt_at"]
    columns += ["created_at", "updated_at", "expires_at"]
    return sa.insert(table).from_select(columns, subscribed).returning(table.c.id)


_INSERT_EVENT = sa.insert(Event.__table__).values(
    id=sa.bindparam("event_id"),
    user_id=sa.bindparam("owner_id"),
    event_type=sa.bindparam("event_type"),
    data=sa.bindparam("data", type_=sa.JSON),
    created_at=sa.bindparam("now", type_=UTCDateTime),
)
# Built once: SQLAlchemy then finds their compiled form in its cache on every trigger.
_FAN_OUT = _fan_out_statement()
# PostgreSQL: the event and its deliveries in one statement, the event as a data-modifying CTE.
_STORE = _FAN_OUT.add_cte(_INSERT_EVENT.cte("event"))
_KEY_COLUMNS = ["user_id", "key", "fingerprint", "event_id", "deliveries", "created_at"]
_KEY_VALUES = (
    sa.bindparam("owner_id"),
    sa.bindparam("key", type_=sa.String),
    sa.bindparam("fingerprint", type_=sa.String),
    sa.bindparam("event_id", type_=sa.String),
)


def time_to_live(event_type: str, expires_in: Any = None) -> timedelta | None:
    """How long the event's deliveries are worth sending: `expires_in` seconds when given,
    else WEBHOOK_EVENT_TTL's default for the type; None when they never expire."""
    if expires_in is None:
        seconds = current_app.config["WEBHOOK_EVENT_TTL"].get(event_type)
        return None if seconds is None else timedelta(seconds=seconds)
    if isinstance(expires_in, float) and expires_in.is_integer():
        expires_in = int(expires_in)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise ValidationError.from_fields({"expires_in": ["Must be a whole number of seconds."]})
    if not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise ValidationError.from_fields(
            {"expires_in": [f"Must be between 1 and {MAX_EXPIRES_IN} seconds (30 days)."]}
        )
    return timedelta(seconds=expires_in)


def _store_keyed_statement() -> sa.Select:
    """PostgreSQL: the event, its deliveries and its idempotency key in one statement.

    The key's row counts the deliveries as they are written. A key already taken fails the
    whole statement, so nothing of the event is stored; a key being taken by a transaction
    still open makes it wait for that one's outcome.
    """
    fanned = _FAN_OUT.cte("fanned")
    count = sa.select(sa.func.count()).select_from(fanned).scalar_subquery()
    key = sa.insert(IdempotencyKey.__table__).from_select(
        _KEY_COLUMNS, sa.select(*_KEY_VALUES, count, sa.bindparam("now", type_=UTCDateTime))
    )
    return sa.select(fanned.c.id).add_cte(_INSERT_EVENT.cte("event")).add_cte(key.cte("keyed"))


_STORE_KEYED = _store_keyed_statement()
_INSERT_KEY = sa.insert(IdempotencyKey.__table__).values(
    dict(
        zip(
            _KEY_COLUMNS,
            (*_KEY_VALUES, sa.bindparam("deliveries"), sa.bindparam("now", type_=UTCDateTime)),
            strict=True,
        )
    )
)


def trigger_event(
    owner: User,
    event_type: str,
    data: dict[str, Any],
    *,
    expires_in: int | None = None,
    idempotency_key: str | None = None,
) -> Triggered:
    """Store the event and one delivery per subscribed webhook in one transaction, then queue.

    Events are scoped to their owner: nobody else's webhooks are ever looked at. A delivery
    not sent within the event's time to live (`time_to_live`) ends `expired`, unsent. With an
    idempotency key, a repeat of the same request by the same owner within 24 hours answers
    the first answer (`replayed`) and stores and delivers nothing; the same key with another
    request raises `IdempotencyKeyReused`.
    """
    validate_event(event_type, data)
    ttl = time_to_live(event_type, expires_in)
    expires_at = None if ttl is None else utcnow() + ttl
    if idempotency_key is None:
        return _store(owner.id, event_type, data, None, expires_at)
    request = {"event": event_type, "data": data}
    if expires_in is not None:
        request["expires_in"] = expires_in
    keyed = {
        "key": idempotency.check_key(idempotency_key),
        "fingerprint": idempotency.fingerprint(request),
    }
    for _ in range(KEYED_TRIES):
        try:
            return _store(owner.id, event_type, data, keyed, expires_at)
        except sa.exc.IntegrityError:
            db.session.rollback()
        first = idempotency.earlier_use(owner.id, keyed["key"], keyed["fingerprint"], utcnow())
        if first is not None:
            return Triggered(*first, replayed=True)
    raise idempotency.IdempotencyKeyInProgress(
        "A request with this Idempotency-Key is still being handled; try again shortly."
    )


def fire_own_event(owner: User, event_type: str, data: dict[str, Any]) -> Triggered:
    """An event of Signalpost's own (app/services/operator_notices.py), by the same path.

    Its types are not the catalog's, which is what users may fire and subscribe to.
    """
    return _store(owner.id, event_type, data, None, None)


def _store(
    owner_id: int,
    event_type: str,
    data: dict[str, Any],
    keyed: dict[str, str] | None,
    expires_at: datetime | None,
) -> Triggered:
    event_id = new_event_id()
    parameters = {
        "event_id": event_id,
        "owner_id": owner_id,
        "event_type": event_type,
        "data": data,
        "now": utcnow(),
        "expires_at": expires_at,
        **(keyed or {}),
    }
    if connections.on_postgres():
        with connections.autocommit() as connection:
            statement = _STORE if keyed is None else _STORE_KEYED
            delivery_ids = list(connection.scalars(statement, parameters))
    else:
        db.session.execute(_INSERT_EVENT, parameters)
        delivery_ids = list(db.session.scalars(_FAN_OUT, parameters))
        if keyed is not None:
            db.session.execute(_INSERT_KEY, {**parameters, "deliveries": len(delivery_ids)})
        db.session.commit()
    queue.enqueue_fan_out(delivery_ids)
    return Triggered(event_id, len(delivery_ids))
