"""The home page: the villages a user can open."""
from flask import Blueprint, redirect, render_template
from flask_login import current_user, login_required

from .. import villages
from .access import landing_url

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    mine = villages.villages_for(current_user)
    if len(mine) == 1 and not current_user.is_admin:
        return redirect(landing_url(current_user, mine[0]))
    return render_template("main/index.html", villages=mine, landing_url=landing_url)
