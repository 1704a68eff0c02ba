"""401, 403, 404 and 500 are pages in the same look as the rest."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized

from app.errors import handle_http_error, handle_unexpected


@pytest.mark.parametrize(
    ("error", "status"), [(Unauthorized(), 401), (Forbidden(), 403), (NotFound(), 404)]
)
def test_http_errors_are_pages_in_the_site_layout(app, error, status):
    with app.test_request_context("/webhooks"):
        body, code = handle_http_error(error)
    assert code == status
    assert 'class="topbar"' in body and "signalpost.css" in body
    assert f'class="error-status">{status}<' in body


def test_a_server_error_page_does_not_need_the_database(app, caplog):
    with app.test_request_context("/webhooks"):
        body, code = handle_unexpected(RuntimeError("boom"))
    assert code == 500
    assert 'class="topbar"' in body and 'class="error-status">500<' in body
    assert "Sign out" not in body and "boom" not in body
