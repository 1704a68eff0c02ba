"""Bad input to the webhook operations: each refusal, in the contract's error shape."""

from __future__ import annotations

import pytest

from app.api.parsing import MAX_JSON_DEPTH
from tests.api.conftest import error_of


@pytest.fixture
def valid(hook_url):
    return {
        "name": "Hook",
        "url": hook_url,
        "events": ["custom"],
        "format": "json",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", 42, "Must be a string."),
        ("name", None, "Must be a string."),
        ("url", ["http://a.example"], "Must be a string."),
        ("events", "custom", "Must be a list."),
        ("events", ["custom", 7], "Must be a list of strings."),
        ("format", {"name": "json"}, "Must be a string."),
        ("is_active", "yes", "Must be true or false."),
        ("is_active", 1, "Must be true or false."),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_wrong_type_for_each_field_is_422_naming_it(
    api, method, field, value, message, hook_url, valid
):
    path = "/api/webhooks"
    if method != "POST":
        path = f"/api/webhooks/{api.create_webhook(hook_url)['id']}"

    response = api.call(method, path, json={**valid, field: value})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"] == {field: [message]}


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_unknown_fields_are_refused(api, method, hook_url, valid):
    path = "/api/webhooks"
    if method == "PATCH":
        path = f"/api/webhooks/{api.create_webhook(hook_url)['id']}"

    response = api.call(method, path, json={**valid, "secret": "whsec_mine", "colour": "red"})

    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "secret": ["Unknown field."],
        "colour": ["Unknown field."],
    }


def test_values_are_checked_by_the_same_rules_as_the_form(api):
    response = api.post(
        "/api/webhooks",
        json={"name": "  ", "url": "ftp://example.com", "events": ["price_above", "nope"]},
    )

    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert fields["name"] == ["Enter a name."]
    assert "https://" in fields["url"][0]
    assert fields["events"] == ["Unknown event type: nope."]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Null\x00byte"),
        ("name", "Two\nlines"),
        ("name", "invoice\u202egpj.exe"),  # a bidi override: shown reversed, a spoof
        ("name", "zero\u200bwidth"),
        ("url", "http://127.0.0.1:9/\x00"),
        ("url", "http://127.0.0.1:9/a b"),
    ],
)
def test_control_characters_are_refused_not_stored(api, field, value, valid):
    """PostgreSQL cannot store NUL at all; line breaks in a name or URL are never meant."""
    response = api.post("/api/webhooks", json={**valid, field: value})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == [field]


def test_unknown_event_types_on_update_are_422(api, hook_url):
    hook = api.create_webhook(hook_url)
    response = api.patch(f"/api/webhooks/{hook['id']}", json={"events": ["price_sideways"]})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"events": ["Unknown event type: price_sideways."]}


def test_an_unknown_format_is_422(api, valid):
    response = api.post("/api/webhooks", json={**valid, "format": "fax"})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["format"]


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b'{"name": "Hook",', "application/json", "not valid JSON"),
        (b"", "application/json", "not valid JSON"),
        (b'{"name": NaN}', "application/json", "not valid JSON"),
        (b'{"event": "custom", "data": {"n": 1e400}}', "application/json", "not valid JSON"),
        (b'{"data": {"n": 1' + b"0" * 5000 + b"}}", "application/json", "not valid JSON"),
        (b'{"name": "\\ud800"}', "application/json", "not valid JSON"),
        (b"\xff\xfe{", "application/json", "not valid JSON"),
        (b'["Hook"]', "application/json", "must be a JSON object"),
        (b"null", "application/json", "must be a JSON object"),
        (b"name=Hook", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        (b'{"name": "Hook"}', "text/plain", "Content-Type: application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(api, data, content_type, message):
    response = api.post("/api/webhooks", data=data, content_type=content_type)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert message in error["message"]


def nested(levels: int) -> bytes:
    """A valid event whose objects nest `levels` deep in all (the body itself is one)."""
    inner = levels - 2  # the body and `data` are two levels
    return b'{"event": "custom", "data": ' + b'{"a": ' * inner + b"{}" + b"}" * inner + b"}"


@pytest.mark.parametrize(
    "data",
    [
        nested(MAX_JSON_DEPTH + 1),  # the limit of our own
        nested(2000),  # past what the parser can read (RecursionError)
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 100_000,  # unclosed, but the depth is what stops the parser first
    ],
)
def test_a_body_that_nests_too_deeply_says_so(api, data):
    response = api.post("/api/events", data=data, content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert error["message"] == (
        f"The body nests too deeply: at most {MAX_JSON_DEPTH} levels of objects and lists."
    )


def test_a_body_at_the_depth_limit_is_read(api, hook_url):
    api.create_webhook(hook_url, events=["custom"])
    response = api.post("/api/events", data=nested(MAX_JSON_DEPTH), content_type="application/json")
    assert response.status_code == 202, response.get_json()


def test_a_body_over_the_request_limit_is_413(app, api, valid):
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = api.post("/api/webhooks", json={**valid, "name": padding})
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "path",
    [
        "/api/webhooks/0",
        "/api/webhooks/2147483648",
        "/api/webhooks/x",
        f"/api/webhooks/{2**63}",
        "/api/webhooks/99999999999999999999/logs",
        # Python refuses to read more than 4300 digits as a number.
        f"/api/webhooks/{'9' * 5000}",
    ],
)
def test_ids_that_cannot_exist_are_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405_with_allow(api):
    response = api.call("PATCH", "/api/webhooks")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
