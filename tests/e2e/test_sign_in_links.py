"""A tenant follows the host's "Webhooks" item in Chromium: through a sign-in link, inside the
host's frame, onto the webhook list; the same link a second time signs nobody in."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.wrappers import Response

from app.services import sign_in_links, tenants
from app.services.tenants import TenantInput
from tests.e2e.conftest import serve


@pytest.fixture
def host_and_signalpost(make_app: Callable[..., Flask]) -> Iterator[tuple[str, dict, str]]:
    """The host's page framing `framed["src"]`, and a Signalpost that lets it frame the pages."""
    framed = {"src": "about:blank"}

    def host(environ: dict, start_response: Callable) -> Any:
        page = f'<!doctype html><title>Host</title><iframe src="{framed["src"]}"></iframe>'
        return Response(page, content_type="text/html")(environ, start_response)

    for host_origin in serve(host):
        for signalpost in serve(make_app(SIGNALPOST_FRAME_ANCESTORS=host_origin)):
            yield host_origin, framed, signalpost


def test_a_sign_in_link_signs_the_tenant_in_inside_the_hosts_frame(
    page: Page, ctx, host_and_signalpost
):
    host_origin, framed, signalpost = host_and_signalpost
    external_id = f"e2e-{uuid.uuid4().hex}"
    user, _ = tenants.put_tenant(external_id, TenantInput(email=f"{external_id}@host.example"))
    path = urlsplit(sign_in_links.create_link(user, "/webhooks/new").url).path

    framed["src"] = signalpost + path
    page.goto(host_origin)
    frame = page.frame_locator("iframe")
    expect(frame.get_by_label("Name")).to_be_editable()
    expect(frame.get_by_text(user.email)).to_be_visible()

    page.goto(signalpost + path)
    expect(
        page.get_by_role("heading", name="This link has expired or was used already")
    ).to_be_visible()
    expect(page.get_by_text("Go back to the application you came from")).to_be_visible()
