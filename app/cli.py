"""Admin commands: `flask users ...`, `flask webhooks ...` and `flask keys ...` (README.md,
"Command line")."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app.services import events, keys, logs, operator_keys, signup, users, webhooks
from app.services.delivery import redelivery, test_send
from app.services.errors import ServiceError

users_cli = AppGroup("users", help="Create users and API tokens.")
webhooks_cli = AppGroup("webhooks", help="Manage webhooks and their deliveries.")
keys_cli = AppGroup("keys", help="Operator keys, for the host application's backend.")


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show a service's refusal as a one-line error and exit 1, never as a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper


@users_cli.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="May see and manage every user's webhooks.")
@reports_errors
def create_user(email: str, password: str, admin: bool) -> None:
    """Create a user who can sign in with EMAIL and the password."""
    user = users.create_user(email, password, is_admin=admin)
    click.echo(f"Created user {user.email}{' (admin)' if admin else ''}.")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@reports_errors
def set_password(email: str, password: str) -> None:
    """Give EMAIL a new password; every session of that user ends."""
    users.set_password(users.get_user_by_email(email), password)
    click.echo(f"Password of {email} changed; their sessions have ended.")


@users_cli.command("disable")
@click.argument("email")
@reports_errors
def disable_user(email: str) -> None:
    """Disable EMAIL: every session ends, and no sign-in, link or API token lets them in."""
    users.set_disabled(users.get_user_by_email(email), True)
    click.echo(f"{email} is disabled; their sessions have ended. Their webhooks still deliver.")


@users_cli.command("enable")
@click.argument("email")
@reports_errors
def enable_user(email: str) -> None:
    """Enable EMAIL again after `flask users disable`."""
    users.set_disabled(users.get_user_by_email(email), False)
    click.echo(f"{email} is enabled and can sign in again.")


@users_cli.command("invite")
@click.argument("email")
@reports_errors
def invite(email: str) -> None:
    """Mail EMAIL a link to register (SIGNALPOST_REGISTRATION=invite), valid for 7 days."""
    signup.invite(email)
    click.echo(f"Invitation mailed to {email}.")


@users_cli.command("ensure-admin")
@reports_errors
def ensure_admin() -> None:
    """Create a first admin when there is none, printing its password once."""
    created = users.ensure_admin()
    if created is None:
        return
    user, password = created
    click.echo(f"Created the first admin: {user.email}  password: {password}")
    click.echo("This password is shown only now.")


@users_cli.command("token")
@click.argument("email")
@reports_errors
def create_token(email: str) -> None:
    """Print a new API token for EMAIL (shown once, stored hashed)."""
    click.echo(users.create_api_token(users.get_user_by_email(email), name="CLI token"))


@webhooks_cli.command("create")
@click.option("--user", "email", required=True, help="Owner's email.")
@click.option("--name", required=True)
@click.option("--url", required=True)
@click.option("--events", required=True, help="Comma-separated event types.")
@click.option("--format", "format_name", default="json", show_default=True)
@click.option("--filter", "filter_text", help='A JSON condition, e.g. \'{"data.side": "buy"}\'.')
@click.option("--rate-limit", help="e.g. 30/minute; default: the format's.")
@click.option("--ordered", is_flag=True, help="One delivery at a time, in firing order.")
@reports_errors
def create_webhook(
    email: str,
    name: str,
    url: str,
    events: str,
    format_name: str,
    filter_text: str | None,
    rate_limit: str | None,
    ordered: bool,
) -> None:
    """Register a webhook and print its id and secret (the secret is shown only now)."""
    owner = users.get_user_by_email(email)
    event_list = [event.strip() for event in events.split(",") if event.strip()]
    webhook, secret = webhooks.register_webhook(
        owner,
        webhooks.WebhookInput(
            name=name,
            url=url,
            events=event_list,
            format=format_name,
            filter=filter_text or "",
            rate_limit=rate_limit,
            ordered=ordered,
        ),
    )
    click.echo(f"id: {webhook.id}")
    click.echo(f"secret: {secret}")


@webhooks_cli.command("list")
@click.option("--user", "email", help="Only this owner's webhooks.")
@reports_errors
def list_webhooks(email: str | None) -> None:
    """List webhooks with their state and counters."""
    owner = users.get_user_by_email(email) if email else None
    for webhook in webhooks.list_webhooks(owner):
        state = "active" if webhook.is_active else f"disabled ({webhook.disabled_reason})"
        click.echo(
            f"{webhook.id}\t{webhook.user.email}\t{webhook.name}\t{webhook.url}\t"
            f"{','.join(webhook.events)}\t{state}\t"
            f"ok={webhook.success_count} failed={webhook.failure_count}"
        )


@webhooks_cli.command("trigger")
@click.argument("event_type")
@click.option("--user", "email", required=True, help="Owner of the event.")
@click.option("--data", default="{}", show_default=True, help="The event data, a JSON object.")
@click.option(
    "--expires-in",
    type=click.IntRange(1, events.MAX_EXPIRES_IN),
    help="Seconds it is worth sending (default: WEBHOOK_EVENT_TTL).",
)
@reports_errors
def trigger(event_type: str, email: str, data: str, expires_in: int | None) -> None:
    """Fire an event for one owner; prints the event id and the number of deliveries."""
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
    owner = users.get_user_by_email(email)
    triggered = events.trigger_event(owner, event_type, parsed, expires_in=expires_in)
    click.echo(f"{triggered.event_id} {triggered.deliveries}")


@webhooks_cli.command("test")
@click.argument("webhook_id", type=int)
@click.option("--event", "event_type", help="Send this subscribed type's example instead.")
@reports_errors
def test(webhook_id: int, event_type: str | None) -> None:
    """Send the test event (or a subscribed type's example) once, now, and print the answer."""
    result = test_send.test_webhook(webhooks.get_webhook(webhook_id), event_type)
    click.echo(json.dumps(result, indent=2))
    if not result["success"]:
        raise SystemExit(1)


@webhooks_cli.command("set-filter")
@click.argument("webhook_id", type=int)
@click.argument("filter_text", metavar="JSON", required=False)
@click.option("--clear", is_flag=True, help="Remove the filter: every event is sent.")
@reports_errors
def set_filter(webhook_id: int, filter_text: str | None, clear: bool) -> None:
    """Set the condition events must pass to be sent to a webhook, or --clear it."""
    if clear == (filter_text is not None):
        raise click.UsageError("Give the filter as JSON, or --clear (not both).")
    webhook = webhooks.get_webhook(webhook_id)
    webhooks.update_webhook(webhook, webhooks.WebhookInput(filter=None if clear else filter_text))
    click.echo(
        f"Webhook {webhook_id}: "
        + (f"filter {webhook.filter}." if webhook.filter else "no filter.")
    )


@webhooks_cli.command("set-rate-limit")
@click.argument("webhook_id", type=int)
@click.argument("rate_limit", metavar="N/second|minute|hour", required=False)
@click.option("--default", "use_default", is_flag=True, help="Back to the format's default.")
@reports_errors
def set_rate_limit(webhook_id: int, rate_limit: str | None, use_default: bool) -> None:
    """Set a webhook's own rate limit, or go back to its format's --default."""
    if use_default == (rate_limit is not None):
        raise click.UsageError("Give the limit, e.g. 30/minute, or --default (not both).")
    webhook = webhooks.get_webhook(webhook_id)
    webhooks.update_webhook(webhook, webhooks.WebhookInput(rate_limit=rate_limit))
    click.echo(f"Webhook {webhook_id}: rate limit {webhooks.rate_limit_in_force(webhook)}.")


@webhooks_cli.command("set-ordered")
@click.argument("webhook_id", type=int)
@click.argument("setting", metavar="on|off", type=click.Choice(["on", "off"]))
@reports_errors
def set_ordered(webhook_id: int, setting: str) -> None:
    """Send a webhook's deliveries one at a time in firing order (on), or side by side (off)."""
    webhook = webhooks.get_webhook(webhook_id)
    webhooks.update_webhook(webhook, webhooks.WebhookInput(ordered=setting == "on"))
    click.echo(
        f"Webhook {webhook_id}: "
        + ("ordered, one delivery at a time." if webhook.ordered else "not ordered.")
    )


@webhooks_cli.command("enable")
@click.argument("webhook_id", type=int)
@reports_errors
def enable(webhook_id: int) -> None:
    """Enable a webhook and forget its past failures, even one an admin disabled."""
    webhooks.set_active(webhooks.get_webhook(webhook_id), True, by_admin=True)
    click.echo(f"Webhook {webhook_id} enabled.")


@webhooks_cli.command("disable")
@click.argument("webhook_id", type=int)
@reports_errors
def disable(webhook_id: int) -> None:
    """Disable a webhook as an admin: nothing is sent to it until an admin enables it."""
    webhooks.set_active(webhooks.get_webhook(webhook_id), False, by_admin=True)
    click.echo(f"Webhook {webhook_id} disabled.")


@webhooks_cli.command("rotate-secret")
@click.argument("webhook_id", type=int)
@reports_errors
def rotate_secret(webhook_id: int) -> None:
    """Give a webhook a new secret; the old one keeps signing for 24 hours."""
    click.echo(webhooks.rotate_secret(webhooks.get_webhook(webhook_id)))


@webhooks_cli.command("reencrypt-secrets")
@reports_errors
def reencrypt_secrets() -> None:
    """Re-encrypt every secret under the first key of WEBHOOK_ENCRYPTION_KEY.

    To change the key, set WEBHOOK_ENCRYPTION_KEY=NEW,OLD everywhere, run this, then drop OLD.
    """
    click.echo(f"Re-encrypted the secrets of {keys.reencrypt_secrets()} webhooks.")


@webhooks_cli.command("logs")
@click.argument("webhook_id", type=int)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@reports_errors
def show_logs(webhook_id: int, limit: int) -> None:
    """Show a webhook's latest deliveries, newest first, with every attempt."""
    rows, _ = logs.get_webhook_logs(webhooks.get_webhook(webhook_id), limit=limit)
    for row in rows:
        click.echo(
            f"#{row.id} {row.event_id} {row.event.event_type} {row.status} "
            f"attempts={row.attempts} created={row.created_at:%Y-%m-%d %H:%M:%S}Z"
        )
        for attempt in row.attempt_log:
            body = (attempt.response_body or "").replace("\n", " ")[:80]
            click.echo(
                f"    attempt {attempt.number} at {attempt.started_at:%H:%M:%S}: "
                f"status={attempt.status_code or '-'} {attempt.duration_ms}ms "
                f"{attempt.error or ''} {body}".rstrip()
            )


@webhooks_cli.command("replay")
@click.argument("webhook_id", type=int)
@click.option("--since", required=True, type=click.DateTime(), help="UTC, e.g. 2026-02-01T10:00")
@click.option("--until", type=click.DateTime(), help="UTC; default: now.")
@click.option("--failed-only", is_flag=True, help="Only events whose delivery failed.")
@click.option("--missed", is_flag=True, help="Also the events it never got (while disabled).")
@reports_errors
def replay(
    webhook_id: int, since: datetime, until: datetime | None, failed_only: bool, missed: bool
) -> None:
    """Deliver again the events a webhook was sent in a time range, each under its own id."""
    replayed = redelivery.replay(
        webhooks.get_webhook(webhook_id),
        since.replace(tzinfo=UTC),
        until.replace(tzinfo=UTC) if until else None,
        failed_only=failed_only,
        missed=missed,
    )
    click.echo(f"Queued {replayed.deliveries} deliveries again.")
    if replayed.next_since is not None:
        # To the second, earlier rather than later: a few sent again, none left out.
        click.echo(f"More remain: run again with --since {replayed.next_since:%Y-%m-%dT%H:%M:%S}")


@webhooks_cli.command("purge-logs")
@click.option("--days", type=click.IntRange(min=0), help="Default: WEBHOOK_LOG_RETENTION_DAYS.")
def purge_logs(days: int | None) -> None:
    """Delete finished deliveries older than the retention period."""
    days = current_app.config["WEBHOOK_LOG_RETENTION_DAYS"] if days is None else days
    click.echo(f"Purged {logs.purge_logs(days)} deliveries older than {days} days.")


@webhooks_cli.command("requeue")
@click.option(
    "--grace",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seconds a delivery must have been due before it counts as lost.",
)
def requeue(grace: int) -> None:
    """Re-enqueue deliveries that are due but not queued (after a broker outage)."""
    count = redelivery.requeue_due(timedelta(seconds=grace))
    click.echo(f"Requeued {count} deliveries.")


@keys_cli.command("create")
@click.argument("name")
@reports_errors
def create_key(name: str) -> None:
    """Print a new operator key named NAME (shown once, stored hashed)."""
    key, plaintext = operator_keys.create_key(name)
    click.echo(plaintext)
    click.echo(
        f"Operator key #{key.id} {key.name!r}: keep it server-side; it is shown only now.", err=True
    )


@keys_cli.command("list")
def list_keys() -> None:
    """List operator keys: id, name, created, last used, revoked."""
    for key in operator_keys.list_keys():
        click.echo(
            f"{key.id}\t{key.name}\tcreated={_moment(key.created_at)}\t"
            f"last_used={_moment(key.last_used_at)}\trevoked={_moment(key.revoked_at)}"
        )


def _moment(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}Z"


@keys_cli.command("revoke")
@click.argument("key_id", type=int)
@reports_errors
def revoke_key(key_id: int) -> None:
    """Revoke an operator key: calls that use it are refused (401) from now on."""
    key = operator_keys.revoke_key(key_id)
    click.echo(f"Operator key #{key.id} {key.name!r} revoked.")
