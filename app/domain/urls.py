"""Which endpoint URLs Signalpost sends to; checked at create, at edit and before each attempt."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


def url_problem(url: str, *, require_https: bool) -> str | None:
    """Why this URL is refused, in plain words, or None when it is acceptable."""
    if not url:
        return "Enter the endpoint URL."
    if len(url) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters."
    if any(char.isspace() or not char.isprintable() for char in url):
        return "The URL must not contain spaces or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme not in ("http", "https"):
        return "The URL must start with https:// (or http:// where allowed)."
    if require_https and parts.scheme != "https":
        return "The URL must use https://."
    if not parts.hostname:
        return "The URL has no host name."
    if parts.username is not None or parts.password is not None:
        return "The URL must not contain a user name or password."
    return None
