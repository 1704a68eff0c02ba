"""A webhook's filter: a MongoDB-style condition on the event envelope (`event`, `data.*`).

A field path maps to a literal (equality) or to an object of operators; an object without
operators nests the path (`{"data": {"symbol": "AAPL"}}` is `{"data.symbol": "AAPL"}`).
Numbers and numeric strings compare as exact decimals: a JSON float is taken at the digits
it is written with in the delivered body (its shortest repr), so no float ever decides.
Evaluating never raises: a missing field or a value of another type simply does not match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

# Bounds against abuse: a filter is parsed and checked for every event its webhook gets.
MAX_FILTER_BYTES = 65536
MAX_DEPTH = 12
MAX_NODES = 10000
ROOTS = ("event", "data")

COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
FIELD_OPERATORS = ("$eq", "$ne", "$in", "$nin", *COMPARISONS, "$exists", "$not")
COMBINATORS = ("$and", "$or", "$not")

Condition = Callable[[Mapping[str, Any]], bool]
# What a path finds when the envelope has nothing there.
MISSING: Any = object()
# JSON's number grammar, with an optional sign: what a string must look like to be a number.
# The exponent is bounded: Decimal cannot hold 1e999999999999999999999.
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,6})?")
_NUMERIC_MAX_LENGTH = 100


class FilterError(ValueError):
    """A filter that cannot be used; the message says what is wrong and where."""


def decimal_of(value: Any) -> Decimal | None:
    """The exact decimal a number or numeric string stands for; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and len(value) <= _NUMERIC_MAX_LENGTH and _NUMERIC.fullmatch(value):
        return Decimal(value)
    return None


