from flask import Blueprint

from .access import role_required, village_view

bp = Blueprint("villages", __name__)


@bp.route("/villages")
@role_required("admin")
def index():
    return "TODO"


@bp.route("/villages/new")
@role_required("admin")
def new():
    return "TODO"


@bp.route("/v/<slug>/settings")
@village_view("admin")
def edit(village):
    return "TODO"
