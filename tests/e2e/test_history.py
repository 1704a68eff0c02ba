"""The delivery history in a real browser: rows in flight update by themselves, the Request and
Response tabs, and Redeliver keeping the filters."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Delivery, Event, utcnow
from app.services import queue, users, webhooks
from app.services.events import new_event_id
from tests.support.receiver import Reply

pytestmark = pytest.mark.usefixtures("worker")
PASSWORD = "a long password"


def signed_in(page: Page, live_server: str) -> users.User:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    user = users.create_user(email, PASSWORD)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="No webhooks yet")).to_be_visible()
    return user


def unqueued_delivery(webhook: webhooks.Webhook) -> Delivery:
    """A delivery stored but not yet queued, so the page sees it waiting."""
    event = Event(
        id=new_event_id(), user_id=webhook.user_id, event_type="price_above", data={"n": 1}
    )
    delivery = Delivery(webhook_id=webhook.id, event=event, next_attempt_at=utcnow())
    db.session.add_all([event, delivery])
    db.session.commit()
    return delivery


def test_a_row_in_flight_updates_itself_and_shows_its_tabs(page: Page, live_server, receiver, ctx):
    user = signed_in(page, live_server)
    webhook, _ = webhooks.register_webhook(
        user, webhooks.WebhookInput(name="Bot", url=receiver.url, events=["price_above"])
    )
    delivery = unqueued_delivery(webhook)
    receiver.default = Reply(202, "accepted <b>later</b>", headers={"X-Receiver": "yes"})

    page.goto(f"{live_server}/webhooks/{webhook.id}/logs?status=queued")
    row = page.locator(f"#delivery-{delivery.id}")
    expect(row.locator("summary")).to_contain_text("Queued")
    expect(row.locator(".note")).to_have_text("queued")
    page.evaluate("window.notReloaded = true")
    row.locator("summary").click()  # opened, and it stays open when it is swapped

    queue.enqueue_deliveries([delivery.id])

    expect(row.locator("summary")).to_contain_text("Succeeded", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    assert row.evaluate("element => element.open") is True
    request_tab = row.get_by_role("tab", name="Request")
    response_tab = row.get_by_role("tab", name="Response")
    expect(request_tab).to_have_attribute("aria-selected", "true")
    expect(row.locator("pre.payload")).to_be_visible()
    response_tab.click()
    expect(row.locator("pre.payload")).to_be_hidden()
    expect(row.get_by_role("tabpanel")).to_contain_text("accepted <b>later</b>")
    response_tab.press("ArrowLeft")
    expect(request_tab).to_be_focused()
    expect(request_tab).to_have_attribute("aria-selected", "true")

    row.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text(f"Event {delivery.event_id} queued for delivery again")).to_be_visible()
    assert page.url.endswith(f"/webhooks/{webhook.id}/logs?status=queued")
