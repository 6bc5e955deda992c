"""The household passbook (积分存折): a printable yearly statement, for staff and on the card page."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, make_response, render_template, request, url_for

from .. import passbook as passbook_domain
from ..models import Household, Village
from .access import household_or_404, village_view
from .cards import _open, _private

bp = Blueprint("passbook", __name__)


def _year() -> int:
    year = request.args.get("year", type=int)
    this_year = dt.date.today().year
    return year if year is not None and 2000 <= year <= this_year else this_year


def _render(village: Village, household: Household, back_url: str):
    year = _year()
    book = passbook_domain.passbook(household, year)
    return render_template(
        "passbook/passbook.html", village=village, book=book, back_url=back_url,
        years=list(range(dt.date.today().year, max(2000, dt.date.today().year - 5) - 1, -1)),
    )


@bp.route("/v/<slug>/households/<code>/passbook")
@village_view()
def staff(village: Village, code: str):
    household = household_or_404(village, code)
    return _render(village, household, url_for("households.show", slug=village.slug, code=household.code))


@bp.route("/h/<token>/passbook")
def own(token: str):
    household, refused = _open(token)
    if refused is not None:
        return refused
    return _private(make_response(_render(household.village, household, url_for("cards.own", token=token))))
