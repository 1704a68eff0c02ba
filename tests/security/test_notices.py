"""An owner hears when an endpoint starts failing, at most once a day, and when it is disabled."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Webhook, utcnow
from app.services import events, notices, signed_links, signup
from tests.support.receiver import Reply
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def failing_notices(mail_sink, owner: str) -> list:
    return [mail for mail in mail_sink.to(owner) if mail["Subject"].startswith("Webhook failing")]


def fail_once(webhook: Webhook, failed_so_far: int) -> None:
    events.trigger_event(webhook.user, "price_above", {})

    def counted() -> bool:
        db.session.refresh(webhook)
        return webhook.failure_count == failed_so_far + 1

    wait_for(counted)


def test_the_first_failed_delivery_tells_the_owner_then_at_most_once_a_day(
    make_webhook, receiver, mail_sink
):
    receiver.default = Reply(400, "no")  # fails at once, no retries
    webhook, _ = make_webhook(receiver.url, name="Trading bot")
    owner = webhook.user.email

    fail_once(webhook, 0)
    (mail,) = wait_for(lambda: failing_notices(mail_sink, owner))
    first_notice = webhook.failure_notified_at
    assert first_notice is not None
    text = mail.get_payload(decode=True).decode()
    assert mail["Subject"] == "Webhook failing: Trading bot"
    assert "Last error: HTTP 400" in text
    assert f"/webhooks/{webhook.id}/logs" in text
    assert f"flask webhooks enable {webhook.id}" in text

    fail_once(webhook, 1)
    assert webhook.failure_notified_at == first_notice, "not told twice in a day"

    # A day later, still failing: told again.
    webhook.failure_notified_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    fail_once(webhook, 2)
    wait_for(lambda: len(failing_notices(mail_sink, owner)) >= 2)
    time.sleep(1)  # let a notice that should not exist reach the sink
    assert len(failing_notices(mail_sink, owner)) == 2


def test_disabling_sends_the_disabled_notice_not_a_failing_one(
    app, make_webhook, receiver, mail_sink, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_FAILURE_THRESHOLD", 1)
    receiver.default = Reply(400, "no")
    webhook, _ = make_webhook(receiver.url, name="Chat channel")
    owner = webhook.user.email

    fail_once(webhook, 0)

    (mail,) = wait_for(lambda: mail_sink.to(owner))
    time.sleep(1)
    assert [m["Subject"] for m in mail_sink.to(owner)] == ["Webhook disabled: Chat channel"]
    text = mail.get_payload(decode=True).decode()
    assert f"/webhooks/{webhook.id}/logs" in text
    assert f"flask webhooks enable {webhook.id}" in text


def test_no_notice_is_mailed_to_an_address_not_yet_confirmed(make_user, make_webhook, mail_sink):
    unconfirmed = make_user(verified=False)
    hidden, _ = make_webhook("http://127.0.0.1:9/hook", user=unconfirmed, name="Unconfirmed")
    shown, _ = make_webhook("http://127.0.0.1:9/hook", name="Confirmed")

    notices.webhook_disabled(hidden, "HTTP 500")
    notices.webhook_failing(hidden.id, 1, "HTTP 500")
    notices.webhook_disabled(shown, "HTTP 500")

    wait_for(lambda: mail_sink.to(shown.user.email))
    time.sleep(1)  # let a notice that should not exist reach the sink
    assert mail_sink.to(unconfirmed.email) == []
    signup.verify_email(
        signed_links.sign(signup.VERIFY_SALT, {"user": unconfirmed.id, "email": unconfirmed.email})
    )
    notices.webhook_disabled(hidden, "HTTP 500")
    (mail,) = wait_for(lambda: mail_sink.to(unconfirmed.email))
    assert mail["Subject"] == "Webhook disabled: Unconfirmed"
