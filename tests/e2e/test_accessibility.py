"""Every page, at desktop and at phone width (390 px): no serious or critical axe-core
violation, nothing that scrolls sideways however long the names and URLs, and a title that
names the page."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from app.services import tenants, users, webhooks
from app.services.delivery import test_send
from tests.e2e.conftest import axe_violations
from tests.support.receiver import Reply

PASSWORD = "a long password"
LONG_NAME = "Alerts-for-the-whole-trading-desk-" * 2
WIDTHS = {"desktop": 1280, "phone": 390}


def sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("link", name="Sign out").or_(page.get_by_role("button", name="Sign out"))
    ).to_be_visible()


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_is_accessible_and_fits(
    page: Page, live_server, receiver, ctx, axe_source, width
):
    page.set_viewport_size({"width": WIDTHS[width], "height": 860})
    email = f"a11y-{uuid.uuid4().hex[:8]}@example.com"
    user = users.create_user(email, PASSWORD, is_admin=True)
    long_url = receiver.url + "/" + "very-long-path-segment" * 12 + "?token=" + "x" * 120
    webhook, _ = webhooks.register_webhook(
        user,
        webhooks.WebhookInput(
            name=LONG_NAME, url=long_url, events=["price_above", "trade_executed"], format="slack"
        ),
    )
    # A tenant, listed with its long id and the reason it gets no reset link.
    tenant_id = f"host-user-{uuid.uuid4().hex}-{uuid.uuid4().hex[:18]}"
    tenants.put_tenant(tenant_id, tenants.TenantInput(f"{uuid.uuid4().hex}@example.com", LONG_NAME))
    receiver.reply(Reply(500, "down " * 200), Reply(200, "ok"))
    test_send.test_webhook(webhook)
    test_send.test_webhook(webhook, "price_above")

    problems: list[str] = []

    def check(path: str) -> None:
        problems.extend(f"{path}: {found}" for found in axe_violations(page, axe_source))
        if scrolls_sideways(page):
            problems.append(f"{path}: scrolls sideways at {WIDTHS[width]} px")

    page.goto(live_server + "/sign-in")
    check("/sign-in")

    sign_in(page, live_server, email)
    pages = [
        "/webhooks",
        "/webhooks/new",
        f"/webhooks/{webhook.id}",
        f"/webhooks/{webhook.id}/edit",
        f"/webhooks/{webhook.id}/secret/rotate",
        f"/webhooks/{webhook.id}/logs",
        f"/webhooks/{webhook.id}/delete",
        "/account/tokens",
        "/admin",
        "/admin/users",
        f"/admin/webhooks/{webhook.id}/logs",
    ]
    titles = set()
    for path in pages:
        page.goto(live_server + path)
        if path.endswith("/logs"):
            for row in page.locator("details.log summary").all():
                row.click()  # opened, with their tabs
            if not path.startswith("/admin"):  # the admin's history is read-only
                page.get_by_text("Replay a time range").click()
        if path == f"/webhooks/{webhook.id}":
            for preview in page.locator("details.preview summary").all():
                preview.click()
        check(path)
        title = page.title()
        assert title.endswith("· Signalpost") and title != "Signalpost", path
        titles.add(title)
    assert problems == [], "\n".join(problems)
    assert len(titles) == len(pages), "each page names itself"
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).ok
