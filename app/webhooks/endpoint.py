"""One webhook's own page, as Stripe shows an endpoint: its settings, secret, figures, last
24 hours, a test with any of its event types, and the way to its deliveries.

Reveal is a POST that changes nothing: the secret is in its response only, never stored by a
cache."""

from __future__ import annotations

import json
from typing import Any

from flask import make_response, render_template, request
from flask.typing import ResponseReturnValue

from app.domain.formats import FORMAT_LABELS
from app.domain.signing import mask
from app.models import Webhook
from app.security_headers import shows_secret
from app.services import stats, webhooks
from app.services.delivery import test_send
from app.webhooks import bp
from app.webhooks.routes import owned
from app.webhooks.secrets import shown_once


# Settings later versions add to a webhook; the page shows those this one has.
def delivery_settings(webhook: Webhook) -> list[tuple[str, Any]]:
    """(label, value) of the settings that decide what is sent and when: the filter when it
    has one (a JSON object, shown as such), the rate in force, and whether it is ordered."""
    rate = webhooks.rate_limit_in_force(webhook)
    found: list[tuple[str, Any]] = []
    if webhook.filter:
        found.append(("Filter", json.loads(webhook.filter)))
    found.append(
        ("Delivery rate", rate if webhook.rate_limit else f"{rate} (the default for the format)")
    )
    found.append(("Ordered", webhook.ordered))
    return found


def render_endpoint(webhook: Webhook, **secret: Any) -> str:
    """The page; `secret` carries a revealed or rotated secret for this response only."""
    hours = stats.hourly_deliveries([webhook.id])[webhook.id]
    # The figures are the chart's own sums, so the two cannot disagree.
    succeeded = sum(hour.succeeded for hour in hours)
    failed = sum(hour.failed for hour in hours)
    return render_template(
        "webhooks/endpoint.html",
        webhook=webhook,
        hours=hours,
        day_succeeded=succeeded,
        day_failed=failed,
        day_rate=stats.success_rate(succeeded, failed),
        success_rate=stats.success_rate(webhook.success_count, webhook.failure_count),
        format_label=FORMAT_LABELS.get(webhook.format, webhook.format),
        format_advice=webhooks.format_warning(webhook.url, webhook.format),
        settings=delivery_settings(webhook),
        test_types=test_send.test_event_types(webhook),
        previews=test_send.previews(webhook),
        masked_secret=mask(webhooks.reveal_secret(webhook)),
        previous_until=webhooks.previous_secret_until(webhook),
        **secret,
    )


@bp.get("/<id:webhook_id>")
def endpoint(webhook_id: int) -> ResponseReturnValue:
    """The endpoint page; right after a rotation it shows the new secret, this once."""
    webhook = owned(webhook_id)
    once = shown_once(webhook)
    response = make_response(render_endpoint(webhook, **once))
    if once:
        # The secret is in this response only: no cache, history or back button may keep it.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<id:webhook_id>/secret/reveal")
@shows_secret
def reveal_secret(webhook_id: int) -> ResponseReturnValue:
    """The endpoint page with the current secret in full; the Copy button's script gets it
    alone."""
    webhook = owned(webhook_id)
    secret = webhooks.reveal_secret(webhook)
    if request.headers.get("X-Requested-With") == "fetch":
        return secret, 200, {"Content-Type": "text/plain"}
    return render_endpoint(webhook, revealed_secret=secret)
