"""Every page, at desktop and at phone width (390 px): no serious or critical axe-core
violation, nothing that scrolls sideways however long the names and URLs, and a title that
names the page."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from app.services import operator_keys, password_reset, tenants, users, webhooks
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


def unlabelled_log_cells(page: Page) -> list[str]:
    """The cells of the log rows that show no label: at phone width the column headings are
    hidden, so each cell must name itself (its `data-label`, shown before it)."""
    return page.evaluate(
        """[...document.querySelectorAll("details.log summary > span[data-label]")]
           .filter(span => getComputedStyle(span, "::before").content !== `"${span.dataset.label}"`)
           .map(span => span.dataset.label)"""
    )


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
    # An operator key and an API token whose long names their tables must wrap.
    operator_keys.create_key(LONG_NAME)
    users.create_api_token(user, LONG_NAME)
    receiver.reply(Reply(500, "down " * 200), Reply(200, "ok"))
    test_send.test_webhook(webhook)
    test_delivery_id, _ = test_send.run_test(webhook, "price_above")

    problems: list[str] = []

    def check(path: str) -> None:
        problems.extend(f"{path}: {found}" for found in axe_violations(page, axe_source))
        if scrolls_sideways(page):
            problems.append(f"{path}: scrolls sideways at {WIDTHS[width]} px")

    titles = set()

    def visit(path: str) -> None:
        page.goto(live_server + path)
        check(path)
        title = page.title()
        assert title.endswith("· Signalpost") and title != "Signalpost", path
        titles.add(title)

    signed_out = [
        "/",
        "/sign-in",
        "/register",
        "/forgot-password",
        urlsplit(password_reset.reset_link(user)).path,
        "/reset-password/no-longer-a-link",
        "/no-such-page",
    ]
    for path in signed_out:
        visit(path)
    page.goto(live_server + "/forgot-password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/forgot-password/sent")
    check("/forgot-password/sent")
    titles.add(page.title())

    sign_in(page, live_server, email)
    pages = [
        "/webhooks",
        "/webhooks/new",
        f"/webhooks/{webhook.id}",
        f"/webhooks/{webhook.id}/edit",
        f"/webhooks/{webhook.id}/secret/rotate",
        f"/webhooks/{webhook.id}/logs",
        f"/webhooks/{webhook.id}/delete",
        f"/webhooks/{webhook.id}/tests/{test_delivery_id}",
        f"/webhooks/{webhook.id}/missed?since=2000-01-01T00:00:00Z",
        "/account/tokens",
        "/admin",
        "/admin/users",
        "/admin/keys",
        f"/admin/webhooks/{webhook.id}/logs",
    ]
    for path in pages:
        page.goto(live_server + path)
        if path.endswith("/logs"):
            for row in page.locator("details.log summary").all():
                row.click()  # opened, with their tabs
            if not path.startswith("/admin"):  # the admin's history is read-only
                page.get_by_text("Replay a time range").click()
            if width == "phone":
                assert page.locator("details.log summary > span[data-label]").count() > 0
                assert unlabelled_log_cells(page) == [], path
        if path == f"/webhooks/{webhook.id}":
            for preview in page.locator("details.preview summary").all():
                preview.click()
        check(path)
        title = page.title()
        assert title.endswith("· Signalpost") and title != "Signalpost", path
        titles.add(title)
    # The endpoint page's test dialog, open.
    page.goto(f"{live_server}/webhooks/{webhook.id}")
    page.get_by_role("button", name="Send test").first.click()
    expect(page.locator("#test-dialog-body")).not_to_be_empty()
    check(f"/webhooks/{webhook.id} (test dialog)")
    assert problems == [], "\n".join(problems)
    assert len(titles) == len(signed_out) + 1 + len(pages), "each page names itself"
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).ok
