"""JSON Schemas of the API: request bodies are checked against these, and the OpenAPI
description is built from these same dicts, so the two cannot drift apart.

Request schemas state the JSON *shape* (fields, types, required); what a value means (a valid
URL, a known event type, a name's length) is checked by the services, the same code the HTML
form uses. Response schemas forbid unknown properties so a change to a service's output fails
the schema tests until it is described here.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from typing import Any

from app.converters import ID_MAX
from app.domain import filters
from app.domain.catalog import EVENT_VALUES, TEST_EVENT
from app.domain.delivery_rate import FORMAT_DEFAULTS, PERIODS
from app.domain.formats import FORMATS
from app.domain.status import DeliveryStatus
from app.domain.urls import MAX_HOST_NAME_LENGTH, MAX_URL_LENGTH
from app.services.events import MAX_EXPIRES_IN
from app.services.webhooks import (
    NAME_MAX_LENGTH,
    NAME_REFUSED_CATEGORIES,
    ROTATION_OVERLAP,
    ROTATION_OVERLAP_MAX,
)

# What `urls.url_problem` refuses as "not printable", less surrogates (no character to a JSON
# Schema validator) and unassigned code points (Cn, which differ between Unicode versions).
URL_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co"})

Schema = dict[str, Any]

EVENT_TYPE_VALUES = sorted(EVENT_VALUES)
LOG_LIMIT_MAX = 100
LOG_LIMIT_DEFAULT = 50


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def strict_object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX}


def _escaped(code: int) -> str:
    # \uXXXX reads the same in ECMA-262 and Python; characters past it are written as such.
    return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)


def _character_class(ranges: list[tuple[int, int]]) -> str:
    """The body of a regex character class holding these ranges of code points."""
    return "".join(
        _escaped(first) + (f"-{_escaped(last)}" if last > first else "") for first, last in ranges
    )


def _ranges(belongs: Callable[[str], bool]) -> list[tuple[int, int]]:
    """The runs of code points whose characters `belongs` is true of."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if not belongs(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def _name_pattern() -> str:
    """Exactly what `services.webhooks.validate` accepts as a name: once the whitespace around
    it is trimmed, 1 to NAME_MAX_LENGTH characters, none of NAME_REFUSED_CATEGORIES."""
    space = _character_class(_ranges(str.isspace))
    # Surrogates are no characters to a JSON Schema validator (nor can a body carry one alone:
    # app/api/parsing refuses it), so the class leaves them out.
    refused = _character_class(
        _ranges(lambda char: unicodedata.category(char) in NAME_REFUSED_CATEGORIES - {"Cs"})
    )
    inner = f"[^{space}{refused}]"
    most = NAME_MAX_LENGTH - 2
    return f"^[{space}]*{inner}(?:[^{refused}]{{0,{most}}}{inner})?[{space}]*$"


def _url_pattern() -> str:
    """The URL's form as `app/domain/urls` checks it: http or https, a host, then anything but
    the characters it refuses (whitespace, control, format, line-separator and private-use
    characters; unassigned code points too, which change with Unicode versions and are said
    in words instead)."""
    refused = _character_class(
        _ranges(lambda char: char.isspace() or unicodedata.category(char) in URL_REFUSED_CATEGORIES)
    )
    return f"^[Hh][Tt][Tt][Pp][Ss]?://[^{refused}/?#]+(?:[/?#][^{refused}]*)?$"


# --- request bodies -------------------------------------------------------------------------

