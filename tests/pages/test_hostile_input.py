"""Every page route and form, given hostile ids, cursors and field values: 4xx, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.converters import ID_MAX
from tests.pages.conftest import csrf_token

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# Ids no row can have: past INTEGER, past BIGINT, more digits than Python reads as a number.
HOSTILE_IDS = ["0", str(ID_MAX + 1), str(2**63), "99999999999999999999", "9" * 5000]


def page_rules(app: Any) -> list[Any]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api") and rule.endpoint != "static"
    ]


def fill(rule: Any, value: str) -> str:
    return ARGUMENT.sub(value, rule.rule)


def names_rows(rule: Any) -> bool:
    return any(argument.endswith("_id") for argument in rule.arguments)


def test_every_page_route_with_an_id_takes_the_id_converter(app):
    with_ids = [rule for rule in page_rules(app) if names_rows(rule)]
    assert len(with_ids) >= 10
    for rule in with_ids:
        converters = {
            match.group(1)
            for match in ARGUMENT.finditer(rule.rule)
            if match.group(2).endswith("_id")
        }
        assert converters == {"id"}, f"{rule.rule} names a row without <id:...>"


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_ids_out_of_range_on_every_page_route_are_404(app, browser, value):
    user = browser()
    admin = browser(is_admin=True)
    for rule in page_rules(app):
        if not names_rows(rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for caller in (user, admin):
                response = (caller.get if method == "GET" else caller.post)(fill(rule, value))
                assert response.status_code == 404, (method, rule.rule, response.status_code)


@pytest.mark.parametrize("before", ["0", str(ID_MAX + 1), str(2**63), "9" * 5000])
def test_a_log_cursor_that_names_no_delivery_is_404(browser, make_webhook, before):
    page = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=page.user)
    response = page.get(f"/webhooks/{webhook.id}/logs?before={before}&outcome=x&event=%00")
    assert response.status_code == 404


@pytest.mark.parametrize("before", ["-1", "x", "1e3", "١٢", "%00"])
def test_a_log_cursor_that_is_no_number_shows_the_first_page(browser, make_webhook, before):
    page = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=page.user)
    assert page.get(f"/webhooks/{webhook.id}/logs?before={before}").status_code == 200


HOSTILE_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "x" * 5000,
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "99999-01-01T00:00",
            str(2**63),
            "http://127.0.0.1/é?q=ü",
            "http://[::ffff:0:7f00:1]/",
            "\x00",
            "1",
        ]
    ),
)
# Every field of every page form, and one that no form has.
FIELDS = [
    "name", "url", "events", "format", "is_active", "since", "until", "failed_only",
    "email", "password", "active", "submit", "unknown",
]  # fmt: skip
# Forms of the signed-in pages, `{id}` standing for one of the user's own webhooks.
FORMS = [
    "/webhooks/new",
    "/webhooks/{id}/edit",
    "/webhooks/{id}/active",
    "/webhooks/{id}/logs/replay",
    "/account/tokens",
]


def test_hostile_form_fields_never_cause_a_server_error(browser, make_webhook):
    page = browser()
    webhook, _ = make_webhook("http://127.0.0.1:9/hook", user=page.user)

    @given(
        form=st.sampled_from(FORMS),
        data=st.dictionaries(st.sampled_from(FIELDS), HOSTILE_TEXT, max_size=len(FIELDS)),
    )
    @settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def answers(form: str, data: dict[str, str]) -> None:
        response = page.post(form.format(id=webhook.id), data=data)
        assert response.status_code < 500, (form, data, response.status_code)

    answers()


def test_hostile_sign_in_and_register_fields_never_cause_a_server_error(client, ctx):
    token = csrf_token(client)

    @given(
        form=st.sampled_from(["/sign-in", "/register"]),
        data=st.dictionaries(st.sampled_from(FIELDS), HOSTILE_TEXT, max_size=len(FIELDS)),
        address=st.ip_addresses(v=4).map(str),
    )
    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def answers(form: str, data: dict[str, str], address: str) -> None:
        # A client address of its own each time, so the throttles do not answer for the forms.
        response = client.post(
            form, data={**data, "csrf_token": token}, environ_base={"REMOTE_ADDR": address}
        )
        assert response.status_code < 500, (form, data, response.status_code)

    answers()
