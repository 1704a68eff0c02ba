"""Operator notices: Signalpost's own signed events about endpoints, at the operator's URL.

A real worker delivers them to a real receiver on 127.0.0.1; the signatures are checked with
the operator's secret, by hand and with the Standard Webhooks library.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook as StandardWebhook

from app.domain import signing
from app.domain.status import DeliveryStatus
from app.extensions import db
from app.models import Delivery, Event, Webhook
from app.services import events, operator_notices, stats, webhooks
from app.services.errors import NotFound
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("worker")


class Operator:
    """The operator's endpoint: what it received, read as verified notices."""

    def __init__(self, receiver: Receiver, secret: str) -> None:
        self.receiver = receiver
        self.secret = secret

    def notices(self, webhook_id: int) -> list[dict[str, Any]]:
        """The distinct notices about one webhook (a retried one counts once), in order."""
        seen: dict[str, dict[str, Any]] = {}
        for request in list(self.receiver.requests):
            headers = request.headers
            assert signing.verify(
                self.secret,
                headers["X-Webhook-Id"],
                headers["X-Webhook-Timestamp"],
                request.body,
                headers["X-Webhook-Signature"],
            ), "a notice not signed with the operator's secret"
            body = StandardWebhook(self.secret).verify(request.body, headers)
            assert set(body) == {"id", "event", "timestamp", "data"}
            assert headers["X-Webhook-Event"] == body["event"]
            if body["data"]["webhook_id"] == webhook_id:
                seen.setdefault(body["id"], body)
        return list(seen.values())

    def wait(self, webhook_id: int, count: int) -> list[dict[str, Any]]:
        return wait_for(
            lambda: (found := self.notices(webhook_id)) and len(found) >= count and found
        )


@pytest.fixture
def operator(app, ctx) -> Iterator[Operator]:
    """The session's app (the worker's too) configured with an operator endpoint, and a failure
    threshold of 1, for this test only."""
    receiver = Receiver().start()
    secret = signing.generate_secret()
    saved = {name: app.config[name] for name in ("OPERATOR_WEBHOOK_URL", "OPERATOR_WEBHOOK_SECRET")}
    saved["WEBHOOK_FAILURE_THRESHOLD"] = app.config["WEBHOOK_FAILURE_THRESHOLD"]
    app.config.update(
        OPERATOR_WEBHOOK_URL=receiver.url,
        OPERATOR_WEBHOOK_SECRET=secret,
        WEBHOOK_FAILURE_THRESHOLD=1,
    )
    yield Operator(receiver, secret)
    app.config.update(saved)
    receiver.stop()


def tenant_webhook(make_user, url: str) -> Webhook:
    user = make_user()
    user.external_id = f"host-user-{uuid.uuid4().hex[:8]}"
    db.session.commit()
    webhook, _ = webhooks.register_webhook(
        user, webhooks.WebhookInput(name="Alerts", url=url, events=["price_above"])
    )
    return webhook


def test_the_circuit_breaker_tells_the_operator_naming_the_tenant(operator, make_user):
    failing = Receiver().start()
    failing.default = Reply(400, "no")  # a 4xx other than 408/429 fails at once
    try:
        webhook = tenant_webhook(make_user, failing.url)
        fired = events.trigger_event(webhook.user, "price_above", {"price": "1"})

        exhausted, disabled = operator.wait(webhook.id, 2)
    finally:
        failing.stop()

    assert exhausted["event"] == "delivery.exhausted"
    assert exhausted["data"] == {
        "tenant": webhook.user.external_id,
        "webhook_id": webhook.id,
        "webhook_name": "Alerts",
        "error": "HTTP 400",
        "event_id": fired.event_id,
        "event": "price_above",
    }
    assert disabled["event"] == "webhook.disabled"
    assert disabled["data"]["tenant"] == webhook.user.external_id
    assert disabled["data"]["webhook_name"] == "Alerts"
    assert disabled["data"]["reason"].startswith("Disabled after 1 consecutive failed deliveries")


