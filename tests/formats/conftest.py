"""Fake chat services on 127.0.0.1, one real HTTP server per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.formats import fake_services
from tests.support.receiver import Receiver


@dataclass
class Service:
    receiver: Receiver
    url: str


def _serve(answer, path: str) -> Iterator[Service]:
    receiver = Receiver(answer=answer).start()
    yield Service(receiver, f"http://127.0.0.1:{receiver.port}{path}")
    receiver.stop()


@pytest.fixture
def discord_service() -> Iterator[Service]:
    yield from _serve(fake_services.discord, fake_services.PATHS["discord"])


@pytest.fixture
def slack_service() -> Iterator[Service]:
    yield from _serve(fake_services.slack, fake_services.PATHS["slack"])


@pytest.fixture
def telegram_service() -> Iterator[Service]:
    yield from _serve(fake_services.telegram, fake_services.PATHS["telegram"])


@pytest.fixture
def services(discord_service, slack_service, telegram_service) -> dict[str, Service]:
    return {"discord": discord_service, "slack": slack_service, "telegram": telegram_service}
