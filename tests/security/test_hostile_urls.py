"""Hostile endpoint URLs are refused when a webhook is saved, and again before every attempt."""

from __future__ import annotations

import pytest

from app.domain.status import DeliveryStatus
from app.domain.urls import url_problem
from app.extensions import db
from app.services import webhooks
from app.services.delivery import attempt, test_send
from app.services.errors import ValidationError
from tests.security.conftest import PUBLIC

# Names the fake resolver answers for.
NAMES = {
    "hooks.example.test": [PUBLIC],
    "internal.example.test": ["10.0.0.5"],
    "metadata.example.test": ["169.254.169.254"],
    "mixed.example.test": [PUBLIC, "127.0.0.1"],
    "ula.example.test": [PUBLIC, "fd12:3456::1"],
    "mapped.example.test": ["::ffff:192.168.0.1"],
    "cgnat.example.test": ["100.100.1.1"],
    "siit.example.test": ["::ffff:0:808:808"],
}
# Four labels of 63 characters: every label valid, the name 255 characters long.
LONG_NAME = ".".join(["a" * 63] * 4)

# (URL, words the refusal must contain)
HOSTILE = [
    ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("http://127.1/hook", "127.1 means 127.0.0.1, a loopback address"),
    ("http://2130706433/hook", "means 127.0.0.1, a loopback"),
    ("http://0177.0.0.1/hook", "means 127.0.0.1, a loopback"),
    ("http://0x7f.0.0.1/hook", "means 127.0.0.1, a loopback"),
    ("http://0x7f000001/hook", "means 127.0.0.1, a loopback"),
    ("http://017700000001/hook", "means 127.0.0.1, a loopback"),
    ("http://0xa9.0xfe.0xa9.0xfe/", "means 169.254.169.254, the cloud metadata address"),
    ("http://127.0.0.1./hook", "means 127.0.0.1, a loopback"),
    ("http://0/hook", "means 0.0.0.0, an unspecified"),
    ("http://0.0.0.0:8080/hook", "an unspecified address"),
    ("http://localhost/hook", "localhost is this machine"),
    ("http://localhost./hook", "localhost is this machine"),
    ("http://LocalHost.:8000/hook", "localhost is this machine"),
    ("http://admin.localhost/hook", "admin.localhost is this machine"),
    ("http://[::1]/hook", "::1 is a loopback address"),
    ("http://[::]/hook", "an unspecified address"),
    ("http://[fd00::1]/hook", "a private (unique local) address"),
    ("http://[fe80::1]/hook", "a link-local address"),
    ("http://[fe80::1%25eth0]/hook", "zone"),
    ("http://[::ffff:127.0.0.1]/hook", "an IPv6 form of 127.0.0.1, a loopback"),
    ("http://[::ffff:a9fe:a9fe]/hook", "an IPv6 form of 169.254.169.254, the cloud metadata"),
    ("http://[::127.0.0.1]/hook", "an IPv6 form of 127.0.0.1"),
    ("http://[64:ff9b::7f00:1]/hook", "an IPv6 form of 127.0.0.1, a loopback"),
    ("http://[64:ff9b::a00:5]/hook", "an IPv6 form of 10.0.0.5, a private"),
    ("http://[2002:7f00:1::1]/hook", "an IPv6 form of 127.0.0.1, a loopback"),
    ("http://[2002:c0a8:101::1]/hook", "an IPv6 form of 192.168.1.1, a private"),
    ("http://[2001:0:4136:e378::1]/hook", "a Teredo tunnel address"),
    ("http://[ff02::1]/hook", "a multicast address"),
    ("http://[2001:db8::1]/hook", "a documentation address"),
    ("http://[fec0::1]/hook", "a site-local address"),
    ("https://[::ffff:0:7f00:1]/", "an IPv4-translated (SIIT) address"),
    ("http://[::ffff:0:808:808]/hook", "an IPv4-translated (SIIT) address"),
    ("http://siit.example.test/hook", "resolves to ::ffff:0:808:808, an IPv4-translated"),
    (f"http://{LONG_NAME}/hook", "longer than 253 characters"),
    ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
    ("http://172.16.3.4/hook", "a private address"),
    ("http://192.168.1.1/hook", "a private address"),
    ("http://169.254.169.254/latest/meta-data/", "the cloud metadata address"),
    ("http://169.254.1.1/hook", "a link-local address"),
    ("http://100.64.0.1/hook", "carrier-grade NAT"),
    ("http://224.0.0.1/hook", "a multicast address"),
    ("http://239.255.255.250:1900/hook", "a multicast address"),
    ("http://255.255.255.255/hook", "the broadcast address"),
    ("http://240.0.0.1/hook", "a reserved address"),
    ("http://192.0.2.10/hook", "a documentation address"),
    ("http://198.51.100.7/hook", "a documentation address"),
    ("http://203.0.113.9/hook", "a documentation address"),
    ("http://198.18.0.1/hook", "a benchmarking address"),
    ("http://1.2.3.4.5/hook", "not a valid IP address"),
    ("http://internal.example.test/hook", "resolves to 10.0.0.5, a private address"),
    ("http://metadata.example.test/hook", "resolves to 169.254.169.254, the cloud metadata"),
    ("http://mixed.example.test/hook", "resolves to 127.0.0.1, a loopback address"),
    ("http://ula.example.test/hook", "resolves to fd12:3456::1, a private"),
    ("http://mapped.example.test/", "an IPv6 form of 192.168.0.1, a private"),
    ("http://cgnat.example.test/hook", "resolves to 100.100.1.1, a carrier-grade NAT"),
    ("http://user:password@hooks.example.test/hook", "user name or password"),
    ("http://token@hooks.example.test/hook", "user name or password"),
    ("ftp://hooks.example.test/hook", "must start with https://"),
    ("file:///etc/passwd", "must start with https://"),
    ("gopher://hooks.example.test:70/_GET", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("http://hooks.example.test:0/hook", "port"),
]


@pytest.fixture
def names(fake_dns):
    fake_dns.update(NAMES)
    return fake_dns


def test_there_are_at_least_forty():
    assert len({url for url, _ in HOSTILE}) == len(HOSTILE) >= 40


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_refused_at_create(strict, names, make_user, url, why):
    with pytest.raises(ValidationError) as refused:
        webhooks.register_webhook(
            make_user(), webhooks.WebhookInput(name="x", url=url, events=["price_above"])
        )
    assert list(refused.value.fields) == ["url"]
    assert why in refused.value.fields["url"][0]


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_refused_at_edit(strict, names, make_webhook, url, why):
    webhook, _ = make_webhook("http://hooks.example.test/hook")
    with pytest.raises(ValidationError) as refused:
        webhooks.update_webhook(webhook, webhooks.WebhookInput(url=url))
    assert why in refused.value.fields["url"][0]


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_refused_at_delivery(strict, names, make_webhook, store_delivery, url, why):
    # Saved while the rules allowed it (or before they existed): delivery checks again.
    webhook, _ = make_webhook("http://hooks.example.test/hook")
    webhook.url = url
    row = store_delivery(webhook)

    outcome = attempt.attempt_delivery(row.id)

    assert outcome.status == DeliveryStatus.FAILED and outcome.retry_in is None
    db.session.refresh(row)
    assert row.attempts == 1 and row.status_code is None
    assert row.error.startswith("URL refused: ") and why in row.error
    assert row.attempt_log[0].request_headers is None, "nothing was sent"


def test_a_public_name_and_address_are_accepted(strict, names):
    for url in (
        "https://hooks.example.test/hook",
        "http://93.184.216.34:8080/x",
        "http://[2606:4700::1111]/",
    ):
        assert url_problem(url, require_https=False, allow_private=False) is None


def test_https_is_required_unless_turned_off(names):
    problem = url_problem("http://hooks.example.test/", require_https=True, allow_private=False)
    assert problem == (
        "The URL must use https://. For local testing, WEBHOOK_REQUIRE_HTTPS=false allows http://."
    )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hook", "http://localhost/", "http://internal.example.test/"]
)
def test_a_refusal_of_a_local_address_says_how_to_allow_it_for_local_testing(names, url):
    problem = url_problem(url, require_https=False, allow_private=False)
    assert problem.endswith("only when WEBHOOK_ALLOW_PRIVATE_TARGETS=true (for local testing).")


