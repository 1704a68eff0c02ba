"""Which format a URL is for, and a warning when the chosen format doesn't look right for it.

These only advise: an owner may send any format to any URL (a proxy, a test server...).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.domain.formats.telegram import query_value

SERVICES = {"discord": "Discord", "slack": "Slack", "telegram": "Telegram"}
EXAMPLE_URLS = {
    "discord": "https://discord.com/api/webhooks/<id>/<token>",
    "slack": "https://hooks.slack.com/services/<…>",
    "telegram": "https://api.telegram.org/bot<token>/sendMessage?chat_id=<chat id>",
}


def _parts(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url.strip())
        return (parts.hostname or "").rstrip(".").lower(), parts.path
    except ValueError:
        return "", ""


def _service_of(host: str) -> str | None:
    if host in ("discord.com", "discordapp.com") or host.endswith(".discord.com"):
        return "discord"
    if host == "hooks.slack.com":
        return "slack"
    if host == "api.telegram.org":
        return "telegram"
    return None


def suggest_format(url: str) -> str:
    """The format for the URL's host: a chat service's own, `json` for anything else."""
    return _service_of(_parts(url)[0]) or "json"


def _path_warning(service: str, url: str, path: str) -> str | None:
    expected = EXAMPLE_URLS[service]
    if service == "discord" and not path.startswith("/api/webhooks/"):
        return f"A Discord webhook URL looks like {expected}."
    if service == "slack" and not path.startswith("/services/"):
        return f"A Slack incoming-webhook URL looks like {expected}."
    if service == "telegram":
        if not path.endswith("/sendMessage"):
            return f"A Telegram URL must call sendMessage: {expected}."
        if query_value(url, "chat_id") is None:
            return f"Add the chat to the URL, as in {expected}, so Telegram knows where to post."
    return None


def format_warning(url: str, format_name: str) -> str | None:
    """A sentence for the owner when URL and format don't seem to match; None when they do."""
    host, path = _parts(url)
    if not host:
        return None
    service = _service_of(host)
    if format_name in SERVICES:
        if service != format_name:
            name = SERVICES[format_name]
            return (
                f"This URL doesn't look like a {name} webhook ({EXAMPLE_URLS[format_name]}); "
                f"the {name} message will be sent to it anyway."
            )
        return _path_warning(format_name, url, path)
    if service is not None:
        return (
            f"This looks like a {SERVICES[service]} URL, which won't accept the {format_name} "
            f"format: choose the {service} format."
        )
    return None
