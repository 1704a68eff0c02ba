"""Idempotency-Key on POST /api/events, and on the in-process trigger_event and app.sources."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app import sources
from app.extensions import db
from app.models import Event, IdempotencyKey, User, utcnow
from app.services import events, idempotency, operator_keys
from app.services.errors import ValidationError
from tasks import maintenance
from tests.api.conftest import error_of
from tests.support.waiting import wait_for

TRADE = {"event": "trade_executed", "data": {"symbol": "MSFT", "side": "buy", "quantity": "10"}}


def key() -> str:
    return f"order-{uuid.uuid4().hex}"


def events_of(user: User) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).where(Event.user_id == user.id))


@pytest.mark.usefixtures("worker")
def test_a_repeat_answers_the_first_answer_and_delivers_nothing_more(api, receiver):
    api.create_webhook(receiver.url, events=["trade_executed"])
    headers = {"Idempotency-Key": key()}

    first = api.post("/api/events", json=TRADE, headers=headers)
    wait_for(lambda: receiver.requests)
    again = api.post("/api/events", json=TRADE, headers=headers)

    assert first.status_code == again.status_code == 202
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() == {"id": first.get_json()["id"], "deliveries": 1}
    time.sleep(1)  # anything the repeat had queued would be delivered by now
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["X-Webhook-Id"] == first.get_json()["id"]
    assert events_of(api.user) == 1


def test_the_same_key_with_another_body_is_a_409(api):
    headers = {"Idempotency-Key": key()}
    assert api.post("/api/events", json=TRADE, headers=headers).status_code == 202

    other = {**TRADE, "data": {**TRADE["data"], "quantity": "11"}}
    response = api.post("/api/events", json=other, headers=headers)

    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert events_of(api.user) == 1


def test_the_body_is_compared_as_json_not_as_bytes(api):
    headers = {"Idempotency-Key": key(), "Content-Type": "application/json"}
    first = api.post(
        "/api/events", data='{"event": "custom", "data": {"a": 1, "b": 2}}', headers=headers
    )
    again = api.post("/api/events", data='{"data":{"b":2,"a":1},"event":"custom"}', headers=headers)

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()


def test_owners_keys_are_independent(make_caller):
    ann, bob = make_caller(), make_caller()
    headers = {"Idempotency-Key": key()}

    first = ann.post("/api/events", json=TRADE, headers=headers)
    other = bob.post("/api/events", json={**TRADE, "event": "custom"}, headers=headers)

    assert first.status_code == other.status_code == 202
    assert "Idempotent-Replayed" not in other.headers
    assert other.get_json()["id"] != first.get_json()["id"]
    assert events_of(ann.user) == events_of(bob.user) == 1


def test_an_operator_key_acting_as_a_tenant_shares_the_tenants_keys(app, make_caller):
    tenant, neighbour = make_caller(), make_caller()
    for caller, external_id in ((tenant, f"t-{uuid.uuid4().hex}"), (neighbour, None)):
        caller.user.external_id = external_id or f"n-{uuid.uuid4().hex}"
    db.session.commit()
    _, operator = operator_keys.create_key("host backend")
    client = app.test_client()
    shared = key()

    def as_tenant(user: User) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {operator}",
            "Signalpost-Tenant": user.external_id,
            "Idempotency-Key": shared,
        }

    first = client.post("/api/events", json=TRADE, headers=as_tenant(tenant.user))
    again = client.post("/api/events", json=TRADE, headers=as_tenant(tenant.user))
    by_token = tenant.post("/api/events", json=TRADE, headers={"Idempotency-Key": shared})
    next_door = client.post("/api/events", json=TRADE, headers=as_tenant(neighbour.user))

    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == by_token.headers["Idempotent-Replayed"]
    assert again.get_json() == by_token.get_json() == first.get_json()
    assert "Idempotent-Replayed" not in next_door.headers
    assert events_of(tenant.user) == events_of(neighbour.user) == 1


def test_a_key_binds_for_24_hours_then_is_free(api):
    headers = {"Idempotency-Key": key()}
    start = utcnow()
    with freeze_time(start) as clock:
        first = api.post("/api/events", json=TRADE, headers=headers).get_json()
        clock.tick(timedelta(hours=24) - timedelta(seconds=1))
        replayed = api.post("/api/events", json=TRADE, headers=headers)
        clock.tick(timedelta(seconds=1))
        fresh = api.post("/api/events", json=TRADE, headers=headers)
        again = api.post("/api/events", json=TRADE, headers=headers)

    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json() == first
    assert fresh.status_code == 202 and "Idempotent-Replayed" not in fresh.headers
    assert fresh.get_json()["id"] != first["id"]
    assert again.get_json() == fresh.get_json()
    assert events_of(api.user) == 2


def test_beats_purge_deletes_keys_past_24_hours(api):
    old, recent = key(), key()
    with freeze_time(utcnow() - timedelta(hours=25)):
        api.post("/api/events", json=TRADE, headers={"Idempotency-Key": old})
    with freeze_time(utcnow() - timedelta(hours=23)):
        api.post("/api/events", json=TRADE, headers={"Idempotency-Key": recent})

    maintenance.purge_logs()

    db.session.rollback()
    kept = db.session.scalars(
        sa.select(IdempotencyKey.key).where(IdempotencyKey.user_id == api.user.id)
    )
    assert list(kept) == [recent]


@pytest.mark.parametrize(
    "value",
    ["", "k" * 256, "caf\u00e9", "tab\there", "del\x7f"],
    ids=["empty", "too-long", "not-ascii", "tab", "del"],
)
def test_a_bad_key_is_a_422_naming_the_header(api, value):
    response = api.post("/api/events", json=TRADE, headers={"Idempotency-Key": value})

    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["Idempotency-Key"]
    assert events_of(api.user) == 0


def test_the_longest_key_is_taken(api):
    headers = {"Idempotency-Key": "k" * 255}
    api.post("/api/events", json=TRADE, headers=headers)
    again = api.post("/api/events", json=TRADE, headers=headers)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"


def test_trigger_event_in_process_takes_the_key(make_user):
    owner = make_user()
    shared = key()

    first = events.trigger_event(owner, "custom", {"n": 1}, idempotency_key=shared)
    again = events.trigger_event(owner, "custom", {"n": 1}, idempotency_key=shared)

    assert not first.replayed and again.replayed
    assert (again.event_id, again.deliveries) == (first.event_id, first.deliveries)
    with pytest.raises(idempotency.IdempotencyKeyReused):
        events.trigger_event(owner, "custom", {"n": 2}, idempotency_key=shared)
    with pytest.raises(ValidationError) as refused:
        events.trigger_event(owner, "custom", {"n": 1}, idempotency_key="")
    assert list(refused.value.fields) == ["idempotency_key"]
    assert events_of(owner) == 1


def test_app_sources_take_the_key(make_user, make_webhook, hook_url):
    owner = make_user()
    make_webhook(hook_url, user=owner, events=["trade_executed"])
    trade = SimpleNamespace(
        id=42,
        portfolio_id=7,
        symbol="AAPL",
        side="buy",
        quantity=Decimal("3"),
        price=Decimal("185.50"),
        currency="USD",
        executed_at=utcnow(),
    )

    first = sources.on_trade_executed(owner, trade, idempotency_key="trade-42")
    again = sources.on_trade_executed(owner.email, trade, idempotency_key="trade-42")

    assert first.deliveries == 1 and again.replayed and again.event_id == first.event_id
    trade.price = Decimal("185.51")
    with pytest.raises(idempotency.IdempotencyKeyReused):
        sources.on_trade_executed(owner, trade, idempotency_key="trade-42")
    assert events_of(owner) == 1


@pytest.mark.usefixtures("worker")
def test_concurrent_repeats_deliver_once(app, api, receiver):
    """Eight requests with one key at the same moment: one event, one delivery, one answer."""
    api.create_webhook(receiver.url, events=["trade_executed"])
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": key()}
    start = threading.Barrier(8)
    answers = []

    def fire() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/events", json=TRADE, headers=headers))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [answer.status_code for answer in answers] == [202] * 8
    assert len({answer.get_json()["id"] for answer in answers}) == 1
    assert sum("Idempotent-Replayed" not in answer.headers for answer in answers) == 1
    wait_for(lambda: receiver.requests)
    time.sleep(1)
    assert len(receiver.requests) == 1
    assert events_of(api.user) == 1


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_a_repeat_waits_for_the_transaction_holding_its_key(app, api, outcome):
    """The key's row is part of the first request's transaction: a repeat that meets it while
    that transaction is open waits for it, then answers its answer (or, if it rolled back,
    is the first)."""
    shared, held = key(), f"evt_{uuid.uuid4().hex}"
    fingerprint = idempotency.fingerprint(TRADE)
    holder = db.engine.connect()
    transaction = holder.begin()
    holder.execute(
        sa.insert(Event.__table__).values(
            id=held, user_id=api.user.id, event_type="trade_executed", data={}
        )
    )
    holder.execute(
        sa.insert(IdempotencyKey.__table__).values(
            user_id=api.user.id,
            key=shared,
            fingerprint=fingerprint,
            event_id=held,
            deliveries=0,
            created_at=utcnow(),
        )
    )
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(
            app.test_client().post(
                "/api/events",
                json=TRADE,
                headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": shared},
            )
        )
    )
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the repeat did not wait for the open transaction"
    (transaction.commit if outcome == "commit" else transaction.rollback)()
    holder.close()
    thread.join(timeout=10)

    (answer,) = answers
    assert answer.status_code == 202
    if outcome == "commit":
        assert answer.get_json() == {"id": held, "deliveries": 0}
        assert answer.headers["Idempotent-Replayed"] == "true"
    else:
        assert answer.get_json()["id"] != held
        assert "Idempotent-Replayed" not in answer.headers
    assert events_of(api.user) == 1


def test_the_host_guide_shows_the_key_as_the_api_answers_it(operator, new_tenant_id):
    """docs/host-integration.md, for hosts in any language: its curl example for events sends
    the key, and it names the header a repeat answers with, the code of a different body's
    409 and the 24 hours, as the API has them."""
    guide = (Path(__file__).parents[2] / "docs" / "host-integration.md").read_text()
    section = guide.split("## Acting as a tenant", 1)[1].split("\n## ", 1)[0]
    example = section.split("```sh", 1)[1].split("```", 1)[0]
    assert '"$BASE/api/events"' in example and '-H "Idempotency-Key: ' in example

    tenant = new_tenant_id()
    operator.put_tenant(tenant)
    headers = {"Idempotency-Key": key()}
    first = operator.call("POST", "/api/events", tenant=tenant, json=TRADE, headers=headers)
    repeat = operator.call("POST", "/api/events", tenant=tenant, json=TRADE, headers=headers)
    assert repeat.get_json() == first.get_json()
    (replayed,) = set(repeat.headers.keys()) - set(first.headers.keys())
    assert f"`{replayed}: {repeat.headers[replayed]}`" in section
    other = {**TRADE, "data": {"symbol": "AAPL"}}
    reused = operator.call("POST", "/api/events", tenant=tenant, json=other, headers=headers)
    assert reused.status_code == 409
    assert f"`409` `{error_of(reused)['code']}`" in section
    assert "24 hours" in section
