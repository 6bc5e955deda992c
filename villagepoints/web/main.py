"""The home page: the villages a user can open."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import villages

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    mine = villages.villages_for(current_user)
    if len(mine) == 1 and not current_user.is_admin:
        return redirect(url_for("households.index", slug=mine[0].slug))
    return render_template("main/index.html", villages=mine)
