from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin() -> None:
    """Signed-in admins only; anyone else signed in gets 403."""
    if not current_user.is_admin:
        abort(403, "This page is for administrators.")


from app.admin import deliveries, keys, routes, users  # noqa: E402,F401  (registers the views on bp)