WEBHOOK_FIELDS: dict[str, Schema] = {
    "name": {
        "type": "string",
        "minLength": 1,
        "pattern": _name_pattern(),
        "description": f"1 to {NAME_MAX_LENGTH} characters once surrounding whitespace is "
        "trimmed (it is); no control, format or line-separator characters.",
    },
    "url": {
        "type": "string",
        "format": "uri",
        "minLength": len("http://x"),
        "maxLength": MAX_URL_LENGTH,
        "pattern": _url_pattern(),
        "description": f"The endpoint, at most {MAX_URL_LENGTH} characters: https:// (http:// "
        "only where the server allows it, WEBHOOK_REQUIRE_HTTPS=false), then a host and an "
        "optional port from 1 to 65535. No user name or password; no whitespace, control, "
        "format, line-separator, private-use or unassigned characters anywhere. The host is a "
        f"name of at most {MAX_HOST_NAME_LENGTH} characters (a trailing dot aside) whose "
        "labels, once IDNA-encoded, are 1 to 63 letters, digits, `-` or `_` and neither start "
        "nor end with `-`; or an IPv4 address in the plain dotted form 1.2.3.4 (a host whose "
        "last label is a number is read as an address, and 2130706433, 0x7f.1, 0177.0.0.1 or "
        "127.1 are refused); or an IPv6 address in brackets, [2606:4700::1], without a `%zone`. "
        "Unless the server allows private targets (WEBHOOK_ALLOW_PRIVATE_TARGETS=true), a host "
        "that is `localhost` or `*.localhost`, or an address that is or a name that resolves "
        "to a loopback, private, link-local, carrier-grade NAT, multicast, broadcast, "
        "reserved, unspecified, benchmarking, documentation or otherwise non-public address "
        "(IPv6 forms carrying an IPv4 address are judged by it) is refused (422). Stored in "
        "RFC 3986's normal form: lower-case scheme and host, an IDNA host without a trailing "
        "dot, no default port, the path and query percent-encoded as UTF-8 with escapes in "
        "upper case and unreserved characters unescaped, no `.` or `..` segments, `/` for an "
        "empty path, no fragment.",
    },
    "events": {
        "type": "array",
        "items": {"type": "string", "enum": EVENT_TYPE_VALUES},
        "minItems": 1,
        "description": "Event types to deliver; see GET /api/webhooks/events.",
    },
    "format": {
        "type": "string",
        "enum": list(FORMATS),
        "description": "How the body is rendered; `json` (the default) is the signed envelope.",
    },
    "is_active": {"type": "boolean", "description": "Enabling also clears past failures."},
    "filter": {
        "type": ["object", "null"],
        "description": "null (every event), or a condition on the envelope's `event` and "
        "`data.*` that an event must pass to be delivered here: a field path (dotted, or as "
        "nested objects) maps to a literal (equality) or to operators "
        f"{', '.join(filters.FIELD_OPERATORS)}; {', '.join(filters.COMBINATORS)} combine "
        "conditions. Numbers and numeric strings compare as exact decimals. Example: "
        '`{"data.symbol": {"$in": ["AAPL", "TSLA"]}, "data.side": "buy"}`. At most '
        f"{filters.MAX_FILTER_BYTES} bytes, {filters.MAX_DEPTH} levels and "
        f"{filters.MAX_NODES} values; `{{}}` is null. An event that does not pass creates no "
        "delivery here and is not counted in POST /api/events' `deliveries`.",
    },
    "rate_limit": {
        "type": ["string", "null"],
        # 1 to 100000 (MAX_COUNT) per period, as app/domain/delivery_rate.py reads it.
        "pattern": f"^([1-9][0-9]{{0,4}}|100000)/({'|'.join(PERIODS)})$",
        "description": "At most this many deliveries in each second, minute or hour, e.g. "
        "`30/minute`; the excess waits for a later window, never dropped. null: the default "
        "for the format: "
        + ", ".join(f"{name} `{limit}`" for name, limit in FORMAT_DEFAULTS.items())
        + ", json WEBHOOK_RATE_LIMIT (default `10/minute`).",
    },
    "ordered": {
        "type": "boolean",
        "description": "true: one delivery at a time, in the order the events were fired; a "
        "delivery waiting for a retry holds back the ones after it (`waiting_behind` in the "
        "log). A slow endpoint then gets one request at a time. Default false.",
    },
}

# POST and PUT: name, url and events must be given; format and is_active are optional (on PUT,
# left as they are when omitted, so a PUT never re-enables a webhook by accident).
WEBHOOK_FULL = strict_object(WEBHOOK_FIELDS, required=["name", "url", "events"])
WEBHOOK_PATCH = strict_object(WEBHOOK_FIELDS, required=[])

