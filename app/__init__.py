"""Signalpost: self-hosted webhook delivery."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from app import config as configuration
from app import security_headers, sessions
from app.celery_app import celery_init_app
from app.converters import IdConverter
from app.errors import register_errorhandlers
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.version import __version__

__all__ = ["create_app", "__version__"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; `config` overrides environment variables (tests use it)."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    try:
        app.config.update(configuration.load(Path(app.instance_path), config))
    except configuration.ConfigError as exc:
        raise SystemExit(f"Signalpost configuration error: {exc}") from None
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_commands(app)
    celery_init_app(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    security_headers.register(app)
    login_manager.user_loader(sessions.load_user)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    # The JSON API answers 401 rather than redirecting to the sign-in page.
    login_manager.blueprint_login_views = {"api": None}


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.main import bp as main_bp
    from app.webhooks import bp as webhooks_bp

    # Pages and API alike name rows by `<id:...>`: a number past the database's range is a 404.
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals every area's templates use (base.html and macros.html among them)."""
    from app import template_helpers

    template_helpers.register(app)


def register_commands(app: Flask) -> None:
    from app.cli import keys_cli, users_cli, webhooks_cli
    from app.listen import listen
    from app.welcome import welcome

    webhooks_cli.add_command(listen)
    app.cli.add_command(users_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(welcome)


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite enforces foreign keys only when asked, and needs WAL for web + worker at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
