"""URL converters of the API."""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

# Ids are INTEGER columns: a larger number cannot name a row, and PostgreSQL refuses to compare it.
ID_MAX = 2**31 - 1


class IdConverter(BaseConverter):
    """`<id:name>`: a row id, 1 to ID_MAX.

    An id out of range is refused here with 404 rather than by not matching: werkzeug would
    otherwise answer 405 when another method's rule has the same path.
    """

    regex = r"\d+"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= ID_MAX:
            raise NotFound(f"No object has id {value}.")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
