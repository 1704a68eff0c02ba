"""Configuration read from environment variables and checked once, at start-up.

Every variable is documented in README.md. A bad value stops the process with a message that
names the variable, rather than failing later inside a request or a task.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from app.domain.catalog import EVENT_VALUES
from app.domain.secretbox import parse_keys
from app.domain.signing import SECRET_PREFIX
from app.domain.urls import url_problem


class ConfigError(ValueError):
    """A configuration variable has a value we cannot use."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _engine_options(database_url: str, pool_size: int) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if not database_url.startswith("sqlite"):
        # Connections kept open for the threads that use one at the same moment. Fewer, and
        # SQLAlchemy opens and closes an extra one per use: a new PostgreSQL backend for every
        # delivery once a worker's threads are busy (docs/performance.md).
        options |= {"pool_size": pool_size, "max_overflow": pool_size}
    return options


# The engine for statements that record how a delivery is going (app.services.connections.progress).
PROGRESS_BIND = "progress"


def _binds(database_url: str, engine_options: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL: a second pool on the same database whose sessions commit asynchronously.

    A commit then returns before its WAL record is on disk. A crash of PostgreSQL may lose the
    last fraction of a second of such commits, as if they had been rolled back, and never
    leaves the database inconsistent. Only a delivery's claim and its attempt's record use it:
    losing one leaves the delivery due again, so it is sent again (receivers de-duplicate on
    X-Webhook-ID) and nothing is lost. Events and everything else commit as before.
    """
    if database_url.startswith("sqlite"):
        return {}
    options = {
        "connect_args": {"options": "-c synchronous_commit=off"},
        # Every statement on it is a transaction by itself: set once, not at every checkout.
        "isolation_level": "AUTOCOMMIT",
    }
    return {PROGRESS_BIND: {"url": database_url, **engine_options, **options}}


def _delays(name: str, raw: str) -> tuple[int, ...]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    return tuple(_int(name, part) for part in parts)


def _ttls(name: str, raw: str) -> dict[str, int]:
    """Parse `price_above=900,price_below=900` into seconds per event type."""
    ttls = {}
    for part in (part.strip() for part in raw.split(",") if part.strip()):
        event_type, _, seconds = part.partition("=")
        event_type = event_type.strip()
        if event_type not in EVENT_VALUES:
            known = ", ".join(sorted(EVENT_VALUES))
            raise ConfigError(f"{name}: unknown event type {event_type!r}; use one of: {known}")
        ttls[event_type] = _int(name, seconds.strip(), minimum=1)
    return ttls


def _rate(name: str, raw: str) -> tuple[int, int]:
    """Parse `10/minute` into (10, 60)."""
    periods = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
    count, _, period = raw.partition("/")
    period = period.strip().lower().rstrip("s")
    if period not in periods:
        raise ConfigError(f"{name} must look like 10/minute, not {raw!r}")
    return _int(name, count.strip(), minimum=1), periods[period]


# Flask signs sessions and CSRF tokens with SECRET_KEY: a short key can be guessed offline
# from one signed cookie, so it is held to the length of the encryption key (32 bytes).
MIN_SECRET_KEY_BYTES = 32


def _secret_key(raw: str) -> str:
    if len(raw.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes long, not "
            f"{len(raw.encode())}; e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return raw


REGISTRATION_MODES = ("open", "invite", "closed")
# A price alert is worth little after 15 minutes; trades and dividends never expire by default.
DEFAULT_EVENT_TTL = "price_above=900,price_below=900"
# A CSP source expression for an origin: scheme, host (a leading `*.` allowed), optional port.
_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$")


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(part.lower() for part in re.split(r"[\s,]+", raw.strip()) if part)
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigError(
                f"{name} must list origins such as https://app.example.com, not {origin!r}"
            )
    return origins


# A sign-in link is as good as a password while it lives: an hour at most.
MAX_SIGN_IN_LINK_TTL = 3600


def _sign_in_link_ttl(raw: str) -> int:
    seconds = _int("SIGNALPOST_SIGN_IN_LINK_TTL", raw, minimum=1)
    if seconds > MAX_SIGN_IN_LINK_TTL:
        raise ConfigError(
            f"SIGNALPOST_SIGN_IN_LINK_TTL must be at most {MAX_SIGN_IN_LINK_TTL} seconds, "
            f"not {seconds}"
        )
    return seconds


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return value


# The operator's HMAC key, in bytes: at least as long as a hash's output is safe, and no more
# than one HMAC block. Signalpost's own secrets have 32.
OPERATOR_SECRET_BYTES = (16, 64)


def _operator_webhook(url: str, secret: str, require_https: bool) -> tuple[str | None, str | None]:
    """SIGNALPOST_OPERATOR_WEBHOOK_URL and _SECRET: both set, or neither."""
    if not url and not secret:
        return None, None
    if not url or not secret:
        raise ConfigError(
            "Set both SIGNALPOST_OPERATOR_WEBHOOK_URL and SIGNALPOST_OPERATOR_WEBHOOK_SECRET, "
            "or neither"
        )
    # Addresses are checked before every attempt, as for any endpoint; here only the form.
    problem = url_problem(url, require_https=require_https, allow_private=True)
    if problem:
        raise ConfigError(f"SIGNALPOST_OPERATOR_WEBHOOK_URL is not usable: {problem}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        key = b""
    low, high = OPERATOR_SECRET_BYTES
    if not secret.startswith(SECRET_PREFIX) or not low <= len(key) <= high:
        raise ConfigError(
            f"SIGNALPOST_OPERATOR_WEBHOOK_SECRET must be {SECRET_PREFIX} followed by the base64 "
            f"of {low} to {high} random bytes, e.g. python -c 'import base64, secrets; "
            f'print("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())\''
        )
    return url, secret


def _instance_secret(instance_path: Path, filename: str, make: Any) -> str:
    """Read a secret kept in instance/, creating it the first time.

    Several processes (web, worker, beat) may start at once; O_EXCL makes exactly one of them
    write the file and the others read what it wrote.
    """
    path = instance_path / filename
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.05)
        raise ConfigError(f"{path} is empty; delete it to have a new one generated") from None
    value = make()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _metrics_dir(raw: str) -> str:
    """prometheus_client's multi-process folder: every process writes its counts there."""
    path = Path(raw)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR {raw!r} cannot be created: {exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR {raw!r} is not writable by this process")
    return str(path)


def load(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, with test overrides on top."""
    env: dict[str, Any] = {**os.environ, **(overrides or {})}

    def get(name: str, default: str) -> str:
        value = env.get(name)
        return default if value is None or value == "" else str(value)

    database_url = get("DATABASE_URL", f"sqlite:///{instance_path / 'signalpost.sqlite'}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    encryption_key = get("WEBHOOK_ENCRYPTION_KEY", "") or _instance_secret(
        instance_path, "encryption.key", lambda: Fernet.generate_key().decode()
    )
    try:
        parse_keys(encryption_key)
    except (ValueError, TypeError):
        raise ConfigError(
            "WEBHOOK_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes), "
            "or several separated by commas"
        ) from None

    engine_options = _engine_options(
        database_url, _int("DATABASE_POOL_SIZE", get("DATABASE_POOL_SIZE", "20"), minimum=1)
    )
    rate_count, rate_period = _rate("WEBHOOK_RATE_LIMIT", get("WEBHOOK_RATE_LIMIT", "10/minute"))
    base_url = get("SIGNALPOST_BASE_URL", "http://127.0.0.1:5000")
    secure_cookies = _bool(
        "SIGNALPOST_SECURE_COOKIES",
        get("SIGNALPOST_SECURE_COOKIES", str(base_url.startswith("https://"))),
    )
    frame_ancestors = _origins("SIGNALPOST_FRAME_ANCESTORS", get("SIGNALPOST_FRAME_ANCESTORS", ""))
    require_https = _bool("WEBHOOK_REQUIRE_HTTPS", get("WEBHOOK_REQUIRE_HTTPS", "true"))
    operator_url, operator_secret = _operator_webhook(
        get("SIGNALPOST_OPERATOR_WEBHOOK_URL", "").strip(),
        get("SIGNALPOST_OPERATOR_WEBHOOK_SECRET", "").strip(),
        require_https,
    )
    config: dict[str, Any] = {
        "SECRET_KEY": _secret_key(
            get("SECRET_KEY", "")
            or _instance_secret(instance_path, "secret.key", lambda: secrets.token_hex(32))
        ),
        # The session cookie is out of scripts' reach, sent over https only when the site is
        # served so, and not sent on cross-site requests, unless the pages are embedded in
        # another site's frame, where a Lax cookie would never arrive (docs/security.md).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_SAMESITE": "None" if frame_ancestors and secure_cookies else "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "FRAME_ANCESTORS": frame_ancestors,
        "REGISTRATION": _choice(
            "SIGNALPOST_REGISTRATION", get("SIGNALPOST_REGISTRATION", "open"), REGISTRATION_MODES
        ),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SQLALCHEMY_BINDS": _binds(database_url, engine_options),
        "CELERY_BROKER_URL": get("CELERY_BROKER_URL", "filesystem://localhost/"),
        "EMBEDDED_BROKER_DIR": get("SIGNALPOST_BROKER_DIR", str(instance_path / "broker")),
        "REDIS_URL": get("REDIS_URL", "") or None,
        # Flask-Limiter's storage: shared by every web process when Redis is configured.
        "RATELIMIT_STORAGE_URI": get("REDIS_URL", "") or "memory://",
        "RATELIMIT_KEY_PREFIX": "signalpost",
        "WEBHOOK_ENCRYPTION_KEY": encryption_key,
        "WEBHOOK_RETRY_DELAYS": _delays(
            "WEBHOOK_RETRY_DELAYS", get("WEBHOOK_RETRY_DELAYS", "60,300,900")
        ),
        "WEBHOOK_EVENT_TTL": _ttls(
            "WEBHOOK_EVENT_TTL", get("WEBHOOK_EVENT_TTL", DEFAULT_EVENT_TTL)
        ),
        "WEBHOOK_FAILURE_THRESHOLD": _int(
            "WEBHOOK_FAILURE_THRESHOLD", get("WEBHOOK_FAILURE_THRESHOLD", "10"), minimum=1
        ),
        "WEBHOOK_RATE_LIMIT": (rate_count, rate_period),
        "WEBHOOK_DIGESTS": _bool("WEBHOOK_DIGESTS", get("WEBHOOK_DIGESTS", "true")),
        "WEBHOOK_MAX_PER_USER": _int(
            "WEBHOOK_MAX_PER_USER", get("WEBHOOK_MAX_PER_USER", "100"), minimum=1
        ),
        "WEBHOOK_TIMEOUT": _int("WEBHOOK_TIMEOUT", get("WEBHOOK_TIMEOUT", "10"), minimum=1),
        "WEBHOOK_MAX_PAYLOAD_BYTES": _int(
            "WEBHOOK_MAX_PAYLOAD_BYTES", get("WEBHOOK_MAX_PAYLOAD_BYTES", "262144"), minimum=2
        ),
        "WEBHOOK_LOG_RETENTION_DAYS": _int(
            "WEBHOOK_LOG_RETENTION_DAYS", get("WEBHOOK_LOG_RETENTION_DAYS", "30"), minimum=1
        ),
        "WEBHOOK_REQUIRE_HTTPS": require_https,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": _bool(
            "WEBHOOK_ALLOW_PRIVATE_TARGETS", get("WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")
        ),
        "MAIL_SERVER": get("MAIL_SERVER", "") or None,
        "MAIL_PORT": _int("MAIL_PORT", get("MAIL_PORT", "25"), minimum=1),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", get("MAIL_USE_TLS", "false")),
        "MAIL_USERNAME": get("MAIL_USERNAME", "") or None,
        "MAIL_PASSWORD": get("MAIL_PASSWORD", "") or None,
        "MAIL_DEFAULT_SENDER": get("MAIL_DEFAULT_SENDER", "signalpost@localhost"),
        "BASE_URL": base_url,
        "SIGN_IN_LINK_TTL": _sign_in_link_ttl(get("SIGNALPOST_SIGN_IN_LINK_TTL", "300")),
        # Where Signalpost's own notices go (app/services/operator_notices.py); None: nowhere.
        "OPERATOR_WEBHOOK_URL": operator_url,
        "OPERATOR_WEBHOOK_SECRET": operator_secret,
        "METRICS_PUBLIC": _bool(
            "SIGNALPOST_METRICS_PUBLIC", get("SIGNALPOST_METRICS_PUBLIC", "false")
        ),
        "METRICS_DIR": _metrics_dir(
            get("PROMETHEUS_MULTIPROC_DIR", str(instance_path / "metrics"))
        ),
        "TESTING": _bool("TESTING", str(env.get("TESTING", "false"))),
    }
    # Largest request body: event data may arrive \u-escaped (up to three times its UTF-8 size)
    # inside the request's own JSON; the data's limit itself is checked exactly by the service.
    config["MAX_CONTENT_LENGTH"] = 3 * config["WEBHOOK_MAX_PAYLOAD_BYTES"] + 64 * 1024
    return config
