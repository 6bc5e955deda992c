from flask import Blueprint

from .access import village_view

bp = Blueprint("households", __name__)


@bp.route("/v/<slug>/households")
@village_view()
def index(village):
    return "TODO"
