"""Sign-in links: a tenant comes in from the host application once per link, within its time,
and lands on a page of Signalpost and nowhere else."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.extensions import db
from app.models import SignInLink, utcnow
from app.services import sign_in_links, tenants
from app.services.errors import Gone
from app.services.tenants import TenantInput
from tests.pages.conftest import page_client, sign_in, text


@pytest.fixture
def tenant(ctx):
    external_id = f"link-{uuid.uuid4().hex}"
    user, _ = tenants.put_tenant(external_id, TenantInput(email=f"{external_id}@host.example"))
    return user


def link_path(user, return_to=None) -> str:
    return urlsplit(sign_in_links.create_link(user, return_to).url).path


def signed_in_as(client) -> str | None:
    """The email the pages greet, or None when they send the caller to sign in."""
    page = client.get("/webhooks")
    return None if page.status_code == 302 else text(page)


def test_a_link_signs_the_tenant_in_once(app, client, tenant):
    path = link_path(tenant)
    assert path.startswith(sign_in_links.PATH)

    opened = client.get(path)
    assert opened.status_code == 302
    assert opened.headers["Location"] == "/webhooks"
    assert tenant.email in signed_in_as(client)

    other_browser = page_client(app)
    again = other_browser.get(path)
    assert again.status_code == 410
    page = text(again)
    assert "used" in page and "Go back to the application you came from" in page
    assert again.headers["Cache-Control"] == "no-store"
    assert signed_in_as(other_browser) is None


def test_the_url_is_on_the_base_url_and_only_a_hash_is_stored(app, tenant):
    link = sign_in_links.create_link(tenant)
    assert link.url.startswith(app.config["BASE_URL"].rstrip("/") + sign_in_links.PATH)
    token = link.url.rsplit("/", 1)[1]
    assert len(token) >= 40
    stored = db.session.scalars(sa.select(SignInLink).where(SignInLink.user_id == tenant.id))
    for row in stored:
        assert token not in (row.token_hash, row.return_to)
    assert (
        timedelta(seconds=299)
        <= link.expires_at - utcnow()
        <= timedelta(seconds=app.config["SIGN_IN_LINK_TTL"])
    )


def test_an_expired_link_signs_nobody_in(client, tenant):
    path = link_path(tenant)
    with freeze_time(utcnow() + timedelta(seconds=301)):
        expired = client.get(path)
    assert expired.status_code == 410
    assert "expired" in text(expired)
    assert signed_in_as(client) is None


def test_a_link_just_inside_its_time_still_works(client, tenant):
    path = link_path(tenant)
    # All inside the frozen time: a session cookie signed "in the future" is refused.
    with freeze_time(utcnow() + timedelta(seconds=299)):
        assert client.get(path).status_code == 302
        assert tenant.email in signed_in_as(client)


def test_an_unknown_link_is_404_with_the_same_hint(client):
    response = client.get(sign_in_links.PATH + "not-a-link")
    assert response.status_code == 404
    assert "Go back to the application you came from" in text(response)
    assert signed_in_as(client) is None


@pytest.mark.parametrize("target", ["/webhooks/new", "/webhooks?page=2#top", "/account/tokens"])
def test_return_to_a_path_on_signalpost_lands_there(client, tenant, target):
    assert client.get(link_path(tenant, target)).headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/webhooks",
        "https://evil.example",
        "https://evil.example/webhooks",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "evil.example",
        "webhooks",
        "",
        "/" + "a" * 2048,
    ],
)
def test_return_to_anywhere_else_lands_on_the_webhook_list(client, tenant, target):
    opened = client.get(link_path(tenant, target))
    assert opened.status_code == 302
    assert opened.headers["Location"] == "/webhooks"


def test_a_link_replaces_whoever_was_signed_in(app, make_user, tenant):
    browser = sign_in(page_client(app), make_user())
    with browser.session_transaction() as session:
        session["planted"] = "by someone else"
    browser.get(link_path(tenant))
    assert tenant.email in signed_in_as(browser)
    with browser.session_transaction() as session:
        assert "planted" not in session


def test_deleting_the_tenant_ends_their_session(client, tenant):
    client.get(link_path(tenant))
    tenants.delete_tenant(tenant.external_id)
    assert signed_in_as(client) is None


def test_of_two_uses_at_once_at_most_one_signs_in(app, tenant):
    """Each use in a thread and a database connection of its own, released together."""
    token = sign_in_links.create_link(tenant).url.rsplit("/", 1)[1]
    racers = 4
    start = threading.Barrier(racers)
    results: list[str] = []

    def use() -> None:
        with app.app_context():
            start.wait()
            try:
                sign_in_links.use_link(token)
            except Gone:
                results.append("gone")
            else:
                results.append("signed in")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["gone"] * (racers - 1) + ["signed in"]
