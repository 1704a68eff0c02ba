"""Operator keys on the admin pages: list, create (the key shown once) and revoke.

Every POST answers with a redirect; a new key reaches the page that shows it through
`app.shown_once`.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import StringField, SubmitField

from app import shown_once
from app.admin import bp
from app.security_headers import shows_secret
from app.service_form import ServiceForm
from app.services import operator_keys
from app.services.errors import ServiceError

NEW_KEY = "new_operator_key"


class KeyForm(ServiceForm):
    name = StringField("Name", description="What will use it, e.g. “trading app backend”.")
    submit = SubmitField("Create key")


@bp.get("/keys")
@shows_secret
def keys() -> ResponseReturnValue:
    """The operator keys, and a key just made, this one time."""
    return render_template(
        "admin/keys.html",
        form=KeyForm(formdata=None),
        new_key=shown_once.take(NEW_KEY),
        keys=operator_keys.list_keys(),
    )


@bp.post("/keys")
def create_key() -> ResponseReturnValue:
    """Make a key; the next page shows it once."""
    # The CSRF token was checked before the view ran (CSRFProtect), as on every form post.
    try:
        key, plaintext = operator_keys.create_key(request.form.get("name", ""))
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        shown_once.keep(NEW_KEY, plaintext)
        flash(f"Operator key {key.name!r} created.", "success")
    return redirect(url_for("admin.keys"))


@bp.post("/keys/<id:key_id>/revoke")
def revoke_key(key_id: int) -> ResponseReturnValue:
    """Revoke a key: calls that use it are refused from now on."""
    key = operator_keys.revoke_key(key_id)
    flash(f"Operator key {key.name!r} revoked. Calls that use it are now refused.", "success")
    return redirect(url_for("admin.keys"))
