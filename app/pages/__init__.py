from flask import Blueprint
from flask_login import login_required

from app.pages import display

bp = Blueprint("pages", __name__)
bp.record_once(lambda state: display.register(state.app))


@bp.before_request
@login_required
def require_sign_in() -> None:
    """Every page here is about the signed-in user's own webhooks."""


from app.pages import logs, routes, secrets  # noqa: E402,F401  (registers the views on bp)
