"""The webhook pages: list, form, secret, test send and logs, all under /webhooks."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.before_request
@login_required
def require_sign_in() -> None:
    """Every page here is about the signed-in user's own webhooks."""


from app.webhooks import endpoint, logs, routes, secrets  # noqa: E402,F401  (registers the views on bp)
