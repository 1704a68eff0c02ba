"""Suggesting a format from the URL, and warning (never refusing) when they don't match."""

from __future__ import annotations

import pytest

from app.domain.formats import format_warning, suggest_format
from app.services import webhooks
from app.services.errors import ValidationError

DISCORD = "https://discord.com/api/webhooks/123/abc"
SLACK = "https://hooks.slack.com/services/T0/B0/xyz"
TELEGRAM = "https://api.telegram.org/bot123:abc/sendMessage?chat_id=-100123"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (DISCORD, "discord"),
        ("https://discordapp.com/api/webhooks/1/a", "discord"),
        ("https://canary.discord.com/api/webhooks/1/a", "discord"),
        ("https://HOOKS.SLACK.COM/services/x", "slack"),
        (TELEGRAM, "telegram"),
        ("https://example.com/hook", "json"),
        ("https://discord.com.evil.example/api/webhooks/1/a", "json"),
        ("not a url", "json"),
        ("http://[::1", "json"),
        ("", "json"),
    ],
)
def test_suggest_format_from_the_host(url, expected):
    assert suggest_format(url) == expected


@pytest.mark.parametrize(
    ("url", "format_name"),
    [
        (DISCORD, "discord"),
        (SLACK, "slack"),
        (TELEGRAM, "telegram"),
        ("https://example.com/hook", "json"),
        ("", "json"),
    ],
)
def test_no_warning_when_url_and_format_match(url, format_name):
    assert format_warning(url, format_name) is None


@pytest.mark.parametrize(
    ("url", "format_name", "words"),
    [
        ("https://example.com/hook", "discord", "doesn't look like a Discord webhook"),
        (SLACK, "telegram", "doesn't look like a Telegram webhook"),
        (DISCORD, "json", "looks like a Discord URL"),
        (TELEGRAM, "slack", "doesn't look like a Slack webhook"),
        ("https://discord.com/channels/1/2", "discord", "/api/webhooks/"),
        ("https://hooks.slack.com/triggers/T0/1/x", "slack", "/services/"),
        ("https://api.telegram.org/bot1:a/getUpdates?chat_id=1", "telegram", "sendMessage"),
        ("https://api.telegram.org/bot1:a/sendMessage", "telegram", "chat_id"),
    ],
)
def test_a_warning_names_the_mismatch(url, format_name, words):
    assert words in format_warning(url, format_name)


def test_a_mismatch_is_saved_all_the_same(make_user):
    url = "https://example.com/hook"
    assert webhooks.format_warning(url, "telegram") is not None
    webhook, _ = webhooks.register_webhook(
        make_user(), webhooks.WebhookInput(name="n", url=url, events=["custom"], format="telegram")
    )
    assert webhook.format == "telegram"


def test_the_service_layer_defaults_to_json():
    assert webhooks.suggest_format(SLACK) == "slack"
    assert webhooks.format_warning(SLACK, None) == format_warning(SLACK, "json")


def test_validate_accepts_every_format_and_names_them_when_refusing(make_user):
    for format_name in ("json", "discord", "slack", "telegram"):
        webhooks.validate(webhooks.WebhookInput(format=format_name), creating=False)
    with pytest.raises(ValidationError) as refused:
        webhooks.validate(webhooks.WebhookInput(format="teams"), creating=False)
    assert refused.value.fields["format"] == ["Choose one of: json, discord, slack, telegram."]
