"""kombu's Redis transport, with less Redis work per message, and a connection that comes
back as soon as the broker does.

- kombu builds a `redis.Redis` for each publish, and two more for each message a worker takes
  (recording it as unacknowledged, then acknowledging it). Building one costs about 0.1 ms of
  CPU: a third of what publishing a delivery costs. These channels build one and keep it; a
  Redis client is safe to share between threads, it takes a connection from its pool per
  command.
- A message from a queue consumed without acknowledgements (celeryconfig's `deliveries`) was
  never recorded as unacknowledged, so acknowledging it has nothing to remove: kombu would
  still send Redis a transaction of two commands for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

import kombu
import redis
from celery.app.amqp import AMQP as CeleryAMQP
from kombu.transport import redis as kombu_redis


class QoS(kombu_redis.QoS):
    def ack(self, delivery_tag: str) -> None:
        if delivery_tag in self._delivered:
            super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if delivery_tag in self._delivered:
            super().reject(delivery_tag, requeue)


class Channel(kombu_redis.Channel):
    QoS = QoS

    @cached_property
    def _kept_client(self) -> redis.Redis:
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client: redis.Redis | None = None) -> Iterator[redis.Redis]:
        yield client or self._kept_client


class Transport(kombu_redis.Transport):
    Channel = Channel


class Connection(kombu.Connection):
    """A worker that lost its broker tries again every second or two, not every 2, 4, 6 … 30 s
    as kombu would: a broker back after half a minute was otherwise waited for up to 30 s more.
    One connection attempt a second per worker process costs a down broker nothing."""

    def _ensure_connection(  # type: ignore[override]
        self,
        errback: object = None,
        max_retries: int | None = None,
        interval_start: float = 0.5,
        interval_step: float = 0.5,
        interval_max: float = 2,
        **options: object,
    ) -> object:
        return super()._ensure_connection(
            errback, max_retries, interval_start, interval_step, interval_max, **options
        )


class AMQP(CeleryAMQP):
    """What Celery makes its connections with (`Celery(amqp=…)`)."""

    Connection = Connection