EVENT_INPUT = strict_object(
    {
        "event": {"type": "string", "enum": EVENT_TYPE_VALUES},
        "data": {
            "type": "object",
            "description": "Any JSON object; at most WEBHOOK_MAX_PAYLOAD_BYTES (default 262144) "
            "as compact UTF-8 JSON.",
        },
        "expires_in": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_EXPIRES_IN,
            "description": "Seconds the event is worth delivering; a delivery not sent by then "
            "ends `expired`, never sent late and not a failure. Default: WEBHOOK_EVENT_TTL for "
            "the type (price alerts 900), else never.",
        },
    },
    required=["event", "data"],
)

REPLAY_INPUT = strict_object(
    {
        "since": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601; UTC if no zone; in UTC, within the years 1 to 9999.",
        },
        "until": {
            "type": "string",
            "format": "date-time",
            "description": "Default: now. Must be later than `since` (equal is a 422 too: the "
            "range is `since` inclusive to `until` exclusive).",
        },
        "failed_only": {"type": "boolean", "description": "Only events whose delivery failed."},
        "missed": {
            "type": "boolean",
            "description": "Also the owner's events of the webhook's types, fired in the range "
            "after it was created, that never reached it (fired while it was disabled, or "
            "skipped because it was). With `failed_only`: everything that did not arrive.",
        },
    },
    required=["since"],
)

TENANT_INPUT = strict_object(
    {
        "email": {
            "type": "string",
            "description": "The tenant's address, as for any user (stored lower-case). One "
            "already used by another user is a 409.",
        },
        "name": {
            "type": "string",
            "description": f"At most {NAME_MAX_LENGTH} characters; left as it is when omitted, "
            'cleared by "".',
        },
    },
    required=["email"],
)
SIGN_IN_LINK_INPUT = strict_object(
    {
        "return_to": {
            "type": "string",
            "description": "Where the link lands, a path on Signalpost such as /webhooks; "
            "anything else (another site, //host) lands on the webhook list.",
        }
    },
    required=[],
)


ROTATE_INPUT = strict_object(
    {
        "overlap_seconds": {
            "type": "integer",
            "minimum": 0,
            "maximum": int(ROTATION_OVERLAP_MAX.total_seconds()),
            "default": int(ROTATION_OVERLAP.total_seconds()),
            "description": "How long the old secret keeps signing beside the new one: 0 stops "
            "it at once; at most 7 days. The body is optional.",
        }
    },
    required=[],
)

# --- path parameters ------------------------------------------------------------------------

EXTERNAL_ID: Schema = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9._:-]{1,64}$",
    "description": "The host application's id for its user; anything else is a 422.",
}

# --- query parameters -----------------------------------------------------------------------

LOG_QUERY: dict[str, Schema] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": LOG_LIMIT_MAX, "default": 50},
    "before": {**ID, "description": "The `next` value of the previous page."},
    "success": {"type": "boolean", "description": "Only deliveries that succeeded, or failed."},
    "event_type": {"type": "string", "enum": [*EVENT_TYPE_VALUES, TEST_EVENT]},
}

# --- responses ------------------------------------------------------------------------------

ERROR = strict_object(
    {
        "error": strict_object(
            {
                "code": STRING,
                "message": STRING,
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": STRING},
                },
            },
            required=["code", "message"],
        )
    }
)

