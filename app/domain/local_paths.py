"""Where Signalpost may send a browser after signing it in: a path on this site, never away.

Browsers read `/\\host` and `//host` as another host, and drop tabs and newlines from a URL
before they read it, so `/\\t/host` is `//host` too: any such character refuses the target.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_LENGTH = 2048


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (`/webhooks?x=1`), else None."""
    if not target or len(target) > MAX_LENGTH or not target.startswith("/"):
        return None
    if target[1:2] in ("/", "\\"):
        return None
    # Control characters and every kind of space (C*, Z*), the ones browsers strip among them.
    if any(unicodedata.category(char)[0] in "CZ" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