def test_enabling_and_disabling_by_owner_and_admin_are_told(operator, make_user, receiver, runner):
    webhook = tenant_webhook(make_user, receiver.url)

    webhooks.update_webhook(webhook, webhooks.WebhookInput(is_active=False))
    webhooks.set_active(webhook, True)
    assert runner.invoke(args=["webhooks", "disable", str(webhook.id)]).exit_code == 0
    assert runner.invoke(args=["webhooks", "enable", str(webhook.id)]).exit_code == 0
    webhooks.set_active(webhook, True)  # already enabled: no change, no notice

    told = operator.wait(webhook.id, 4)
    time.sleep(0.5)
    assert [(n["event"], n["data"]["reason"]) for n in operator.notices(webhook.id)] == [
        ("webhook.disabled", "Disabled by its owner."),
        ("webhook.enabled", "Enabled by its owner."),
        ("webhook.disabled", "Disabled by an admin."),
        ("webhook.enabled", "Enabled by an admin."),
    ]
    assert all(n["data"]["tenant"] == webhook.user.external_id for n in told)


def test_a_user_without_an_external_id_is_named_as_null(operator, make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)

    webhooks.set_active(webhook, False)

    (notice,) = operator.wait(webhook.id, 1)
    assert notice["data"]["tenant"] is None


def system_events() -> int:
    db.session.rollback()
    owner = operator_notices.system_webhook().user_id
    return db.session.scalar(sa.select(sa.func.count()).where(Event.user_id == owner))


def test_a_failing_operator_endpoint_causes_no_notices_about_itself(operator, make_user):
    operator.receiver.default = Reply(500, "operator down")
    failing = Receiver().start()
    failing.default = Reply(400, "no")
    before = None
    try:
        db.session.rollback()
        webhook = tenant_webhook(make_user, failing.url)
        system = operator_notices.system_webhook()
        before = system_events()
        events.trigger_event(webhook.user, "price_above", {"price": "1"})

        def finished() -> list[Delivery]:
            rows = db.session.scalars(
                sa.select(Delivery).where(Delivery.webhook_id == system.id).order_by(Delivery.id)
            ).all()
            recent = rows[-2:]
            done = len(rows) >= 2 and all(r.status == DeliveryStatus.FAILED for r in recent)
            return recent if done else []

        recent = wait_for(finished, timeout=30)
    finally:
        failing.stop()
    time.sleep(1.5)  # any notice the failures caused would have been stored by now

    assert [json.loads(row.request_body)["event"] for row in recent] == [
        "delivery.exhausted",
        "webhook.disabled",
    ]
    assert all(row.attempts == 4 for row in recent), "retried like any delivery"
    assert system_events() == before + 2
    db.session.refresh(system)
    assert system.is_active, "the circuit breaker never disables the operator's endpoint"


def test_the_system_webhook_is_in_nobodys_lists_or_counts(operator, make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    webhooks.set_active(webhook, False)
    system = operator_notices.system_webhook()

    assert system is not None and system.is_system
    assert system.id not in {hook.id for hook in webhooks.list_webhooks()}
    assert system.user.email not in {row.user.email for row in stats.user_counts()}
    with pytest.raises(NotFound):
        webhooks.get_webhook(system.id)


def test_the_system_webhook_follows_the_configuration(app, operator):
    system = operator_notices.system_webhook()
    other = Receiver().start()
    try:
        secret = signing.generate_secret()
        app.config.update(OPERATOR_WEBHOOK_URL=other.url, OPERATOR_WEBHOOK_SECRET=secret)

        moved = operator_notices.system_webhook()

        assert moved.id == system.id
        assert moved.url == other.url and webhooks.reveal_secret(moved) == secret
        app.config.update(OPERATOR_WEBHOOK_URL=None, OPERATOR_WEBHOOK_SECRET=None)
        assert operator_notices.system_webhook() is None
        db.session.refresh(moved)
        assert not moved.is_active
    finally:
        other.stop()
