"""Every action by keyboard alone: sign in, send a test and close its dialog, redeliver, rotate
the secret. Tab moves the focus, Enter acts, Escape closes; no mouse anywhere."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from app.extensions import db
from app.services import users, webhooks
from app.services.delivery import test_send

PASSWORD = "a long password"
MOST_TABS = 80  # more stops than any page has before its last action


# What a screen reader would call the focused element, near enough: its label or its text.
FOCUSED_NAME = """(() => {
  const element = document.activeElement;
  const label = element.labels && element.labels[0];
  return (element.getAttribute("aria-label") || (label && label.textContent)
          || element.textContent || "").trim();
})()"""


def tab_to(page: Page, name: str) -> None:
    """Press Tab until the focused field, link or button is called `name`."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_NAME) == name:
            return
    raise AssertionError(f"Tab never reached {name!r} on {page.url}")


def tab_to_first(page: Page, selector: str) -> None:
    """Press Tab until the focus is on an element that `selector` matches."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector!r} on {page.url}")


def test_the_actions_work_by_keyboard_alone(page: Page, live_server, receiver, ctx):
    email = f"keys-{uuid.uuid4().hex[:8]}@example.com"
    user = users.create_user(email, PASSWORD)
    webhook, secret = webhooks.register_webhook(
        user, webhooks.WebhookInput(name="Bot", url=receiver.url, events=["price_above"])
    )
    test_send.test_webhook(webhook)  # a delivery to redeliver

    page.goto(live_server + "/sign-in")
    tab_to(page, "Email")
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()

    page.goto(f"{live_server}/webhooks/{webhook.id}")
    tab_to(page, "Send test")
    page.keyboard.press("Enter")
    dialog = page.locator("#test-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#test-dialog-body")).to_contain_text("200")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.goto(f"{live_server}/webhooks/{webhook.id}/logs")
    tab_to_first(page, "details.log summary")
    page.keyboard.press("Enter")  # the row opens, its actions come next
    tab_to(page, "Redeliver")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("queued for delivery again")

    page.goto(f"{live_server}/webhooks/{webhook.id}")
    tab_to(page, "Rotate…")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Rotate the signing secret")).to_be_visible()
    tab_to(page, "Rotate secret")
    page.keyboard.press("Enter")
    new_secret = page.locator("#secret-value").inner_text()
    assert new_secret.startswith("whsec_") and new_secret != secret
    db.session.refresh(webhook)
    assert webhooks.reveal_secret(webhook) == new_secret
