"""Which endpoint URLs Signalpost sends to; checked at create, at edit and before each attempt.

`url_problem` answers the form and the API; `check_target` is called before every attempt and
returns the addresses it checked, which are the only ones the sender connects to, so a name
that resolves somewhere else a moment later (DNS rebinding) changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from app.domain import addresses

MAX_URL_LENGTH = 2048
# DNS names are at most 253 characters as written (RFC 1035); a longer one is no name at all.
MAX_HOST_NAME_LENGTH = 253
DEFAULT_PORTS = {"http": 80, "https": 443}
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_NAME_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# What stays as it is in a path or query: RFC 3986's unreserved and reserved characters, and
# `%`, so that escapes already made are not made twice. Everything else is percent-encoded.
_URL_SAFE = "!#$&'()*+,/:;=?@[]~%"
_ENCODED_NON_ASCII = re.compile(r"(?:%[89a-fA-F][0-9a-fA-F])+")
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
# RFC 3986 §2.3: an escape of one of these means the character itself (§6.2.2.2).
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Said with every refusal that only a setting lifts, so that whoever meets one while trying
# Signalpost on their own machine learns how to allow it (make run does) and when not to.
HTTPS_HINT = " For local testing, WEBHOOK_REQUIRE_HTTPS=false allows http://."
PRIVATE_HINT = (
    " Signalpost sends to such addresses only when WEBHOOK_ALLOW_PRIVATE_TARGETS=true"
    " (for local testing)."
)


class UrlRefused(ValueError):
    """Why a URL is not sent to. `temporary` when only the name lookup failed."""

    def __init__(self, reason: str, *, temporary: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the checked addresses, and the name for Host, SNI and the cert."""

    scheme: str
    host: str  # the name (IDNA-encoded, no trailing dot) or the IP address as written
    port: int
    path: str  # path and query, never empty
    addresses: tuple[str, ...]


def url_problem(url: str, *, require_https: bool, allow_private: bool) -> str | None:
    """Why this URL is refused, in plain words, or None when it is acceptable.

    A name that does not resolve now is accepted: it is looked up again before every attempt.
    """
    try:
        _check(url, require_https=require_https, allow_private=allow_private, need=False)
    except UrlRefused as refused:
        return None if refused.temporary else refused.reason
    return None


def check_target(url: str, *, require_https: bool, allow_private: bool) -> Target:
    """The target of one attempt, resolved and checked; raises UrlRefused."""
    return _check(url, require_https=require_https, allow_private=allow_private, need=True)


def normalise_url(url: str) -> str:
    """The URL as stored and sent, one spelling for each URL: the normal form of RFC 3986
    §6.2.2-6.2.3, so that spellings of one URL share its delivery budget.

    Lower-case scheme and host; an IDNA host without its trailing dot; no default port (80 for
    http, 443 for https); the path and query percent-encoded as UTF-8, every escape in upper
    case and escapes of unreserved characters (letters, digits, `-._~`) decoded, so `/%68ook`
    is `/hook`; `.` and `..` segments removed, and an empty path is `/`; no fragment. A
    different query is a different URL. Call it on a URL `url_problem` accepted.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    else:
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        host = host.removesuffix(".")
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = _remove_dot_segments(_normal_escapes(_encoded(parts.path)))
    return urlunsplit((scheme, netloc, path, _normal_escapes(_encoded(parts.query)), ""))


def display_url(url: str) -> str:
    """The URL as people read it: a Unicode host, and percent-encoded UTF-8 shown as letters
    (escapes of ASCII characters stay, since they mean something else unescaped)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if "xn--" in host:
            netloc = parts.netloc.replace(host, host.encode("ascii").decode("idna"))
            parts = parts._replace(netloc=netloc)
    except (ValueError, UnicodeError):
        return url
    return _ENCODED_NON_ASCII.sub(_decoded, urlunsplit(parts))


def _decoded(match: re.Match[str]) -> str:
    try:
        text = unquote(match.group(0), errors="strict")
    except UnicodeDecodeError:
        return match.group(0)
    return text if text.isprintable() else match.group(0)


def _encoded(text: str) -> str:
    return quote(text, safe=_URL_SAFE)


def _normal_escapes(text: str) -> str:
    """RFC 3986 §6.2.2.2: `%xx` in upper case, and unreserved characters unescaped."""
    return _ESCAPE.sub(_normal_escape, text)