WEBHOOK = strict_object(
    {
        "id": ID,
        "name": STRING,
        "url": STRING,
        "events": {"type": "array", "items": STRING},
        "format": STRING,
        "filter": {"type": ["object", "null"]},
        "rate_limit": nullable(STRING),
        "ordered": BOOLEAN,
        "is_active": BOOLEAN,
        "disabled_reason": nullable(STRING),
        "last_triggered": nullable(TIMESTAMP),
        "success_count": INTEGER,
        "failure_count": INTEGER,
        "consecutive_failures": INTEGER,
        "secret": {
            "type": "string",
            "description": "In full only when created and rotated; masked everywhere else.",
        },
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
)
WEBHOOK_LIST = strict_object({"webhooks": {"type": "array", "items": WEBHOOK}})
SECRET = strict_object({"secret": STRING})

TEST_RESULT = strict_object(
    {
        "success": nullable(BOOLEAN),
        "status_code": nullable(INTEGER),
        "response_body": nullable(STRING),
        "duration_ms": INTEGER,
        "error": nullable(STRING),
    }
)

ATTEMPT = strict_object(
    {
        "number": INTEGER,
        "time": TIMESTAMP,
        "request_headers": {
            "type": ["object", "null"],
            "additionalProperties": STRING,
        },
        "status": nullable(INTEGER),
        "duration_ms": INTEGER,
        "error": nullable(STRING),
        "response_body": nullable(STRING),
        "response_headers": {
            "type": ["object", "null"],
            "additionalProperties": STRING,
        },
    }
)

LOG_ENTRY = strict_object(
    {
        "id": ID,
        "event_id": STRING,
        "event_type": STRING,
        "payload": strict_object(
            {"id": STRING, "event": STRING, "timestamp": STRING, "data": {"type": "object"}}
        ),
        "request_body": {**nullable(STRING), "description": "The exact bytes last sent."},
        "status": {"type": "string", "enum": [status.value for status in DeliveryStatus]},
        "status_code": nullable(INTEGER),
        "response_body": nullable(STRING),
        "success": nullable(BOOLEAN),
        "attempts": INTEGER,
        "duration_ms": nullable(INTEGER),
        "error": nullable(STRING),
        "next_attempt_at": nullable(TIMESTAMP),
        "waiting_behind": {
            **nullable(INTEGER),
            "description": "An ordered webhook's earlier delivery (its id) this one waits for.",
        },
        "carried_by": {
            **nullable(INTEGER),
            "description": "The delivery whose digest message carried this one's event "
            "(chat formats, when deliveries waited for the rate limit).",
        },
        "carried": {
            "type": "array",
            "items": STRING,
            "description": "The events this delivery's digest message carried besides its own.",
        },
        "created_at": TIMESTAMP,
        "attempt_log": {"type": "array", "items": ATTEMPT},
    }
)
LOG_PAGE = strict_object(
    {
        "logs": {"type": "array", "items": LOG_ENTRY},
        "next": {
            **nullable(ID),
            "description": "Pass as `before` for the next page; null at the end.",
        },
    }
)

EVENT_CATALOG = strict_object(
    {
        "events": {
            "type": "array",
            "items": strict_object({"value": STRING, "label": STRING, "description": STRING}),
        }
    }
)
TENANT = strict_object(
    {
        "id": {**STRING, "description": "The external id."},
        "email": STRING,
        "name": nullable(STRING),
        "created_at": TIMESTAMP,
    }
)
SIGN_IN_LINK = strict_object(
    {
        "url": {**STRING, "description": "Single use; redirect the tenant's browser to it."},
        "expires_at": TIMESTAMP,
    }
)
TRIGGERED = strict_object({"id": STRING, "deliveries": INTEGER})
IDEMPOTENCY_KEY: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    # Printable ASCII; no space at either end, where HTTP would strip it.
    "pattern": "^[!-~]([ -~]*[!-~])?$",
    "description": "Repeats of the same request with this key within 24 hours answer the "
    "first answer and deliver nothing more.",
}
REPLAYED_HEADER: Schema = {
    "type": "string",
    "enum": ["true"],
    "description": "Present when this is the first answer to the Idempotency-Key, given again.",
}
REPLAYED = strict_object(
    {
        "deliveries": INTEGER,
        "next_since": {
            **TIMESTAMP,
            "description": "Present when more remain than one replay queues (10,000): replay "
            "from here for the next page.",
        },
    },
    required=["deliveries"],
)

HEALTH = strict_object(
    {
        "database": {"type": "string", "enum": ["ok", "down"]},
        "broker": {"type": "string", "enum": ["ok", "down"]},
    }
)
OPENAPI_DOCUMENT: Schema = {"type": "object", "required": ["openapi", "paths"]}
