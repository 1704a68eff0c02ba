"""Times as the JSON API writes them: ISO 8601 with the UTC offset, to the microsecond.

(The envelope a receiver gets has its own, second-precision form: `payload.iso_utc`.)
"""

from __future__ import annotations

from datetime import datetime


def isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
