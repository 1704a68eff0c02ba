"""URL converters of the API."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Ids are INTEGER columns: a larger number cannot name a row, and PostgreSQL refuses to compare it.
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id, 1 to ID_MAX; anything else is no route at all (404)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)
