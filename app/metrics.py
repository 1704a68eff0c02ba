"""The instruments behind GET /metrics, added up across every web and worker process.

prometheus_client's multi-process mode: each process writes its counts to files of its own in
one folder (PROMETHEUS_MULTIPROC_DIR, by default instance/metrics), and a scrape adds up every
file there, so the worker's deliveries are seen by whichever web process answers. This is
process state, not a rule: the rules of what is counted live with the code that counts.

The gauges (queues, overdue deliveries, heartbeats) are read at scrape time by
app/services/monitoring.py and only shaped into metric families here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from app.domain.status import DeliveryStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Receivers answer within tens of milliseconds to WEBHOOK_TIMEOUT's seconds.
DURATION_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "none")
# The states a delivery is counted in: after an attempt, or skipped or expired without one.
COUNTED_STATUSES = (
    DeliveryStatus.SUCCEEDED,
    DeliveryStatus.SCHEDULED,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
    DeliveryStatus.EXPIRED,
)


def configure(directory: str) -> None:
    """Point this process's counts at `directory`; create_app calls it before any is counted.

    prometheus_client chooses between in-memory and file-backed values when it is first
    imported, from the environment; anything may have imported it before the configuration was
    read (a test, a plugin), so the choice is made again here. The variable is also what the
    processes this one starts inherit.
    """
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.get_value_class()


@dataclass(frozen=True)
class _Instruments:
    deliveries: Counter
    attempts: Counter
    duration: Histogram
    postponements: Counter


_made: list[_Instruments] = []
_making = threading.Lock()


def _instruments() -> _Instruments:
    """Made on first use, after `configure`, so that every value is file-backed.

    Made once per process, under a lock: a worker's threads count their first attempts at
    the same moment, and two sets of instruments would each keep their own copy of a value
    and write it over the other's in the shared file, losing counts."""
    if not _made:
        with _making:
            if not _made:
                _made.append(_make_instruments())
    return _made[0]


def _make_instruments() -> _Instruments:
    instruments = _Instruments(
        deliveries=Counter(
            "signalpost_deliveries",
            "Deliveries that reached a state after an attempt or a decision not to send.",
            ["status"],
            registry=None,
        ),
        attempts=Counter(
            "signalpost_attempts",
            "HTTP attempts made, by the class of the receiver's status (none: no response).",
            ["status_class"],
            registry=None,
        ),
        duration=Histogram(
            "signalpost_attempt_duration_seconds",
            "How long one HTTP attempt took, connect to last byte.",
            buckets=DURATION_BUCKETS,
            registry=None,
        ),
        postponements=Counter(
            "signalpost_rate_limit_postponements",
            "Deliveries postponed by the per-endpoint delivery rate (not attempts).",
            registry=None,
        ),
    )
    # Every series exists from the start, at 0: rate() and alerts need no first increment.
    for status in COUNTED_STATUSES:
        instruments.deliveries.labels(status=status.value)
    for status_class in STATUS_CLASSES:
        instruments.attempts.labels(status_class=status_class)
    return instruments


def status_class(status_code: int | None) -> str:
    if status_code is None or not 100 <= status_code <= 599:
        return "none"
    return f"{status_code // 100}xx"


def attempt_recorded(status: str, status_code: int | None, duration_ms: int | None) -> None:
    """One attempt was made and recorded, leaving its delivery in `status`."""
    instruments = _instruments()
    instruments.deliveries.labels(status=status).inc()
    instruments.attempts.labels(status_class=status_class(status_code)).inc()
    if duration_ms is not None:
        instruments.duration.observe(duration_ms / 1000)


def delivery_settled(status: str, *, postponed: bool) -> None:
    """A delivery changed state without an attempt: skipped, expired, or postponed by the rate."""
    instruments = _instruments()
    if postponed:
        instruments.postponements.inc()
    else:
        instruments.deliveries.labels(status=status).inc()


@dataclass(frozen=True)
class Gauge:
    """A value read at scrape time; `samples` maps a label value (or None) to a number."""

    name: str
    documentation: str
    samples: dict[str | None, float]
    label: str | None = None


class _Gauges:
    def __init__(self, gauges: list[Gauge]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for gauge in self.gauges:
            family = GaugeMetricFamily(
                gauge.name, gauge.documentation, labels=[gauge.label] if gauge.label else None
            )
            for label_value, value in gauge.samples.items():
                family.add_metric([label_value] if gauge.label else [], value)
            yield family


def exposition(gauges: list[Gauge]) -> bytes:
    """The text every process's counts add up to, with this scrape's gauges."""
    _instruments()  # this process's zero series, should no worker have written any yet
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
    registry.register(_Gauges(gauges))
    return generate_latest(registry)
