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
from functools import lru_cache


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


PERIODS = {"second": 1, "minute": 60, "hour": 3600}
MAX_COUNT = 100000
# Where the chat services' own budgets start a webhook of that format that states no limit
# (docs/integrations.md): Discord allows 30 messages a minute to a channel (and 5 per 2
# seconds to one webhook), Slack about one a second, Telegram about 20 a minute to a group.
FORMAT_DEFAULTS = {"discord": "30/minute", "slack": "1/second", "telegram": "20/minute"}


@lru_cache(maxsize=256)  # every claim asks, for a few distinct texts
def parse_rate_limit(text: str) -> RateLimit:
    """`"N/second|minute|hour"` as a RateLimit; ValueError saying what is wrong otherwise."""
    count, slash, unit = text.partition("/")
    if not slash or unit not in PERIODS or not (count.isascii() and count.isdigit()):
        raise ValueError('Write it as "N/second", "N/minute" or "N/hour", e.g. "30/minute".')
    if len(count) > len(str(MAX_COUNT)) or not 1 <= int(count) <= MAX_COUNT:
        raise ValueError(f"Use a number from 1 to {MAX_COUNT} before the slash.")
    return RateLimit(int(count), PERIODS[unit])


def describe(limit: RateLimit) -> str:
    """A limit as it is written: `30/minute` (or `N per S s` for a period without a name)."""
    unit = {seconds: name for name, seconds in {**PERIODS, "day": 86400}.items()}.get(limit.period)
    return f"{limit.count}/{unit}" if unit else f"{limit.count} per {limit.period} s"


def limit_for(own: str | None, format_name: str, default: RateLimit) -> RateLimit:
    """A webhook's rate: its own, else its chat service's budget, else the `json` default."""
    if own is not None:
        return parse_rate_limit(own)
    budget = FORMAT_DEFAULTS.get(format_name)
    return parse_rate_limit(budget) if budget else default
