"""What browsers are told: CSP with scripts from the site only, no framing unless configured,
nosniff, Referrer-Policy, HSTS under https, and no-store wherever a secret is shown once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages.conftest import csrf_token

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/", "/sign-in", "/api/webhooks", "/no-such-page"])
def test_every_response_carries_the_policy(client, path):
    response = client.get(path)
    policy = csp(response)
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http: meaningless


def test_hsts_under_https_without_the_operators_other_sites(client):
    response = client.get("/sign-in", base_url="https://hooks.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_origins_allowed_to_frame_the_pages_are_configurable(make_app):
    embedded = make_app(SIGNALPOST_FRAME_ANCESTORS="https://app.example.com https://b.example.com")
    response = embedded.test_client().get("/sign-in")
    assert csp(response)["frame-ancestors"] == "https://app.example.com https://b.example.com"
    assert "X-Frame-Options" not in response.headers


def test_no_template_has_inline_script_or_handlers():
    """The policy would block them: every script is a file in static/."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=|javascript:|\sstyle\s*=", re.I)
    for template in TEMPLATES.rglob("*.html"):
        found = inline.search(template.read_text())
        assert found is None, f"{template.relative_to(TEMPLATES)}: {found.group(0)!r}"


def test_the_session_cookie_is_secure_when_served_over_https(make_app, make_user):
    user = make_user(password="correct horse battery staple")
    for settings, secure in ({}, False), ({"SIGNALPOST_BASE_URL": "https://h.example"}, True):
        other = make_app(**settings).test_client()
        token = csrf_token(other)
        response = other.post(
            "/sign-in",
            data={
                "email": user.email,
                "password": "correct horse battery staple",
                "csrf_token": token,
            },
        )
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("; Secure" in cookie) is secure, cookie


def no_store(response) -> bool:
    return response.headers.get("Cache-Control") == "no-store"


def test_pages_that_show_a_secret_or_token_once_are_not_stored(browser, make_webhook):
    page = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=page.user)
    revealed = page.post(f"/webhooks/{webhook.id}/secret/reveal")
    assert revealed.status_code == 200 and no_store(revealed)
    # Rotate redirects; the page it lands on shows the new secret, once.
    rotated = page.post(f"/webhooks/{webhook.id}/secret/rotate", {"overlap": "3600"})
    assert rotated.status_code == 302
    shown = page.get(rotated.headers["Location"])
    assert shown.status_code == 200 and no_store(shown)
    token = page.post("/account/tokens", data={"name": "bot"}, follow_redirects=True)
    assert token.status_code == 200 and "sp_" in token.get_data(as_text=True)
    assert no_store(token)
    assert not no_store(page.get("/webhooks"))
