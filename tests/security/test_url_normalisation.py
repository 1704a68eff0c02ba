"""URLs are stored normalised (IDNA host, percent-encoded path and query), sent as stored,
and shown decoded: a non-ASCII path neither fails the test action nor any delivery."""

from __future__ import annotations

import pytest

from app.domain.urls import display_url, normalise_url
from app.services import webhooks
from app.services.delivery import test_send
from tests.pages.conftest import page_client, sign_in


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("http://127.0.0.1:8000/é?q=ü", "http://127.0.0.1:8000/%C3%A9?q=%C3%BC"),
        ("https://Bücher.Example/Straße", "https://xn--bcher-kva.example/Stra%C3%9Fe"),
        # %41 is an escape of the unreserved "A": the same URL as /A/A (RFC 3986 §6.2.2.2).
        ("HTTPS://Hooks.Example.com/A/%41?x=%20", "https://hooks.example.com/A/A?x=%20"),
        ("http://[2606:4700::1111]:8080/p", "http://[2606:4700::1111]:8080/p"),
        ("https://hooks.example.com/a|b^c`d", "https://hooks.example.com/a%7Cb%5Ec%60d"),
        ("https://hooks.example.com/p#part", "https://hooks.example.com/p"),
    ],
)
def test_urls_are_normalised_once_and_shown_decoded(typed, stored):
    assert normalise_url(typed) == stored
    assert normalise_url(stored) == stored


@pytest.mark.parametrize(
    "spelling",
    [
        "http://127.0.0.1/hook",
        "http://127.0.0.1:80/hook",
        "HTTP://127.0.0.1/hook",
        "http://127.0.0.1/%68ook",
        "http://127.0.0.1/%68%6F%6f%6B",
        "http://127.0.0.1/./hook",
        "http://127.0.0.1/a/../hook",
        "http://127.0.0.1/../../hook",
        "http://127.0.0.1/a/%2e%2E/hook",
        "http://127.0.0.1/hook#fragment",
    ],
)
def test_spellings_of_one_url_are_stored_as_one(spelling):
    """RFC 3986 §6.2.2-6.2.3: case, escapes of unreserved characters, dot segments and the
    default port do not make another URL; stored in one spelling, they share one budget."""
    assert normalise_url(spelling) == "http://127.0.0.1/hook"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://hooks.example.com:443/p", "https://hooks.example.com/p"),
        ("https://hooks.example.com.:443/p", "https://hooks.example.com/p"),
        ("https://Bücher.Example./p", "https://xn--bcher-kva.example/p"),
        ("https://hooks.example.com", "https://hooks.example.com/"),
        ("https://hooks.example.com?x=1", "https://hooks.example.com/?x=1"),
        ("https://[2606:4700::1111]:443/p", "https://[2606:4700::1111]/p"),
        ("https://hooks.example.com/%c3%a9/%7euser", "https://hooks.example.com/%C3%A9/~user"),
        ("https://hooks.example.com/p/.", "https://hooks.example.com/p/"),
        ("https://hooks.example.com/p/q/..", "https://hooks.example.com/p/"),
        ("https://hooks.example.com/a//b/../c", "https://hooks.example.com/a//c"),
    ],
)
def test_the_normal_form_of_rfc_3986(typed, stored):
    assert normalise_url(typed) == stored
    assert normalise_url(stored) == stored


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("http://127.0.0.1/hook", "http://127.0.0.1:443/hook"),  # 443 is not http's port
        ("https://hooks.example.com/hook", "https://hooks.example.com:80/hook"),
        ("https://hooks.example.com/a%2Fb", "https://hooks.example.com/a/b"),  # reserved
        ("https://hooks.example.com/a?x=%26", "https://hooks.example.com/a?x=&"),
        ("https://hooks.example.com/hook?x=1", "https://hooks.example.com/hook?x=2"),
        ("https://hooks.example.com/hook?x=1&y=2", "https://hooks.example.com/hook?y=2&x=1"),
        ("https://hooks.example.com/hook", "https://hooks.example.com/hook/"),
        ("https://hooks.example.com/Hook", "https://hooks.example.com/hook"),
    ],
)
def test_what_differs_stays_apart(one, other):
    """An escape of a reserved character, another query, another path case or a port that is
    not the scheme's default name another resource: they are not merged."""
    assert normalise_url(one) != normalise_url(other)


def test_display_decodes_letters_but_keeps_escapes_of_ascii_and_controls():
    assert display_url("https://xn--bcher-kva.example/%C3%A9?q=%C3%BC") == (
        "https://bücher.example/é?q=ü"
    )
    assert display_url("https://h.example/a%2Fb%20c") == "https://h.example/a%2Fb%20c"
    # U+0085 (NEL) is a control character: left escaped rather than shown.
    assert display_url("https://h.example/%C2%85") == "https://h.example/%C2%85"
    assert display_url("https://h.example/%FF") == "https://h.example/%FF"


def test_a_non_ascii_path_is_stored_encoded_and_the_test_action_delivers(make_webhook, receiver):
    webhook, _ = make_webhook(f"{receiver.url.rstrip('/')}/é?q=ü")
    assert webhook.url.endswith("/%C3%A9?q=%C3%BC")

    result = test_send.test_webhook(webhook)

    assert result["success"] is True and result["status_code"] == 200
    (request,) = receiver.requests
    assert request.path == "/hook/é" and request.query == "q=%C3%BC"


def test_a_url_stored_before_normalisation_is_still_sent(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.url)
    webhook.url = f"{receiver.url.rstrip('/')}/ü"  # as an older version stored it

    result = test_send.test_webhook(webhook)

    assert result["success"] is True
    assert receiver.requests[0].path == "/hook/ü"


def test_an_edit_normalises_too(make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    webhooks.update_webhook(webhook, webhooks.WebhookInput(url="http://127.0.0.1:9/ñ"))
    assert webhook.url == "http://127.0.0.1:9/%C3%B1"


def test_the_pages_show_the_normal_form_decoded(app, make_webhook):
    webhook, _ = make_webhook("https://Bücher.Example.:443/%c3%a9/./%7Ex")
    assert webhook.url == "https://xn--bcher-kva.example/%C3%A9/~x"
    client = sign_in(page_client(app), webhook.user)

    listing = client.get("/webhooks").get_data(as_text=True)
    edit = client.get(f"/webhooks/{webhook.id}/edit").get_data(as_text=True)

    assert "bücher.example" in listing and "/é/~x" in listing
    assert 'value="https://bücher.example/é/~x"' in edit
    # What the edit form shows is stored as it is when saved again.
    assert normalise_url(display_url(webhook.url)) == webhook.url
