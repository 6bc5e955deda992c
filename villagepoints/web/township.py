"""The township's pages: its villages side by side for a quarter, charts, and the workbook."""
from __future__ import annotations

import datetime as dt
import tempfile
from urllib.parse import quote

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import login_required

from .. import chart_data, rollup, townships
from ..exports import XLSX_MIMETYPE
from ..exports import township as township_export
from ..quarters import BadQuarter, Quarter
from .access import role_required, township_for_user

bp = Blueprint("township", __name__)

# The quarter picker offers the current quarter and this many before it.
PAST_QUARTERS = 7
TOP = 10
# A township's black list can run to thousands of households; the page names the lowest.
BLACK_SHOWN = 50
SORTS = {
    "rank": "名次", "name": "村", "households": "参评户数", "participating": "参与户数",
    "participation_rate": "参与率", "average_score": "平均分", "below_base": "低于基础分",
    "red": "红榜", "black": "黑榜", "pending": "待审核", "redeemed_points": "兑换积分",
}


def _quarter(text: str | None, today: dt.date) -> Quarter:
    if not text:
        return Quarter.of(today)
    try:
        quarter = Quarter.parse(text)
    except BadQuarter:
        abort(404)
    if not 2000 <= quarter.year <= 2100:
        abort(404)
    return quarter


def _sorted(rows: list[rollup.VillageRow], key: str, descending: bool) -> list[rollup.VillageRow]:
    if key == "name":
        return sorted(rows, key=lambda r: r.village, reverse=descending)
    return sorted(rows, key=lambda r: (getattr(r, key), r.rank), reverse=descending)


@bp.route("/townships")
@role_required("admin")
def index():
    rows = [(t, townships.villages_of(t)) for t in townships.all_townships()]
    return render_template("township/index.html", rows=rows)


@bp.route("/t/<slug>")
@login_required
def dashboard(slug: str):
    township = township_for_user(slug)
    today = dt.date.today()
    quarter = _quarter(request.args.get("quarter"), today)
    sort = request.args.get("sort", "rank")
    if sort not in SORTS:
        sort = "rank"
    descending = request.args.get("order", "asc" if sort in ("rank", "name") else "desc") == "desc"
    villages = townships.villages_of(township)
    rows, best, black = rollup.dashboard(villages, quarter, TOP)
    choices = [Quarter.of(today)]
    while len(choices) <= PAST_QUARTERS:
        choices.append(choices[-1].previous())
    return render_template(
        "township/dashboard.html", township=township, quarter=quarter, quarters=choices,
        rows=_sorted(rows, sort, descending), sort=sort, descending=descending, sorts=SORTS,
        unpublished=[r for r in rows if r.published is None],
        backlog=sorted((r for r in rows if r.pending), key=lambda r: -r.pending),
        best=best, black=black, black_shown=BLACK_SHOWN, top=TOP, charts=chart_data.township_charts(villages, rows, quarter),
    )


@bp.route("/t/<slug>/export")
@login_required
def export(slug: str):
    township = township_for_user(slug)
    quarter = _quarter(request.args.get("quarter"), dt.date.today())
    stream = tempfile.TemporaryFile()
    township_export.write(township, townships.villages_of(township), quarter, stream)
    stream.seek(0)
    name, ascii_name = township_export.filename(township, quarter)
    response = send_file(stream, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name, max_age=0)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return response
