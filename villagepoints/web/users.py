from flask import Blueprint

from .access import role_required

bp = Blueprint("users", __name__)


@bp.route("/users")
@role_required("admin")
def index():
    return "TODO"