def _equal(left: Any, right: Any) -> bool:
    left_number, right_number = decimal_of(left), decimal_of(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    return type(left) is type(right) and left == right


def _order(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 when the two compare (both numeric, or both text); None when they do not.

    A number and a word do not compare: "n/a" is not above "180", whatever the alphabet says.
    """
    left_number, right_number = decimal_of(left), decimal_of(right)
    if left_number is not None and right_number is not None:
        return (left_number > right_number) - (left_number < right_number)
    if left_number is not None or right_number is not None:
        return None
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    return None


_ORDERS: dict[str, Callable[[int], bool]] = {
    "$gt": lambda order: order > 0,
    "$gte": lambda order: order >= 0,
    "$lt": lambda order: order < 0,
    "$lte": lambda order: order <= 0,
}


def lookup(envelope: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a dotted path; a digit segment indexes a list. MISSING when absent."""
    value: Any = envelope
    for segment in path:
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return MISSING
    return value


class _Compiler:
    """Checks a filter once and turns it into nested closures, counting nodes as it goes."""

    def __init__(self) -> None:
        self.nodes = 0

    def count(self, where: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FilterError(f"The filter is too large: at most {MAX_NODES} values.")
        if depth > MAX_DEPTH:
            raise FilterError(f"{where}: the filter nests too deep (at most {MAX_DEPTH} levels).")

    def literal(self, value: Any, where: str, depth: int) -> Any:
        self.count(where, depth)
        if isinstance(value, dict):
            for key, item in value.items():
                self.literal(item, f"{where}.{key}", depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.literal(item, f"{where}[{index}]", depth + 1)
        elif isinstance(value, float) and decimal_of(value) is None:
            raise FilterError(f"{where}: {value} is not a number JSON can hold.")
        return value

    def condition(self, spec: Any, prefix: tuple[str, ...], where: str, depth: int) -> Condition:
        """An object of paths and combinators, all of which must hold."""
        self.count(where, depth)
        if not isinstance(spec, dict):
            raise FilterError(f"{where}: expected a JSON object of fields and conditions.")
        parts = [self.entry(key, value, prefix, where, depth) for key, value in spec.items()]
        return _all(parts)

    def entry(
        self, key: Any, value: Any, prefix: tuple[str, ...], where: str, depth: int
    ) -> Condition:
        if key.startswith("$"):
            if key not in COMBINATORS:
                raise FilterError(_unknown(key, where, COMBINATORS, "here"))
            return self.combine(key, value, prefix, _at(where, key), depth + 1)
        segments = tuple(key.split("."))
        if not all(segments):
            raise FilterError(f"{_at(where, key)}: a field path has an empty part.")
        path = prefix + segments
        if path[0] not in ROOTS:
            raise FilterError(
                f"{_at(where, key)}: a filter looks at `event` or `data.…`, not {path[0]!r}."
            )
        here = _at(where, key)
        if isinstance(value, dict) and value and not any(k.startswith("$") for k in value):
            return self.condition(value, path, here, depth + 1)
        if isinstance(value, dict) and not all(k.startswith("$") for k in value):
            raise FilterError(f"{here}: an object holds either operators or fields, not both.")
        return self.field(path, value, here, depth + 1)

    def combine(
        self, operator: str, value: Any, prefix: tuple[str, ...], where: str, depth: int
    ) -> Condition:
        if operator == "$not":
            inner = self.condition(value, prefix, where, depth)
            return lambda envelope: not inner(envelope)
        if not isinstance(value, list) or not value:
            raise FilterError(f"{where}: {operator} takes a non-empty list of conditions.")
        self.count(where, depth)
        parts = [
            self.condition(item, prefix, f"{where}[{index}]", depth + 1)
            for index, item in enumerate(value)
        ]
        if operator == "$and":
            return _all(parts)
        return lambda envelope: any(part(envelope) for part in parts)

    def field(self, path: tuple[str, ...], spec: Any, where: str, depth: int) -> Condition:
        """A literal (equality) or an object of operators on one field, all of which must hold."""
        test = self.test(spec, where, depth)
        return lambda envelope: test(lookup(envelope, path))

    def test(self, spec: Any, where: str, depth: int) -> Callable[[Any], bool]:
        if not (isinstance(spec, dict) and spec and any(k.startswith("$") for k in spec)):
            expected = self.literal(spec, where, depth)
            return lambda value: value is not MISSING and _equal(value, expected)
        self.count(where, depth)
        tests = []
        for operator, operand in spec.items():
            if operator not in FIELD_OPERATORS:
                raise FilterError(_unknown(operator, where, FIELD_OPERATORS, "on a field"))
            tests.append(self.operator(operator, operand, _at(where, operator), depth + 1))
        return lambda value: all(test(value) for test in tests)

    def operator(
        self, operator: str, operand: Any, where: str, depth: int
    ) -> Callable[[Any], bool]:
        if operator == "$not":
            inner = self.test(operand, where, depth)
            return lambda value: not inner(value)
        if operator == "$exists":
            self.count(where, depth)
            if not isinstance(operand, bool):
                raise FilterError(f"{where}: $exists takes true or false.")
            return lambda value: (value is not MISSING) is operand
        if operator in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise FilterError(f"{where}: {operator} takes a list of values.")
            member = _membership(self.literal(operand, where, depth))
            if operator == "$in":
                return lambda value: value is not MISSING and member(value)
            return lambda value: value is MISSING or not member(value)
        expected = self.literal(operand, where, depth)
        if operator == "$eq":
            return lambda value: value is not MISSING and _equal(value, expected)
        if operator == "$ne":
            return lambda value: value is MISSING or not _equal(value, expected)
        if decimal_of(expected) is None and not isinstance(expected, str):
            raise FilterError(f"{where}: {operator} compares with a number or a string.")
        holds = _ORDERS[operator]

        def compare(value: Any) -> bool:
            order = _order(value, expected)
            return order is not None and holds(order)

        return compare


def _membership(options: list[Any]) -> Callable[[Any], bool]:
    """Whether a value equals one of the options: a set lookup for numbers and plain strings,
    so `$in` with thousands of symbols costs the same as with two."""
    numbers: set[Decimal] = set()
    texts: set[str] = set()
    others: list[Any] = []
    for option in options:
        number = decimal_of(option)
        if number is not None:
            numbers.add(number)
        elif isinstance(option, str):
            texts.add(option)
        else:
            others.append(option)

    def member(value: Any) -> bool:
        number = decimal_of(value)
        if number is not None:
            return number in numbers
        if isinstance(value, str):
            return value in texts
        return any(_equal(value, option) for option in others)

    return member


def _all(parts: list[Condition]) -> Condition:
    if len(parts) == 1:
        return parts[0]
    return lambda envelope: all(part(envelope) for part in parts)


def _at(where: str, key: str) -> str:
    return key if where == "filter" else f"{where}.{key}"


def _unknown(operator: str, where: str, known: tuple[str, ...], place: str) -> str:
    return f"{where}: unknown operator {operator}; use {', '.join(known)} {place}."


def parse(text: str) -> Any:
    """A filter's JSON text, with every number exact (fractions as Decimal)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILTER_BYTES:
        raise FilterError(f"The filter is too large: at most {MAX_FILTER_BYTES} bytes of JSON.")
    try:
        return json.loads(text, parse_float=exact_number, parse_constant=_refuse)
    except RecursionError:
        raise FilterError(f"The filter nests too deep (at most {MAX_DEPTH} levels).") from None
    except ValueError as exc:
        raise FilterError(f"The filter is not valid JSON: {exc}.") from None


def exact_number(text: str) -> Decimal:
    """A JSON number with a fraction or an exponent, as the exact decimal it is written as."""
    if not _NUMERIC.fullmatch(text) or len(text) > _NUMERIC_MAX_LENGTH:
        raise ValueError(f"the number {text[:20]}… is out of range")
    return Decimal(text)


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def compile_filter(spec: Any) -> Condition:
    """Check a parsed filter (an object) and make it a condition; FilterError says what is wrong."""
    if not isinstance(spec, dict):
        raise FilterError("A filter is a JSON object (or null for none).")
    return _Compiler().condition(spec, (), "filter", 1)


def dumps(spec: Any) -> str:
    """The filter as compact JSON text, its numbers written with the digits they were given."""
    if isinstance(spec, dict):
        items = (f"{dumps(key)}:{dumps(item)}" for key, item in spec.items())
        return "{" + ",".join(items) + "}"
    if isinstance(spec, list):
        return "[" + ",".join(dumps(item) for item in spec) + "]"
    if isinstance(spec, Decimal):
        return str(spec)
    return json.dumps(spec, ensure_ascii=False)


@lru_cache(maxsize=4096)
def compiled(text: str) -> Condition:
    """A stored filter as a condition, compiled once per worker for as long as it is in use."""
    return compile_filter(parse(text))


def matches(condition: Condition, event_type: str, data: Mapping[str, Any]) -> bool:
    """Whether an event passes a webhook's filter."""
    return condition({"event": event_type, "data": data})
