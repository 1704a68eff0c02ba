"""The per-endpoint delivery rate: at most `count` attempts in each fixed window of `period` s.

Windows are aligned to the epoch, so every worker, whatever its process or machine, agrees on
which window an attempt falls in and counts it in the same shared place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    count: int
    period: int  # seconds

    def window(self, now: float) -> int:
        """The start of the window `now` falls in, in seconds since the epoch."""
        return int(now // self.period) * self.period
