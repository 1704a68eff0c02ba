"""The plain-Python rules: signing, retry policy, payload bytes, secret box. No app needed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook as StandardWebhook

from app.domain import payload, signing
from app.domain.catalog import EVENT_VALUES, TEST_EVENT, unknown_event_types
from app.domain.retry import (
    MAX_RETRY_AFTER_SECONDS,
    RetryPolicy,
    is_retryable,
    is_success,
    parse_retry_after,
)
from app.domain.secretbox import SecretBox


def test_secrets_are_whsec_and_32_random_bytes():
    first, second = signing.generate_secret(), signing.generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(signing.secret_key(first)) == 32


def test_rotation_signs_with_both_secrets_and_each_verifies():
    old, new = signing.generate_secret(), signing.generate_secret()
    body = payload.encode({"id": "evt_1", "event": "custom", "timestamp": "x", "data": {}})
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signing.signature_headers([new, old], "evt_1", timestamp, body)

    assert len(headers["X-Webhook-Signature"].split(" ")) == 2
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        StandardWebhook(secret).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        StandardWebhook(signing.generate_secret()).verify(body, headers)


def test_hex_and_base64_signatures_are_the_same_digest():
    secret = signing.generate_secret()
    headers = signing.signature_headers([secret], "evt_2", 1738384200, b"{}")
    hex_digest = headers["X-Webhook-Signature"].removeprefix("sha256=")
    b64_digest = headers["webhook-signature"].removeprefix("v1,")
    assert base64.b64decode(b64_digest).hex() == hex_digest


def test_mask_shows_only_the_last_four_characters():
    secret = signing.generate_secret()
    masked = signing.mask(secret)
    assert masked == f"whsec_••••{secret[-4:]}"
    assert secret[6:-4] not in masked


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (302, False),
    ],
)
def test_which_failures_are_retried(status, retryable):
    assert is_retryable(status) is retryable


def test_any_2xx_is_success():
    assert all(is_success(code) for code in (200, 201, 202, 204, 299))
    assert not any(is_success(code) for code in (None, 199, 300, 302, 400, 500))


def test_policy_waits_the_configured_delays_then_gives_up():
    policy = RetryPolicy((60, 300, 900))
    assert policy.max_attempts == 4
    assert [policy.next_delay(n, 500) for n in (1, 2, 3, 4)] == [60, 300, 900, None]
    assert policy.next_delay(1, 400) is None
    assert policy.next_delay(1, 204) is None


def test_retry_after_lengthens_a_429_wait_but_is_capped():
    policy = RetryPolicy((60, 300, 900))
    assert policy.next_delay(1, 429, retry_after=120) == 120
    assert policy.next_delay(1, 429, retry_after=5) == 60
    assert policy.next_delay(1, 429, retry_after=10**9) == MAX_RETRY_AFTER_SECONDS
    assert policy.next_delay(1, 503, retry_after=120) == 60  # only a 429 is honoured


@freeze_time("2026-02-01 10:30:00")
def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime.now(UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Sun, 01 Feb 2026 10:32:00 GMT", now) == 120
    assert parse_retry_after("Sun, 01 Feb 2026 10:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_body_is_compact_utf8_json_with_exactly_the_contract_keys():
    created = datetime(2026, 2, 1, 10, 30, tzinfo=UTC)
    document = payload.envelope("evt_1", "price_above", created, {"name": "Zürich 🚀"})
    body = payload.encode(document)
    assert (
        body
        == (
            '{"id":"evt_1","event":"price_above","timestamp":"2026-02-01T10:30:00Z",'
            '"data":{"name":"Zürich 🚀"}}'
        ).encode()
    )
    assert json.loads(body) == document


def test_catalog_knows_the_contract_event_types():
    assert {
        "price_above",
        "price_below",
        "portfolio_change",
        "position_added",
        "position_removed",
        "dividend_payment",
        "trade_executed",
        "custom",
    } == EVENT_VALUES
    assert TEST_EVENT not in EVENT_VALUES
    assert unknown_event_types(["custom", "nope", "test"]) == ["nope", "test"]


def test_secret_box_round_trips_and_hides_the_plaintext():
    box = SecretBox(Fernet.generate_key().decode())
    sealed = box.seal("whsec_abc")
    assert "whsec_abc" not in sealed
    assert box.open(sealed) == "whsec_abc"
