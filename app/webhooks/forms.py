"""Page forms. They carry values; the services decide what is valid."""

from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)

from app.domain.catalog import EVENT_TYPES
from app.domain.formats import FORMAT_LABELS, FORMATS
from app.service_form import ServiceForm
from app.services.webhooks import WebhookInput


class WebhookForm(ServiceForm):
    # validate_choice=False: the service names unknown values; the form must not judge first.
    name = StringField("Name", description="Shown only to you, e.g. “Trading bot”.")
    url = StringField("Endpoint URL", description="Where Signalpost POSTs each event.")
    # Drawn as labelled checkboxes with a description each by templates/pages/form.html.
    events = SelectMultipleField(
        "Events",
        choices=[SelectChoice(event.value, event.label) for event in EVENT_TYPES],
        validate_choice=False,
    )
    format = SelectField(
        "Format",
        choices=[SelectChoice(name, FORMAT_LABELS.get(name, name)) for name in FORMATS],
        default="json",
        validate_choice=False,
    )
    # The JSON text as the owner wrote it; the builder's script (static/filter-builder.js)
    # writes it for the common cases.
    filter = TextAreaField(
        "Filter",
        description="Only events that pass this condition are sent here; empty sends every "
        'event. E.g. {"data.symbol": {"$in": ["AAPL", "TSLA"]}}.',
    )
    rate_limit = StringField(
        "Rate limit",
        description="At most this many deliveries per second, minute or hour, e.g. 30/minute; "
        "the excess waits, never dropped. Empty: the default for the format.",
    )
    ordered = BooleanField(
        "Ordered",
        description="One delivery at a time, in the order the events were fired; one waiting "
        "for a retry holds back the rest. For trading bots that need a trade before the "
        "position it opened; a slow endpoint then gets one request at a time.",
    )
    is_active = BooleanField("Active", default=True, description="Send events to this endpoint.")
    submit = SubmitField("Save webhook")

    def to_input(self) -> WebhookInput:
        return WebhookInput(
            name=self.name.data or "",
            url=self.url.data or "",
            events=list(self.events.data or []),
            format=self.format.data or "",
            is_active=bool(self.is_active.data),
            filter=self.filter.data or "",
            rate_limit=(self.rate_limit.data or "").strip() or None,
            ordered=bool(self.ordered.data),
        )


class MinuteField(DateTimeLocalField):
    """A date and time to the minute; left empty it is None, and a mistake is told in words."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                "Write a date and a time to the minute, such as 2026-02-01T10:30 (UTC)."
            ) from None


class ReplayForm(ServiceForm):
    """Deliver a time range of a webhook's events again (times in UTC)."""

    since = MinuteField("From (UTC)", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    until = MinuteField("Until (UTC, optional)", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    failed_only = BooleanField("Only failed deliveries", default=True)
    missed = BooleanField("Also what it missed while disabled")
    submit = SubmitField("Replay")
