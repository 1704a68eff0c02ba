"""The `<id:...>` URL converter, for every route of the pages and the API alike."""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

# Ids are INTEGER columns: a larger number cannot name a row, and PostgreSQL refuses to compare it.
ID_MAX = 2**31 - 1
# More digits than ID_MAX has is out of range, and is never handed to int(): Python refuses
# to convert strings of more than 4300 digits.
_ID_DIGITS = len(str(ID_MAX))


def parse_id(text: str) -> int | None:
    """The row id `text` names (1 to ID_MAX, ASCII digits), or None."""
    if not text.isascii() or not text.isdigit() or len(text) > _ID_DIGITS:
        return None
    number = int(text)
    return number if 1 <= number <= ID_MAX else None


class IdConverter(BaseConverter):
    """`<id:name>`: a row id, 1 to ID_MAX.

    An id out of range is refused here with 404 rather than by not matching: werkzeug would
    otherwise answer 405 when another method's rule has the same path.
    """

    regex = r"\d+"
    weight = 50

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise NotFound(f"No object has id {value[:20]}{'…' if len(value) > 20 else ''}.")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
