"""Endpoint secrets encrypted at rest with Fernet under WEBHOOK_ENCRYPTION_KEY.

The variable may list several keys, comma-separated: the first encrypts, every one decrypts.
That is how the key is changed: put the new key first, keep the old one after it, run
`flask webhooks reencrypt-secrets`, then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["InvalidToken", "SecretBox", "parse_keys"]


def parse_keys(value: str) -> list[Fernet]:
    """The Fernet keys of a comma-separated list; raises ValueError on a bad or missing key."""
    keys = [key.strip() for key in value.split(",")]
    if not all(keys):
        raise ValueError("empty key in the list")
    return [Fernet(key) for key in keys]


class SecretBox:
    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet(parse_keys(keys))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def reseal(self, token: str) -> str:
        """The same secret encrypted under the first key; raises InvalidToken if none opens it."""
        return self._fernet.rotate(token.encode()).decode()
