"""Pages for residents, without login: the village's public board and a household's own lookup."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, make_response, render_template, request, url_for

from .. import resident, villages
from ..extensions import db
from ..models import Village
from .public_forms import LookupForm

bp = Blueprint("public", __name__)

# An office screen reloads itself at most every 10 s and at least once an hour.
REFRESH_MIN_S = 10
REFRESH_MAX_S = 3600
# Ranking rows on one page of the big screen, in its large type.
SCREEN_ROWS = 12


def _village_or_404(slug: str) -> Village:
    village = villages.get_by_slug(slug)
    if village is None:
        abort(404)
    return village


def _refresh_seconds() -> Optional[int]:
    seconds = request.args.get("refresh", type=int)
    if seconds is None or seconds <= 0:
        return None
    return min(max(seconds, REFRESH_MIN_S), REFRESH_MAX_S)


@bp.route("/board/<slug>")
def board(slug: str):
    village = _village_or_404(slug)
    shown = resident.board(village)
    refresh = _refresh_seconds()
    screen = None
    if shown is not None and refresh:
        # The big screen turns the ranking's pages by itself: each reload asks for the next page.
        rows, page, pages = resident.ranking_page(shown["ranking"], request.args.get("page", 1, type=int), SCREEN_ROWS)
        screen = {"rows": rows, "page": page, "pages": pages,
                  "next_url": url_for("public.board", slug=village.slug, refresh=refresh,
                                      page=page % pages + 1)}
    return render_template(
        "public/board.html", village=village, board=shown, refresh=refresh, screen=screen,
        groups=resident.ranking_by_group(village, shown["ranking"]) if shown else [],
        board_url=url_for("public.board", slug=village.slug, _external=True),
    )


@bp.route("/board/<slug>/lookup", methods=["GET", "POST"])
def lookup(slug: str):
    village = _village_or_404(slug)
    form = LookupForm()
    found, refused, status = None, None, 200
    if form.validate_on_submit():
        try:
            found = resident.lookup(village, form.code.data, form.id_tail.data, request.remote_addr or "")
        except resident.LookupRefused as exc:
            throttled = isinstance(exc, resident.LookupThrottled)
            # A wrong code or ID tail (it never says which) points back at the first field.
            refused = [(str(exc), "" if throttled else form.code.id)]
            status = 429 if throttled else 200
        # Committed on refusal too: the recorded failure is what throttles the next guess.
        db.session.commit()
    response = make_response(
        render_template("public/lookup.html", village=village, form=form, found=found, refused=refused), status
    )
    # A household's scores on a shared phone or office PC must not come back from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response
