"""Times as the JSON API writes them: ISO 8601 with the UTC offset, to the microsecond.

(The envelope a receiver gets has its own, second-precision form: `payload.iso_utc`.)
"""

from __future__ import annotations

from datetime import UTC, datetime


def isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time as a UTC datetime; one without a zone is taken as UTC.

    ValueError says, in words for the user, what is wrong.
    """
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError("Must be an ISO 8601 date and time, e.g. 2026-02-01T10:30:00Z.") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        # 0001-01-01T00:00:00+23:59 is a valid ISO 8601 time that has no UTC year 1 or 9999.
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("Must be a time between the years 1 and 9999 in UTC.") from None