def _normal_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else match.group(0).upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 on the path of a URL with a host, which is empty or starts with `/`.

    `/a/./b/../c` is `/a/c`; a `..` above the root stays at the root; a path ending in `.` or
    `..` ends with `/`; an empty path is `/` (§6.2.3).
    """
    segments = path.split("/")[1:]
    kept: list[str] = []
    for number, segment in enumerate(segments, start=1):
        if segment in (".", ".."):
            if segment == ".." and kept:
                kept.pop()
            if number == len(segments):
                kept.append("")
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def _check(url: str, *, require_https: bool, allow_private: bool, need: bool) -> Target:
    if not url:
        raise UrlRefused("Enter the endpoint URL.")
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise UrlRefused("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("This is not a valid URL.") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise UrlRefused("The URL must start with https:// (or http:// where allowed).")
    if require_https and parts.scheme != "https":
        raise UrlRefused("The URL must use https://." + HTTPS_HINT)
    if not parts.hostname:
        raise UrlRefused("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("The URL must not contain a user name or password.")
    if port == 0:
        raise UrlRefused("The port must be between 1 and 65535.")
    port = port or DEFAULT_PORTS[parts.scheme]
    # Encoded here too, so that a URL stored before it was normalised is still sent.
    path = _encoded(parts.path or "/") + (f"?{_encoded(parts.query)}" if parts.query else "")

    literal = _ip_literal(parts.hostname)
    if literal is not None:
        kind = None if allow_private else addresses.address_problem(literal)
        if kind:
            raise UrlRefused(f"{literal} is {kind}.{PRIVATE_HINT}")
        return Target(parts.scheme, str(literal), port, path, (str(literal),))

    name = _host_name(parts.hostname)
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise UrlRefused(f"{name} is this machine (a loopback name).{PRIVATE_HINT}")
    if allow_private and not need:
        return Target(parts.scheme, name, port, path, ())
    try:
        found = addresses.resolve(name, port)
    except (OSError, UnicodeError):
        found = []
    if not found:
        raise UrlRefused(f"The host name {name} does not resolve.", temporary=True)
    if not allow_private:
        for address in found:
            kind = addresses.address_problem(address)
            if kind:
                raise UrlRefused(f"{name} resolves to {address}, {kind}.{PRIVATE_HINT}")
    return Target(parts.scheme, name, port, path, tuple(found))


def _ip_literal(host: str) -> addresses.IPAddress | None:
    """The address when the host is one, however it is written; None when it is a name.

    As browsers do (WHATWG URL), a host whose last label is a number is an IPv4 address, so
    2130706433, 0x7f.1 and 0177.0.0.1 all mean 127.0.0.1. Only the plain dotted form is
    accepted, since programs disagree on the others.
    """
    if "%" in host:
        raise UrlRefused(f"{host} is not accepted: an address with a zone (%) is local.")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UrlRefused(f"{host} is not a valid IPv6 address.") from None
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels = labels[:-1]
    if not _NUMERIC_LABEL.match(labels[-1]):
        return None
    address = _legacy_ipv4(labels)
    if address is None:
        raise UrlRefused(f"{host} is not a valid IP address.")
    if str(address) != host:
        kind = addresses.address_problem(address)
        if kind:
            raise UrlRefused(f"{host} means {address}, {kind}.")
        raise UrlRefused(f"Write the address {host} as {address}.")
    return address


def _legacy_ipv4(labels: list[str]) -> ipaddress.IPv4Address | None:
    """inet_aton's reading: 1 to 4 parts, each decimal, 0-prefixed octal or 0x hex."""
    if not 1 <= len(labels) <= 4:
        return None
    numbers = []
    for label in labels:
        try:
            if label.startswith("0x"):
                numbers.append(int(label[2:] or "0", 16))
            elif len(label) > 1 and label.startswith("0"):
                numbers.append(int(label, 8))
            else:
                numbers.append(int(label, 10))
        except ValueError:
            return None
    *head, last = numbers
    if any(number > 255 for number in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for position, number in enumerate(head):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _host_name(host: str) -> str:
    """The name as DNS sees it: IDNA-encoded, lower case, without the trailing dot."""
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UrlRefused(f"{host} is not a valid host name.") from None
    name = name.removesuffix(".")
    if len(name) > MAX_HOST_NAME_LENGTH:
        raise UrlRefused(f"The host name is longer than {MAX_HOST_NAME_LENGTH} characters.")
    if not name or not all(_NAME_LABEL.match(label) for label in name.split(".")):
        raise UrlRefused(f"{host} is not a valid host name.")
    return name
