from flask import Blueprint

from .access import village_view

bp = Blueprint("imports", __name__)


@bp.route("/v/<slug>/import")
@village_view("clerk")
def upload(village):
    return "TODO"
