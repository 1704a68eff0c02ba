"""Reading requests: a JSON object body of the right shape, and typed query parameters.

Only the shape is checked here (400 for a body that is not a JSON object, 422 naming each
unknown field or wrong type). What values mean is the services' business.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from app.api.schemas import Schema
from app.domain.filters import exact_number
from app.domain.timestamps import parse_utc
from app.services.errors import ValidationError

# Objects and lists inside one another, at most (Ruby's JSON parser has the same default). Real
# payloads nest a handful of levels; without a limit of its own the parser's would decide,
# which depends on the stack (about 900 levels here) and reads as "not valid JSON".
MAX_JSON_DEPTH = 100
TOO_DEEP = f"The body nests too deeply: at most {MAX_JSON_DEPTH} levels of objects and lists."

TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "object": "a JSON object",
    "array": "a list",
}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    # 1e400 would become infinity, which cannot be stored or sent as JSON.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def json_object(schema: Schema) -> dict[str, Any]:
    """The request body as a dict that has the schema's fields, of the schema's types."""
    if not request.is_json:
        raise BadRequest("Send a JSON object with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH raises 413 here
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except ValueError:
        raise BadRequest("The body is not valid JSON.") from None
    except RecursionError:  # valid JSON, perhaps, but deeper than the parser goes
        raise BadRequest(TOO_DEEP) from None
    if _depth_over(body, MAX_JSON_DEPTH):
        raise BadRequest(TOO_DEEP)
    try:
        # Lone surrogates ("\ud800") parse but cannot be stored or sent as UTF-8.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except ValueError:
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    problems = shape_problems(body, schema)
    if problems:
        raise ValidationError.from_fields(problems)
    return body


def _depth_over(value: Any, limit: int) -> bool:
    """Whether objects and lists nest more than `limit` levels deep (without recursing)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def optional_json_object(schema: Schema) -> dict[str, Any]:
    """`json_object`, for a body that may be left out: none at all (whatever its Content-Type)
    is `{}`; a body that is there must still be a JSON object of the schema's shape."""
    if not request.get_data(cache=True):  # over MAX_CONTENT_LENGTH raises 413 here
        return {}
    return json_object(schema)


def exact(name: str) -> Any:
    """A field of the body `json_object` read, read again with its fractions as Decimal: for a
    value compared exactly later (a webhook's filter), which a float would change."""
    return json.loads(request.get_data(cache=True), parse_float=exact_number)[name]


def timestamp(body: dict[str, Any], name: str) -> datetime:
    """An ISO 8601 field as a UTC datetime; one without a zone is taken as UTC."""
    try:
        return parse_utc(body[name])
    except ValueError as exc:
        raise ValidationError.from_fields({name: [str(exc)]}) from None


def shape_problems(body: dict[str, Any], schema: Schema) -> dict[str, list[str]]:
    properties: dict[str, Schema] = schema["properties"]
    problems: dict[str, list[str]] = {}
    for name in schema.get("required", []):
        if name not in body:
            problems[name] = ["This field is required."]
    for name, value in body.items():
        if name not in properties:
            problems[name] = ["Unknown field."]
        elif (problem := type_problem(value, properties[name])) is not None:
            problems[name] = [problem]
    return problems


def type_problem(value: Any, schema: Schema) -> str | None:
    expected = schema["type"]
    if isinstance(expected, list):  # [type, "null"]: see schemas.nullable
        if value is None:
            return None
        if not _is(value, expected[0]):
            return f"Must be {TYPE_NAMES[expected[0]]} or null."
        expected = expected[0]
    if not _is(value, expected):
        return f"Must be {TYPE_NAMES[expected]}."
    if expected == "array":
        item_type = schema["items"]["type"]
        if not all(_is(item, item_type) for item in value):
            return f"Must be a list of {TYPE_NAMES[item_type].removeprefix('a ')}s."
    return None


def _is(value: Any, expected: str) -> bool:
    if expected == "integer":  # as JSON Schema has it, 60.0 is an integer too
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    python_type = {"string": str, "boolean": bool, "object": dict, "array": list}[expected]
    return isinstance(value, python_type)


def query_params(spec: dict[str, Schema]) -> dict[str, Any]:
    """Query parameters named in `spec`, converted and bounded; defaults filled in.

    Unknown parameters are ignored, as browsers and proxies add their own.
    """
    values: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, schema in spec.items():
        raw = request.args.get(name)
        if raw is None:
            if "default" in schema:
                values[name] = schema["default"]
            continue
        value, problem = _convert(raw, schema)
        if problem:
            problems[name] = [problem]
        else:
            values[name] = value
    if problems:
        raise ValidationError.from_fields(problems)
    return values


def _convert(raw: str, schema: Schema) -> tuple[Any, str | None]:
    kind = schema["type"]
    if kind == "integer":
        if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
            return None, _bounds_message(schema)
        number = int(raw)
        if not schema.get("minimum", number) <= number <= schema.get("maximum", number):
            return None, _bounds_message(schema)
        return number, None
    if kind == "boolean":
        if raw not in ("true", "false"):
            return None, "Use true or false."
        return raw == "true", None
    if "enum" in schema and raw not in schema["enum"]:
        return None, f"Use one of: {', '.join(schema['enum'])}."
    return raw, None


def _bounds_message(schema: Schema) -> str:
    return f"Use a whole number from {schema.get('minimum', 0)} to {schema.get('maximum')}."
