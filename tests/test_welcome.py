"""What make run prints last (`flask welcome`) and the receiver for trying out (`listen`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.domain import signing
from app.extensions import db
from app.listen import describe, listener
from app.models import User
from app.services.delivery import test_send
from app.welcome import box, wait_until_up, welcome_lines
from tests.support.processes import free_port


def test_the_box_frames_every_line_to_one_width():
    framed = box(["Signalpost is running at http://127.0.0.1:5000", "", "short"]).splitlines()
    assert len({len(line) for line in framed}) == 1
    assert framed[0] == framed[-1] == "+" + "-" * 48 + "+"
    assert framed[1] == "| Signalpost is running at http://127.0.0.1:5000 |"


def test_a_new_admin_password_is_shown_and_an_old_one_says_how_to_reset_it():
    new = "\n".join(welcome_lines("http://127.0.0.1:5050", "a@example.com", "s3cret-pw"))
    assert "http://127.0.0.1:5050" in new and "password: s3cret-pw  (shown only now)" in new
    old = "\n".join(welcome_lines("http://127.0.0.1:5050", "a@example.com", None))
    assert "s3cret" not in old and "flask --app app users set-password a@example.com" in old
    assert "flask --app app webhooks list --user a@example.com" in old


def test_welcome_names_the_first_admin_and_creates_none_when_there_is_one(runner, make_user):
    make_user(is_admin=True)  # the suite's database has an admin from here on
    first = db.session.scalar(
        sa.select(User.email).where(User.is_admin.is_(True)).order_by(User.id).limit(1)
    )
    admins = db.session.scalar(sa.select(sa.func.count()).where(User.is_admin.is_(True)))

    shown = runner.invoke(args=["welcome"])

    assert shown.exit_code == 0, shown.output
    assert f"Sign in as {first}; lost the password?" in shown.output
    assert db.session.scalar(sa.select(sa.func.count()).where(User.is_admin.is_(True))) == admins


def test_waiting_names_what_did_not_answer(make_app, tmp_path):
    # A broker of its own that no worker consumes, and a port nothing listens on.
    alone = make_app(
        CELERY_BROKER_URL="filesystem://localhost/", SIGNALPOST_BROKER_DIR=str(tmp_path)
    )
    nobody = f"http://127.0.0.1:{free_port()}"
    assert wait_until_up(nobody, alone.extensions["celery"], 1) == ["the web UI", "the worker"]


@pytest.fixture
def serve(app) -> Iterator[Callable[..., str]]:
    servers = []

    def start(wsgi) -> str:
        server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_waiting_ends_when_the_web_ui_and_a_worker_answer(app, worker, serve):
    assert wait_until_up(serve(app), app.extensions["celery"], 30) == []


def test_describe_checks_the_signature_when_given_the_secret():
    secret = signing.generate_secret()
    body = b'{"id":"evt_1","event":"custom","timestamp":"2026-02-01T10:30:00Z","data":{}}'
    headers = {**signing.signature_headers([secret], "evt_1", 1738384200, body)}
    headers["X-Webhook-Event"] = "custom"
    assert "evt_1 custom: signature OK" in describe(headers, body, secret)
    assert "signature WRONG" in describe(headers, body + b" ", secret)
    assert "signature WRONG" in describe(headers, body, signing.generate_secret())
    assert "signature not checked" in describe(headers, body, None)
    assert body.decode() in describe(headers, body, None)


def test_the_listener_shows_a_real_delivery_and_verifies_it(make_webhook, serve):
    shown: list[str] = []
    webhook, secret = make_webhook("http://127.0.0.1:1/hook")
    webhook.url = serve(listener(secret, shown.append)) + "/hook"
    db.session.commit()

    answer = test_send.test_webhook(webhook, "price_above")

    assert answer["success"] and answer["status_code"] == 200
    [line] = shown
    assert " price_above: signature OK" in line and '"event":"price_above"' in line
