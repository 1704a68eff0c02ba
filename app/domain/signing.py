"""Secrets and signatures, as receivers verify them (README.md, "Verifying signatures").

Both signature headers carry HMAC-SHA256(key, "{id}.{timestamp}.{raw body}") over the exact
bytes sent: hex in X-Webhook-Signature, base64 in the Standard Webhooks `webhook-signature`,
so the official Standard Webhooks libraries verify them unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the bytes behind the `whsec_` prefix."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def _digest(secret: str, message_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return hmac.new(secret_key(secret), signed, hashlib.sha256).digest()


def signature_headers(
    secrets_in_force: Sequence[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Signature headers for one attempt; one signature per secret during a rotation."""
    digests = [_digest(secret, message_id, timestamp, body) for secret in secrets_in_force]
    return {
        "X-Webhook-ID": message_id,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": " ".join(f"sha256={digest.hex()}" for digest in digests),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            "v1," + base64.b64encode(digest).decode() for digest in digests
        ),
    }


def verify(secret: str, message_id: str, timestamp: str, body: bytes, signatures: str) -> bool:
    """Whether one of the space-separated `sha256=<hex>` signatures is this secret's."""
    try:
        expected = "sha256=" + _digest(secret, message_id, int(timestamp), body).hex()
    except ValueError:  # not a whsec_ secret, or not a timestamp
        return False
    return any(hmac.compare_digest(expected, given) for given in signatures.split())


def mask(secret: str) -> str:
    """`whsec_••••abcd`: enough to tell two secrets apart, too little to use."""
    return f"{SECRET_PREFIX}••••{secret[-4:]}"
