"""The webhook list, the form, enable/disable (and what it missed), delete and the test dialog."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.domain.catalog import EVENT_TYPES, TEST_EVENT
from app.domain.timestamps import isoformat, parse_utc
from app.domain.urls import display_url
from app.extensions import limiter
from app.models import Webhook
from app.request_limits import TEST_SEND_LIMIT, TEST_SEND_SCOPE, user_key
from app.services import logs, stats, webhooks
from app.services.delivery import redelivery, test_send
from app.services.errors import ServiceError
from app.webhooks import bp
from app.webhooks.forms import WebhookForm

# The page and the API share one budget of test sends per user.


def owned(webhook_id: int) -> Webhook:
    """The signed-in user's webhook; anyone else's answers 404, as if it did not exist."""
    return webhooks.get_webhook(webhook_id, owner=current_user)


@bp.get("")
def index() -> ResponseReturnValue:
    """Every webhook of the user with its state, counters and last 24 hours."""
    items = webhooks.list_webhooks(current_user)
    return render_template(
        "webhooks/list.html",
        webhooks=items,
        hours=stats.hourly_deliveries(webhook.id for webhook in items),
        success_rate=stats.success_rate,
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Register a webhook; its signing secret is made now and can be revealed on its page."""
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            webhook, _secret = webhooks.register_webhook(current_user, form.to_input())
        except ServiceError as exc:
            form.show(exc)
        else:
            flash(f"Webhook “{webhook.name}” created. Its signing secret is below.", "success")
            _advise_format(webhook)
            return redirect(url_for("webhooks.endpoint", webhook_id=webhook.id))
    return render_template(
        "webhooks/form.html",
        form=form,
        webhook=None,
        event_types=EVENT_TYPES,
        rate_defaults=webhooks.default_rate_limits(),
    )


def _advise_format(webhook: Webhook) -> None:
    """A URL and a format that seem not to match are saved as asked, with a word of advice."""
    advice = webhooks.format_warning(webhook.url, webhook.format)
    if advice:
        flash(advice, "warning")


def render_edit(webhook: Webhook, form: WebhookForm | None = None) -> str:
    """The edit page (the secret is on the endpoint page)."""
    form = form or WebhookForm(formdata=None, obj=webhook, events=webhook.events)
    if not form.url.raw_data:  # not typed in this request: the stored URL, as people read it
        form.url.data = display_url(webhook.url)
    return render_template(
        "webhooks/form.html",
        form=form,
        webhook=webhook,
        event_types=EVENT_TYPES,
        format_advice=webhooks.format_warning(webhook.url, webhook.format),
        rate_defaults=webhooks.default_rate_limits(),
        rate_in_force=webhooks.rate_limit_in_force(webhook),
    )


@bp.route("/<id:webhook_id>/edit", methods=["GET", "POST"])
def edit(webhook_id: int) -> ResponseReturnValue:
    """Change a webhook's name, URL, events, format or state."""
    webhook = owned(webhook_id)
    form = WebhookForm(obj=webhook, events=webhook.events)
    if form.validate_on_submit():
        try:
            webhooks.update_webhook(webhook, form.to_input())
        except ServiceError as exc:
            form.show(exc)
        else:
            flash(f"Webhook “{webhook.name}” saved.", "success")
            _advise_format(webhook)
            return redirect(url_for("webhooks.index"))
    return render_edit(webhook, form)


@bp.post("/<id:webhook_id>/active")
def set_active(webhook_id: int) -> ResponseReturnValue:
    """Enable (forgetting past failures) or disable a webhook."""
    webhook = owned(webhook_id)
    active = request.form.get("active") == "1"
    disabled_at = webhook.disabled_at
    try:
        webhooks.set_active(webhook, active)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Webhook “{webhook.name}” {'enabled' if active else 'disabled'}.", "success")
        if active and disabled_at and redelivery.missed_events(webhook, disabled_at, None):
            return redirect(
                url_for("webhooks.missed", webhook_id=webhook.id, since=isoformat(disabled_at))
            )
    if request.form.get("next") == "endpoint":
        return redirect(url_for("webhooks.endpoint", webhook_id=webhook.id))
    return redirect(url_for("webhooks.index"))


@bp.route("/<id:webhook_id>/missed", methods=["GET", "POST"])
def missed(webhook_id: int) -> ResponseReturnValue:
    """After enabling: offer the events fired while the webhook was disabled (GET), send them
    with any that failed in that time (POST)."""
    webhook = owned(webhook_id)
    try:
        since = parse_utc(request.values.get("since", ""))
    except ValueError as exc:
        flash(f"The start of the time it missed: {exc}", "error")
        return redirect(url_for("webhooks.logs_page", webhook_id=webhook.id))
    if request.method == "POST":
        replayed = redelivery.replay(webhook, since, failed_only=True, missed=True)
        flash(f"{replayed.deliveries} deliveries queued: what “{webhook.name}” missed.", "success")
        if replayed.next_since is not None:  # a page at a time: offer the rest
            return redirect(
                url_for(
                    "webhooks.missed", webhook_id=webhook.id, since=isoformat(replayed.next_since)
                )
            )
        return redirect(url_for("webhooks.logs_page", webhook_id=webhook.id))
    count = len(redelivery.missed_events(webhook, since, None))
    return render_template(
        "webhooks/missed.html",
        webhook=webhook,
        since=since,
        count=count,
        more=count > redelivery.REPLAY_PAGE,
    )


@bp.route("/<id:webhook_id>/delete", methods=["GET", "POST"])
def delete(webhook_id: int) -> ResponseReturnValue:
    """Ask first (GET), then delete the webhook and its delivery logs (POST)."""
    webhook = owned(webhook_id)
    if request.method == "POST":
        name = webhook.name
        webhooks.delete_webhook(webhook)
        flash(f"Webhook “{name}” deleted.", "success")
        return redirect(url_for("webhooks.index"))
    return render_template("webhooks/delete.html", webhook=webhook)


@bp.post("/<id:webhook_id>/test")
@limiter.shared_limit(TEST_SEND_LIMIT, scope=TEST_SEND_SCOPE, key_func=user_key)
def test(webhook_id: int) -> ResponseReturnValue:
    """Send the test event, or the example of a subscribed type, now. The dialog's script gets
    the result alone; without it, a redirect to the result's page, so a reload sends nothing."""
    webhook = owned(webhook_id)
    event_type = request.form.get("event") or TEST_EVENT
    fragment = request.headers.get("X-Requested-With") == "fetch"
    try:
        delivery_id, result = test_send.run_test(webhook, event_type)
    except ServiceError as exc:
        if fragment:
            return exc.message, 422, {"Content-Type": "text/plain; charset=utf-8"}
        flash(exc.message, "error")
        return redirect(url_for("webhooks.endpoint", webhook_id=webhook.id))
    if not fragment:
        return redirect(url_for("webhooks.test_result", webhook_id=webhook.id, log_id=delivery_id))
    return render_template(
        "webhooks/_test_result.html", webhook=webhook, result=result, event_type=event_type
    )


@bp.get("/<id:webhook_id>/tests/<id:log_id>")
def test_result(webhook_id: int, log_id: int) -> ResponseReturnValue:
    """What a test send got, as its log row recorded it."""
    webhook = owned(webhook_id)
    delivery = logs.get_delivery(webhook, log_id)
    return render_template(
        "webhooks/test_result.html",
        webhook=webhook,
        result=test_send.result_of(delivery),
        event_type=delivery.event.event_type,
    )
