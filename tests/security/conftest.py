"""Fixtures for the security tests: a fake resolver, and the address rules switched on.

The test settings allow private targets (every receiver is on 127.0.0.1); tests here switch
that off with monkeypatch, which puts it back even though the app is shared by the session.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from app.domain import addresses
from app.extensions import db
from app.models import Delivery, Event, Webhook
from app.services import events

Answer = list[str] | Callable[[], list[str]]
PUBLIC = "93.184.216.34"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, Answer]:
    """Names this test resolves: a list of addresses, or a callable giving the next answer."""
    answers: dict[str, Answer] = {}

    def resolve(host: str, port: int) -> list[str]:
        answer = answers.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answer() if callable(answer) else answer)

    monkeypatch.setattr(addresses, "resolve", resolve)
    return answers


@pytest.fixture
def strict(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production rules: no private, loopback or otherwise internal targets."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
    yield


@pytest.fixture
def store_delivery(ctx: None) -> Callable[[Webhook], Delivery]:
    """A delivery stored as trigger_event stores it, but not queued: the test attempts it."""

    def store(webhook: Webhook) -> Delivery:
        event_id = events.new_event_id()
        db.session.add(
            Event(id=event_id, user_id=webhook.user_id, event_type="price_above", data={})
        )
        row = Delivery(webhook_id=webhook.id, event_id=event_id)
        db.session.add(row)
        db.session.commit()
        return row

    return store
