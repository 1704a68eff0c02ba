"""A real headless Chromium (Debian's), driven by Playwright, against the live server.

`live_server` (tests/conftest.py) runs the session's app in a thread of this process, so the
in-thread Celery worker delivers what the pages trigger. Chromium is never downloaded:
Playwright starts /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.support.serving import serve  # noqa: F401  (tests import it from here)

CHROMIUM = os.environ.get("SIGNALPOST_CHROMIUM", "/usr/bin/chromium")
# This machine has no network: nothing in Chromium may try to reach one.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_SERVICES = os.environ.get("SIGNALPOST_REQUIRE_SERVICES") == "1"


def _unavailable(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def csp_violations(tab: Any) -> list[str]:
    """What the Content-Security-Policy blocked on this tab, as Chromium reports it."""
    found: list[str] = []
    tab.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    violations = csp_violations(tab)
    yield tab
    context.close()
    # Every page must work under its own policy: an inline script or handler would show here.
    assert violations == [], violations


AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page: the violations axe-core rates serious or critical.
AXE_FAILING = ("serious", "critical")


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        _unavailable(f"axe-core is not installed at {AXE} (npm ci --prefix tests/e2e)")
    return AXE.read_text()


def axe_violations(tab: Any, source: str) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page as it is.

    Evaluated through the DevTools protocol, so the page's own CSP does not apply to it.
    """
    tab.evaluate(source)
    found = tab.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.map((n) => n.target.join(" "))}))"""
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {violation['nodes']}"
        for violation in found
        if violation["impact"] in AXE_FAILING
    ]