def test_allow_private_targets_lifts_the_address_rules_only(names):
    allowed = ["http://10.0.0.5/", "http://internal.example.test/", "http://localhost:8000/"]
    for url in allowed:
        assert url_problem(url, require_https=False, allow_private=True) is None
    # The rest still holds: credentials, schemes and numeric tricks.
    for url in ("http://u:p@10.0.0.5/", "file:///etc/passwd", "http://0x7f.1/"):
        assert url_problem(url, require_https=False, allow_private=True)


def test_a_name_that_does_not_resolve_yet_is_accepted_and_retried_at_delivery(
    strict, names, make_webhook, store_delivery
):
    webhook, _ = make_webhook("http://later.example.test/hook")
    row = store_delivery(webhook)

    outcome = attempt.attempt_delivery(row.id)

    assert outcome.status == DeliveryStatus.SCHEDULED
    db.session.refresh(row)
    assert row.error == "The host name later.example.test does not resolve."


def test_a_test_send_to_a_refused_or_unknown_address_says_why(strict, names, make_webhook):
    webhook, _ = make_webhook("http://hooks.example.test/hook")
    webhook.url = "http://internal.example.test/hook"

    refused = test_send.test_webhook(webhook)

    assert refused["success"] is False and refused["status_code"] is None
    assert refused["error"] == (
        "URL refused: internal.example.test resolves to 10.0.0.5, a private address. Signalpost"
        " sends to such addresses only when WEBHOOK_ALLOW_PRIVATE_TARGETS=true (for local testing)."
    )
    webhook.url = "http://unknown.example.test/hook"
    unknown = test_send.test_webhook(webhook)
    assert unknown["error"] == "The host name unknown.example.test does not resolve."
