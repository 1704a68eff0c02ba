"""The per-endpoint delivery rate: at most `count` attempts in each fixed window of `period` s.

Windows are aligned to the epoch, so every worker, whatever its process or machine, agrees on
which window an attempt falls in and counts it in the same shared place.

An endpoint is one owner's URL, not one webhook: webhooks of one owner pointed at the same
(normalised) URL share one budget, or fifteen webhooks would send fifteen times the limit.
Owners are apart, so one tenant cannot use up another's budget for a shared service URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """Where attempts are counted: an owner's URL, as stored (already normalised)."""

    owner_id: int
    url: str

    @property
    def url_sha256(self) -> str:
        """The URL named with a fixed length, for the database's key and Redis's."""
        return hashlib.sha256(self.url.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RateLimit:
    count: int
    period: int  # seconds

    def window(self, now: float) -> int:
        """The start of the window `now` falls in, in seconds since the epoch."""
        return int(now // self.period) * self.period
