"""Page forms. They carry values; the services decide what is valid."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
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
    is_active = BooleanField("Active", default=True, description="Send events to this endpoint.")
    submit = SubmitField("Save webhook")

    def to_input(self) -> WebhookInput:
        return WebhookInput(
            name=self.name.data or "",
            url=self.url.data or "",
            events=list(self.events.data or []),
            format=self.format.data or "",
            is_active=bool(self.is_active.data),
        )


class ReplayForm(ServiceForm):
    """Deliver a time range of a webhook's events again (times in UTC)."""

    since = DateTimeLocalField("From (UTC)", format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField("Until (UTC, optional)", format="%Y-%m-%dT%H:%M")
    failed_only = BooleanField("Only failed deliveries", default=True)
    missed = BooleanField("Also what it missed while disabled")
    submit = SubmitField("Replay")
