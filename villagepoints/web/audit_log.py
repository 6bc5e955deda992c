from flask import Blueprint

from .access import role_required

bp = Blueprint("audit_log", __name__)


@bp.route("/audit")
@role_required("admin")
def index():
    return "TODO"
