"""The pages refuse to be framed, unless SIGNALPOST_FRAME_ANCESTORS names the framing site."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.wrappers import Response

from tests.e2e.conftest import csp_violations, serve


@pytest.fixture
def host_site() -> Iterator[dict[str, str]]:
    """Another origin (another port) whose page frames whatever `frame` is set to."""
    framed = {"src": "about:blank"}

    def application(environ: dict, start_response: Callable) -> Any:
        page = f'<!doctype html><title>Host</title><iframe src="{framed["src"]}"></iframe>'
        return Response(page, content_type="text/html")(environ, start_response)

    for origin in serve(application):
        framed["origin"] = origin
        yield framed


@pytest.fixture
def embedding_server(make_app: Callable[..., Flask], host_site: dict[str, str]) -> Iterator[str]:
    yield from serve(make_app(SIGNALPOST_FRAME_ANCESTORS=host_site["origin"]))


def test_by_default_no_site_may_frame_the_pages(chromium, live_server, host_site):
    tab = chromium.new_page()
    blocked = csp_violations(tab)
    host_site["src"] = f"{live_server}/sign-in"
    tab.goto(host_site["origin"])
    expect(tab.frame_locator("iframe").get_by_role("heading", name="Sign in")).to_have_count(0)
    assert any("frame-ancestors" in message for message in blocked), blocked
    tab.close()


def test_the_configured_site_may_frame_them(page: Page, embedding_server, host_site):
    host_site["src"] = f"{embedding_server}/sign-in"
    page.goto(host_site["origin"])
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(frame.get_by_label("Email")).to_be_editable()
