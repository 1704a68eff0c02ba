"""Configuration comes from the environment and is refused early, naming the variable."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from app import config, create_app


def load(tmp_path, **overrides):
    return config.load(
        tmp_path,
        {
            "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "SECRET_KEY": "k" * 32,
            **overrides,
        },
    )


def test_defaults_follow_the_contract(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "WEBHOOK_RETRY_DELAYS", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load(tmp_path)
    assert settings["WEBHOOK_RETRY_DELAYS"] == (60, 300, 900)
    assert settings["WEBHOOK_FAILURE_THRESHOLD"] == 10
    assert settings["WEBHOOK_RATE_LIMIT"] == (10, 60)
    assert settings["WEBHOOK_MAX_PER_USER"] == 100
    assert settings["WEBHOOK_TIMEOUT"] == 10
    assert settings["WEBHOOK_MAX_PAYLOAD_BYTES"] == 262144
    assert settings["WEBHOOK_LOG_RETENTION_DAYS"] == 30
    assert settings["WEBHOOK_REQUIRE_HTTPS"] is True
    assert settings["WEBHOOK_ALLOW_PRIVATE_TARGETS"] is False
    assert settings["WEBHOOK_EVENT_TTL"] == {"price_above": 900, "price_below": 900}
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["CELERY_BROKER_URL"].startswith("filesystem://")
    assert settings["SIGN_IN_LINK_TTL"] == 300


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_RETRY_DELAYS", "60,soon", "WEBHOOK_RETRY_DELAYS must be a whole number"),
        ("WEBHOOK_FAILURE_THRESHOLD", "0", "WEBHOOK_FAILURE_THRESHOLD must be at least 1"),
        ("WEBHOOK_RATE_LIMIT", "10 per minute", "WEBHOOK_RATE_LIMIT must look like 10/minute"),
        ("WEBHOOK_REQUIRE_HTTPS", "maybe", "WEBHOOK_REQUIRE_HTTPS must be true or false"),
        ("WEBHOOK_ENCRYPTION_KEY", "short", "WEBHOOK_ENCRYPTION_KEY must be a Fernet key"),
        ("DATABASE_POOL_SIZE", "0", "DATABASE_POOL_SIZE must be at least 1"),
        ("SECRET_KEY", "a", "SECRET_KEY must be at least 32 bytes long, not 1"),
        ("SECRET_KEY", "k" * 31, "SECRET_KEY must be at least 32 bytes long, not 31"),
        ("SIGNALPOST_REGISTRATION", "sometimes", "SIGNALPOST_REGISTRATION must be one of open"),
        ("SIGNALPOST_FRAME_ANCESTORS", "'self'; script-src *", "SIGNALPOST_FRAME_ANCESTORS must"),
        ("SIGNALPOST_SECURE_COOKIES", "maybe", "SIGNALPOST_SECURE_COOKIES must be true or false"),
        ("WEBHOOK_EVENT_TTL", "price=900", "WEBHOOK_EVENT_TTL: unknown event type 'price'"),
        ("WEBHOOK_EVENT_TTL", "price_above=0", "WEBHOOK_EVENT_TTL must be at least 1"),
        ("WEBHOOK_EVENT_TTL", "price_above", "WEBHOOK_EVENT_TTL must be a whole number"),
        ("SIGNALPOST_SIGN_IN_LINK_TTL", "0", "SIGNALPOST_SIGN_IN_LINK_TTL must be at least 1"),
        ("SIGNALPOST_SIGN_IN_LINK_TTL", "5m", "SIGNALPOST_SIGN_IN_LINK_TTL must be a whole number"),
        ("SIGNALPOST_SIGN_IN_LINK_TTL", "3601", "SIGNALPOST_SIGN_IN_LINK_TTL must be at most"),
    ],
)
def test_bad_values_are_refused_by_name(tmp_path, name, value, message):
    with pytest.raises(config.ConfigError, match=message):
        load(tmp_path, **{name: value})


def test_create_app_stops_with_a_clear_message(tmp_path):
    with pytest.raises(SystemExit, match="configuration error: WEBHOOK_TIMEOUT"):
        create_app(
            {
                "WEBHOOK_TIMEOUT": "ten",
                "SECRET_KEY": "k" * 32,
                "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            }
        )


def test_rates_and_postgres_urls_are_normalised(tmp_path):
    settings = load(
        tmp_path, WEBHOOK_RATE_LIMIT="100/hours", DATABASE_URL="postgres://u@db/signalpost"
    )
    assert settings["WEBHOOK_RATE_LIMIT"] == (100, 3600)
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/signalpost"


def test_postgres_connections_are_pooled_as_configured(tmp_path):
    postgres = load(tmp_path, DATABASE_URL="postgresql://u@db/s", DATABASE_POOL_SIZE="32")
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "pool_size": 32,
        "max_overflow": 32,
    }
    sqlite = load(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/s.sqlite", DATABASE_POOL_SIZE="32")
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


def test_postgres_has_a_second_pool_of_the_same_size_that_commits_asynchronously(tmp_path):
    postgres = load(tmp_path, DATABASE_URL="postgresql://u@db/s", DATABASE_POOL_SIZE="32")
    assert postgres["SQLALCHEMY_BINDS"] == {
        config.PROGRESS_BIND: {
            "url": "postgresql+psycopg://u@db/s",
            "pool_pre_ping": True,
            "pool_size": 32,
            "max_overflow": 32,
            "connect_args": {"options": "-c synchronous_commit=off"},
            "isolation_level": "AUTOCOMMIT",
        }
    }
    sqlite = load(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/s.sqlite")
    assert sqlite["SQLALCHEMY_BINDS"] == {}


def test_missing_keys_are_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("WEBHOOK_ENCRYPTION_KEY", raising=False)
    first = config.load(tmp_path)
    second = config.load(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["WEBHOOK_ENCRYPTION_KEY"] == second["WEBHOOK_ENCRYPTION_KEY"]
    Fernet(first["WEBHOOK_ENCRYPTION_KEY"])
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_a_short_secret_key_stops_the_app_naming_it(tmp_path):
    with pytest.raises(SystemExit, match="configuration error: SECRET_KEY must be at least 32"):
        create_app({"SECRET_KEY": "a", "WEBHOOK_ENCRYPTION_KEY": Fernet.generate_key().decode()})


def test_cookies_are_secure_when_the_site_is_served_over_https(tmp_path):
    assert load(tmp_path)["SESSION_COOKIE_SECURE"] is False
    https = load(tmp_path, SIGNALPOST_BASE_URL="https://hooks.example.com")
    assert https["SESSION_COOKIE_SECURE"] is True and https["REMEMBER_COOKIE_SECURE"] is True
    assert load(tmp_path, SIGNALPOST_SECURE_COOKIES="true")["SESSION_COOKIE_SECURE"] is True


def test_embedding_across_sites_needs_a_cookie_sent_in_frames(tmp_path):
    assert load(tmp_path)["SESSION_COOKIE_SAMESITE"] == "Lax"
    embedded = load(
        tmp_path,
        SIGNALPOST_BASE_URL="https://hooks.example.com",
        SIGNALPOST_FRAME_ANCESTORS="https://app.example.com, https://*.example.org:8443",
    )
    assert embedded["FRAME_ANCESTORS"] == ("https://app.example.com", "https://*.example.org:8443")
    assert embedded["SESSION_COOKIE_SAMESITE"] == "None"
    # SameSite=None needs Secure, which a browser refuses over plain http: Lax then.
    plain = load(tmp_path, SIGNALPOST_FRAME_ANCESTORS="http://localhost:8000")
    assert plain["SESSION_COOKIE_SAMESITE"] == "Lax"


GOOD_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SIGNALPOST_OPERATOR_WEBHOOK_URL": "https://host.example/notices"}, "Set both"),
        ({"SIGNALPOST_OPERATOR_WEBHOOK_SECRET": GOOD_SECRET}, "Set both"),
        (
            {"SIGNALPOST_OPERATOR_WEBHOOK_URL": "ftp://host.example/"},
            "SIGNALPOST_OPERATOR_WEBHOOK_URL is not usable",
        ),
        (
            {"SIGNALPOST_OPERATOR_WEBHOOK_URL": "http://host.example/"},
            "SIGNALPOST_OPERATOR_WEBHOOK_URL is not usable: The URL must use https",
        ),
        (
            {"SIGNALPOST_OPERATOR_WEBHOOK_SECRET": "sekrit"},
            "SIGNALPOST_OPERATOR_WEBHOOK_SECRET must",
        ),
        (
            {"SIGNALPOST_OPERATOR_WEBHOOK_SECRET": "whsec_not base64!"},
            "SIGNALPOST_OPERATOR_WEBHOOK_SECRET must",
        ),
        (
            {"SIGNALPOST_OPERATOR_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"short").decode()},
            "SIGNALPOST_OPERATOR_WEBHOOK_SECRET must",
        ),
    ],
)
def test_the_operator_webhook_is_checked_at_start(tmp_path, overrides, message):
    given = {
        "SIGNALPOST_OPERATOR_WEBHOOK_URL": "https://host.example/notices",
        "SIGNALPOST_OPERATOR_WEBHOOK_SECRET": GOOD_SECRET,
    }
    given = {name: overrides.get(name, value) for name, value in given.items()}
    if "Set both" in message:
        given = overrides
    with pytest.raises(config.ConfigError, match=message):
        load(tmp_path, **given)


def test_the_operator_webhook_is_off_unless_both_are_set(tmp_path):
    assert load(tmp_path)["OPERATOR_WEBHOOK_URL"] is None
    settings = load(
        tmp_path,
        SIGNALPOST_OPERATOR_WEBHOOK_URL="https://host.example/notices",
        SIGNALPOST_OPERATOR_WEBHOOK_SECRET=GOOD_SECRET,
    )
    assert settings["OPERATOR_WEBHOOK_URL"] == "https://host.example/notices"
    assert settings["OPERATOR_WEBHOOK_SECRET"] == GOOD_SECRET
