"""The connection goes only to the address that was checked; redirects are never followed."""

from __future__ import annotations

import datetime
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.domain.status import DeliveryStatus
from app.domain.urls import PRIVATE_HINT
from app.extensions import db
from app.outbound import client
from app.services.delivery import attempt
from tests.security.conftest import PUBLIC
from tests.security.servers import TlsServer
from tests.support.receiver import Receiver, Reply


def test_a_name_that_rebinds_to_loopback_is_never_connected_to(
    strict, fake_dns, make_webhook, store_delivery, receiver, monkeypatch
):
    # Public when the webhook is saved and when the first attempt is checked; loopback after.
    answers = iter([[PUBLIC], [PUBLIC]])
    fake_dns["rebind.example.test"] = lambda: next(answers, ["127.0.0.1"])
    # A client that looked the name up again between check and connect would be told loopback.
    system_getaddrinfo = socket.getaddrinfo

    def rebound(host, *args, **kwargs):
        return system_getaddrinfo(
            "127.0.0.1" if host == "rebind.example.test" else host, *args, **kwargs
        )

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    # The internet, mocked: connections are recorded; the public address refuses. (The
    # session's worker threads and mail go through here too, so only this port is looked at.)
    connected = []
    system_connect = socket.create_connection

    def internet(address, *args, **kwargs):
        connected.append(address)
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused")
        return system_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", internet)
    webhook, _ = make_webhook(f"http://rebind.example.test:{receiver.port}/hook")
    row = store_delivery(webhook)

    first = attempt.attempt_delivery(row.id)
    second = attempt.attempt_delivery(row.id)

    assert (first.status, second.status) == (DeliveryStatus.SCHEDULED, DeliveryStatus.FAILED)
    assert [host for host, port in connected if port == receiver.port] == [PUBLIC]
    assert receiver.requests == []
    db.session.refresh(row)
    assert [attempt.error for attempt in row.attempt_log] == [
        "connection refused",
        "URL refused: rebind.example.test resolves to 127.0.0.1, a loopback address."
        + PRIVATE_HINT,
    ]


def test_the_request_goes_to_the_checked_address_and_names_the_host(
    fake_dns, make_webhook, store_delivery, receiver
):
    # Only the fake resolver knows this name: reaching the receiver proves the pinned address
    # was used, not a second lookup.
    fake_dns["hooks.example.test"] = ["127.0.0.1"]
    webhook, _ = make_webhook(f"http://hooks.example.test:{receiver.port}/hook?source=test")
    row = store_delivery(webhook)

    assert attempt.attempt_delivery(row.id).status == DeliveryStatus.SUCCEEDED
    (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/hook"


def test_a_redirect_to_an_internal_address_is_not_followed(make_webhook, store_delivery, receiver):
    internal = Receiver().start()
    try:
        receiver.default = Reply(302, "", headers={"Location": internal.url})
        webhook, _ = make_webhook(receiver.url)
        row = store_delivery(webhook)

        assert attempt.attempt_delivery(row.id).status == DeliveryStatus.FAILED
        db.session.refresh(row)
        assert row.status_code == 302
        assert row.error == f"HTTP 302: redirect to {internal.url} not followed"
        assert len(receiver.requests) == 1
        assert internal.requests == []
    finally:
        internal.stop()


@pytest.fixture
def certificate(tmp_path) -> tuple[str, bytes]:
    """A self-signed certificate for hooks.example.test: (PEM file with its key, PEM cert)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "hooks.pem"
    path.write_bytes(cert_pem + key_pem)
    return str(path), cert_pem


def test_tls_checks_the_certificate_against_the_name_not_the_address(
    fake_dns, make_webhook, store_delivery, certificate, monkeypatch
):
    chain_file, cert_pem = certificate
    trusting = ssl.create_default_context(cadata=cert_pem.decode())
    monkeypatch.setattr(client, "tls_context", lambda: trusting)
    fake_dns["hooks.example.test"] = ["127.0.0.1"]
    fake_dns["other.example.test"] = ["127.0.0.1"]
    server = TlsServer(chain_file).start()
    try:
        good, _ = make_webhook(f"https://hooks.example.test:{server.port}/hook")
        wrong, _ = make_webhook(f"https://other.example.test:{server.port}/hook")
        good_row, wrong_row = store_delivery(good), store_delivery(wrong)

        assert attempt.attempt_delivery(good_row.id).status == DeliveryStatus.SUCCEEDED
        assert attempt.attempt_delivery(wrong_row.id).status == DeliveryStatus.SCHEDULED

        assert server.server_names[0] == "hooks.example.test"
        assert len(server.requests) == 1, "the certificate for another name stopped the request"
        assert f"Host: hooks.example.test:{server.port}".encode() in server.requests[0]
        db.session.refresh(wrong_row)
        assert wrong_row.error.startswith("TLS certificate rejected")
        assert "other.example.test" in wrong_row.error or "mismatch" in wrong_row.error
    finally:
        server.stop()
