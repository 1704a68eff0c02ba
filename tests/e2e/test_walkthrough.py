"""One user's whole journey in a real browser, against the real server, worker and receiver."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.services import events, users, webhooks
from tests.support.receiver import Reply
from tests.support.waiting import wait_for

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"

pytestmark = pytest.mark.usefixtures("worker")


def reload_until(page: Page, text: str, locator: str = "body") -> None:
    """Reload the page until `text` shows: the worker delivers in the background."""

    def shown() -> bool:
        page.reload()
        return text in page.locator(locator).inner_text()

    wait_for(shown, interval=0.3)


def test_register_create_test_trigger_retry_rotate_disable(
    page: Page, live_server, receiver, mail_sink, ctx
):
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. Register, confirm the address with the mailed link, sign in.
    page.goto(live_server + "/")
    page.get_by_role("link", name="Register").first.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    (mail,) = wait_for(lambda: mail_sink.to(email))
    link = re.search(r"/verify-email/\S+", mail.get_payload(decode=True).decode()).group(0)
    page.goto(live_server + link)
    expect(page.get_by_text("Your address is confirmed.")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="No webhooks yet")).to_be_visible()
    expect(page.get_by_text("Confirm your address")).to_have_count(0)

    # 2. Create a webhook to a local receiver.
    page.get_by_role("link", name="New webhook").first.click()
    page.get_by_label("Name").fill("Trading bot")
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("checkbox", name=re.compile("Price Above Target")).check()
    page.get_by_role("checkbox", name=re.compile("Trade Executed")).check()
    page.screenshot(path=SCREENSHOTS / "webhook-form.png", full_page=True)
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_text("Webhook “Trading bot” created.")).to_be_visible()
    expect(page.locator("#secret-value")).to_have_text(re.compile(r"^whsec_••••.{4}$"))
    endpoint_page = page.url
    page.get_by_role("link", name="Back to webhooks").click()

    # 3. Send a test and see 200 in the dialog.
    page.get_by_role("button", name="Test").click()
    dialog = page.get_by_role("dialog", name="Test delivery")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".status-code")).to_have_text("200")
    expect(dialog).to_contain_text("Success")
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_be_hidden()

    # 4. Trigger an event and see its log row.
    owner = users.get_user_by_email(email)
    [webhook] = webhooks.list_webhooks(owner)
    first = events.trigger_event(owner, "price_above", {"symbol": "AAPL", "price": "185.50"})
    page.get_by_role("link", name="Logs").click()
    reload_until(page, "Price Above Target", ".logs")
    row = page.locator("details.log", has_text="Price Above Target")
    expect(row.locator("summary")).to_contain_text("200")
    expect(row.locator("summary")).to_contain_text("Succeeded")

    # 5. Expand the payload.
    row.locator("summary").click()
    payload = row.locator("pre.payload")
    expect(payload).to_be_visible()
    expect(payload).to_contain_text('"symbol": "AAPL"')
    expect(payload).to_contain_text(first.event_id)
    page.screenshot(path=SCREENSHOTS / "delivery-logs.png", full_page=True)

    # 6. Make the receiver fail, then retry from the logs page.
    receiver.default = Reply(400, "rejected")
    failing = events.trigger_event(owner, "trade_executed", {"symbol": "MSFT", "side": "buy"})
    reload_until(page, "Failed", ".logs")
    failed = page.locator("details.log", has_text="Trade Executed")
    failed.locator("summary").click()
    receiver.default = Reply(200, "back again")
    failed.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text(f"Event {failing.event_id} queued")).to_be_visible()
    wait_for(
        lambda: (
            len([r for r in receiver.requests if r.headers["X-Webhook-Id"] == failing.event_id])
            == 2
        )
    )
    retried = [r for r in receiver.requests if r.headers["X-Webhook-Id"] == failing.event_id]
    assert [r.headers["X-Webhook-Event"] for r in retried] == ["trade_executed"] * 2
    # The new row updates by itself, no reload; the original says it was redelivered.
    expect(page.locator("details.log").first.locator("summary")).to_contain_text("Succeeded")
    failed = page.locator("details.log", has_text="Trade Executed").nth(1)
    failed.locator("summary").click()
    expect(failed).to_contain_text("Redelivered as")

    # 7. Rotate the secret, choosing how long the old one keeps signing, then reload.
    db.session.rollback()
    old_secret = webhooks.reveal_secret(webhooks.get_webhook(webhook.id))
    page.get_by_role("link", name="Back to the webhook").click()
    assert page.url == endpoint_page
    expect(page.locator("#secret-value")).to_have_text(f"whsec_••••{old_secret[-4:]}")
    page.get_by_role("button", name="Copy").click()  # copies without showing it
    wait_for(lambda: page.evaluate("navigator.clipboard.readText()") == old_secret)
    expect(page.locator("#secret-value")).to_have_text(f"whsec_••••{old_secret[-4:]}")
    page.get_by_role("link", name="Rotate…").click()
    page.get_by_label("for 7 days").check()
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("keeps signing alongside it for 7 days")).to_be_visible()
    new_secret = page.locator("#secret-value").inner_text().strip()
    db.session.rollback()
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    assert webhooks.signing_secrets(webhooks.get_webhook(webhook.id)) == [new_secret, old_secret]
    page.reload()  # neither rotates again nor shows the secret again
    expect(page.locator("#secret-value")).to_have_text(f"whsec_••••{new_secret[-4:]}")
    page.screenshot(path=SCREENSHOTS / "endpoint.png", full_page=True)
    db.session.rollback()
    assert webhooks.signing_secrets(webhooks.get_webhook(webhook.id)) == [new_secret, old_secret]

    # 8. Disable and re-enable.
    page.get_by_role("link", name="Back to webhooks").click()
    card = page.locator(f"#webhook-{webhook.id}")
    card.get_by_role("button", name="Disable").click()
    expect(card.locator(".badge")).to_have_text("Disabled")
    expect(card).to_contain_text("Disabled by its owner.")
    card.get_by_role("button", name="Enable").click()
    expect(card.locator(".badge")).to_have_text("Active")
    expect(card.get_by_role("img")).to_have_attribute("aria-label", re.compile("delivered"))
    page.screenshot(path=SCREENSHOTS / "webhooks.png", full_page=True)
