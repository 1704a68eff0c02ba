"""Template helpers: how times, URLs, JSON and the 24-hour chart look on a page.

Every helper returns plain strings or numbers; Jinja's autoescaping does the escaping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from app.domain.catalog import EVENT_TYPES, TEST_EVENT, label_of
from app.domain.urls import display_url
from app.models import utcnow
from app.services.stats import HourCount

EVENT_LABELS = {
    value: label_of(value) for value in [*(event.value for event in EVENT_TYPES), TEST_EVENT]
}

CHART_WIDTH = 240
CHART_HEIGHT = 40
BAR_GAP = 2


def when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(moment: datetime | None) -> str:
    """`3 min ago`: short enough for a table cell; the exact time goes in a title."""
    if moment is None:
        return "never"
    seconds = int((utcnow() - moment).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def url_parts(url: str) -> tuple[str, str, str]:
    """(scheme and `://`, host and port, the rest), decoded, so the host can be emphasised."""
    url = display_url(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "", "", url
    if not parts.netloc:
        return "", "", url
    head = f"{parts.scheme}://"
    rest = url[len(head) + len(parts.netloc) :] if url.startswith(head + parts.netloc) else ""
    return head, parts.netloc, rest


def pretty_json(text: str | dict[str, Any] | None) -> str:
    """Indented JSON for reading; text that is not JSON is shown as it is."""
    if text is None:
        return ""
    if isinstance(text, str):
        try:
            text = json.loads(text)
        except ValueError:
            return text
    return json.dumps(text, indent=2, ensure_ascii=False, sort_keys=False)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%" if value in (0, 100) else f"{value:.1f}%"


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    ok_y: float
    ok_height: float
    failed_y: float
    failed_height: float
    title: str


def chart_bars(hours: list[HourCount]) -> list[Bar]:
    """Stacked bars, one per hour, scaled to the busiest hour: successes under failures."""
    if not hours:
        return []
    peak = max((hour.total for hour in hours), default=0) or 1
    slot = CHART_WIDTH / len(hours)
    bars = []
    for index, hour in enumerate(hours):
        ok_height = CHART_HEIGHT * hour.succeeded / peak
        failed_height = CHART_HEIGHT * hour.failed / peak
        bars.append(
            Bar(
                x=round(index * slot + BAR_GAP / 2, 2),
                width=round(slot - BAR_GAP, 2),
                ok_y=round(CHART_HEIGHT - ok_height, 2),
                ok_height=round(ok_height, 2),
                failed_y=round(CHART_HEIGHT - ok_height - failed_height, 2),
                failed_height=round(failed_height, 2),
                title=f"{hour.start:%H}:00 UTC: {hour.succeeded} ok, {hour.failed} failed",
            )
        )
    return bars


def register(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_filter(ago)
    app.add_template_filter(pretty_json)
    app.add_template_filter(percent)
    app.add_template_global(url_parts)
    app.add_template_global(chart_bars)
    app.add_template_global(EVENT_LABELS, "event_labels")
    app.jinja_env.globals.update(chart_width=CHART_WIDTH, chart_height=CHART_HEIGHT)
