"""Post/redirect/get: rotating asks first, lets the owner choose the overlap and never rotates
again on a reload; retrying on a disabled webhook never claims success."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.extensions import db
from app.models import Delivery, Webhook, utcnow
from app.services import webhooks
from app.services.delivery import test_send
from tests.pages.conftest import text
from tests.support.receiver import Reply


def fresh(webhook_id: int) -> Webhook:
    db.session.rollback()
    return db.session.get(Webhook, webhook_id)


def rotate(me, webhook_id: int, overlap: str = "86400"):
    return me.post(f"/webhooks/{webhook_id}/secret/rotate", {"overlap": overlap})


def test_rotate_asks_first_with_the_four_overlaps(browser, make_webhook):
    me = browser()
    webhook, secret = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    page = text(me.get(f"/webhooks/{webhook.id}/secret/rotate"))
    assert "Rotate the signing secret" in page
    values = [part.split('"', 1)[0] for part in page.split('name="overlap" value="')[1:]]
    assert values == ["0", "3600", "86400", "604800"]
    assert 'value="86400"\n          checked' in page
    assert webhooks.reveal_secret(fresh(webhook.id)) == secret, "asking changes nothing"


def test_rotate_redirects_and_a_reload_does_not_rotate_again(browser, make_webhook):
    me = browser()
    webhook, secret = make_webhook("http://127.0.0.1:9/hook", user=me.user)

    response = rotate(me, webhook.id, "3600")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/webhooks/{webhook.id}#secret"
    new_secret = webhooks.reveal_secret(fresh(webhook.id))
    assert new_secret != secret
    shown = me.get(response.headers["Location"])
    assert shown.headers["Cache-Control"] == "no-store"
    assert new_secret in text(shown) and secret not in text(shown)
    assert "keeps signing alongside it for 1 hour" in text(shown)

    reloaded = me.get(response.headers["Location"])
    assert new_secret not in text(reloaded), "shown once only"
    assert f"whsec_••••{new_secret[-4:]}" in text(reloaded)
    assert "no-store" not in reloaded.headers.get("Cache-Control", "")
    assert webhooks.reveal_secret(fresh(webhook.id)) == new_secret
    assert webhooks.signing_secrets(fresh(webhook.id)) == [new_secret, secret]


@pytest.mark.parametrize(
    ("overlap", "lasts"), [("0", None), ("3600", 1), ("86400", 24), ("604800", 168)]
)
def test_the_old_secret_signs_for_the_chosen_time(browser, make_webhook, overlap, lasts):
    me = browser()
    webhook, secret = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    start = utcnow()
    with freeze_time(start):
        rotate(me, webhook.id, overlap)
    new_secret = webhooks.reveal_secret(fresh(webhook.id))
    if lasts is None:
        assert webhooks.signing_secrets(fresh(webhook.id)) == [new_secret]
        assert "stopped signing at once" in text(me.get(f"/webhooks/{webhook.id}"))
        return
    with freeze_time(start + timedelta(hours=lasts) - timedelta(seconds=1)):
        assert webhooks.signing_secrets(fresh(webhook.id)) == [new_secret, secret]
    with freeze_time(start + timedelta(hours=lasts, seconds=1)):
        assert webhooks.signing_secrets(fresh(webhook.id)) == [new_secret]


def test_an_unknown_overlap_is_refused_and_rotates_nothing(browser, make_webhook):
    me = browser()
    webhook, secret = make_webhook("http://127.0.0.1:9/hook", user=me.user)
    assert rotate(me, webhook.id, "31536000").status_code == 400
    assert webhooks.reveal_secret(fresh(webhook.id)) == secret


def test_the_rotated_secret_is_shown_only_on_its_own_webhooks_page(browser, make_webhook):
    me = browser()
    first, _ = make_webhook("http://127.0.0.1:9/a", user=me.user)
    second, _ = make_webhook("http://127.0.0.1:9/b", user=me.user)
    rotate(me, first.id)
    new_secret = webhooks.reveal_secret(fresh(first.id))
    assert new_secret not in text(me.get(f"/webhooks/{second.id}"))
    assert new_secret in text(me.get(f"/webhooks/{first.id}")), "still waiting for its page"


def disabled_with_a_failed_delivery(me, make_webhook, receiver, *, by_admin: bool = False):
    webhook, _ = make_webhook(receiver.url, user=me.user)
    receiver.default = Reply(500, "down")
    test_send.test_webhook(webhook)
    webhooks.set_active(webhook, False, by_admin=by_admin)
    delivery = db.session.scalar(sa.select(Delivery).where(Delivery.webhook_id == webhook.id))
    return webhook, delivery


def count(webhook_id: int) -> int:
    db.session.rollback()
    query = (
        sa.select(sa.func.count()).select_from(Delivery).where(Delivery.webhook_id == webhook_id)
    )
    return db.session.scalar(query)


def test_redeliver_on_a_disabled_webhook_offers_enable_and_redeliver(
    browser, make_webhook, receiver
):
    me = browser()
    webhook, failed = disabled_with_a_failed_delivery(me, make_webhook, receiver)
    page = text(me.get(f"/webhooks/{webhook.id}/logs"))
    assert ">Enable and redeliver</button>" in page and ">Redeliver</button>" not in page

    plain = me.post(f"/webhooks/{webhook.id}/logs/{failed.id}/retry")
    told = text(me.get(plain.headers["Location"]))
    assert "Nothing was sent: the webhook is disabled." in told and "queued for" not in told
    assert count(webhook.id) == 1

    enabled = me.post(f"/webhooks/{webhook.id}/logs/{failed.id}/retry", {"enable": "1"})
    assert enabled.status_code == 302
    assert "queued for delivery again" in text(me.get(enabled.headers["Location"]))
    assert fresh(webhook.id).is_active and count(webhook.id) == 2


def test_an_admins_disable_holds_against_enable_and_redeliver(browser, make_webhook, receiver):
    me = browser()
    webhook, failed = disabled_with_a_failed_delivery(me, make_webhook, receiver, by_admin=True)
    page = text(me.get(f"/webhooks/{webhook.id}/logs"))
    assert "Enable and redeliver" not in page and "Only an admin can enable it again." in page
    response = me.post(f"/webhooks/{webhook.id}/logs/{failed.id}/retry", {"enable": "1"})
    told = text(me.get(response.headers["Location"]))
    assert "Only an admin can enable it again." in told and "queued for" not in told
    assert not fresh(webhook.id).is_active and count(webhook.id) == 1
