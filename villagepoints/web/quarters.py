"""Quarters and the year: tally, ranking, red and black lists, publication, objections, stars."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import annual, households, ledger, publication
from ..annual import AnnualError
from ..extensions import db
from ..models import (
    OBJECTION_STATUSES,
    QUARTER_STATUSES,
    Entry,
    Objection,
    Publication,
    QuarterState,
    Village,
)
from ..publication import PublicationError
from ..quarters import BadQuarter, Quarter
from .access import village_view
from .forms_base import show_error
from .quarters_forms import (
    MAX_STARS,
    AnswerForm,
    CloseForm,
    ObjectionForm,
    PublishForm,
    ReopenForm,
    StarBandsForm,
)

bp = Blueprint("quarters", __name__)

# The quarter list shows the current quarter and this many before it.
PAST_QUARTERS = 8
# Years a page may be asked for; others are not in any village's records.
YEARS = range(2000, 2101)
SORTS = {"score": "按排名", "code": "按户编号", "group": "按小组"}
NO_GROUP = "none"


@dataclass
class QuarterRow:
    quarter: Quarter
    status: str
    version: int
    publication: Optional[Publication]


@dataclass
class Ranking:
    """The ranking table as asked for: its rows, the groups to filter by, the chosen group and order."""

    rows: list[dict]
    groups: list[tuple[str, str]]
    group: str
    sort: str


def _quarter_or_404(text: str) -> Quarter:
    try:
        quarter = Quarter.parse(text)
    except BadQuarter:
        abort(404)
    if quarter.year not in YEARS:
        abort(404)
    return quarter


def _quarter_url(village: Village, quarter: Quarter, anchor: Optional[str] = None) -> str:
    return url_for("quarters.show", slug=village.slug, quarter=str(quarter), _anchor=anchor)


@bp.route("/v/<slug>/quarters")
@village_view()
def index(village: Village):
    today = dt.date.today()
    return render_template(
        "quarters/index.html", village=village, rows=_quarter_rows(village, today),
        current=Quarter.of(today), STATUSES=QUARTER_STATUSES,
    )


@bp.route("/v/<slug>/quarters/<quarter>")
@village_view()
def show(village: Village, quarter: str):
    return _page(village, _quarter_or_404(quarter))


@bp.route("/v/<slug>/quarters/<quarter>/v/<int:version>")
@village_view()
def show_version(village: Village, quarter: str, version: int):
    q = _quarter_or_404(quarter)
    pub = db.session.execute(
        db.select(Publication).filter_by(village_id=village.id, quarter=str(q), version=version)
    ).scalar_one_or_none()
    if pub is None:
        abort(404)
    if pub.status == "current":
        return redirect(_quarter_url(village, q))
    numbers = publication.snapshot_of(pub)
    return render_template(
        "quarters/version.html", village=village, quarter=q, pub=pub, numbers=numbers,
        ranking=_ranking(village, numbers["tally"]), sorts=SORTS,
    )


@bp.route("/v/<slug>/quarters/<quarter>/publish", methods=["POST"])
@village_view("reviewer")
def publish(village: Village, quarter: str):
    """Publish in two steps: the first shows what will be frozen, the second (confirm=yes) freezes it."""
    q = _quarter_or_404(quarter)
    form = PublishForm()
    today = dt.date.today()
    if not form.validate_on_submit():
        return _page(village, q, publish_form=form)
    try:
        preview = publication.publish_preview(village, q, today=today)
    except PublicationError as exc:
        return _refused(village, q, exc, publish_form=form)
    if form.confirm.data != "yes" or form.expected.data != _signature(preview):
        if form.confirm.data == "yes":
            flash("您核对之后本季度的数字有变化，请重新核对再确认公示", "warning")
        db.session.rollback()
        form.expected.data = _signature(preview)
        return render_template(
            "quarters/publish_confirm.html", village=village, quarter=q, form=form, preview=preview,
            notice_ends_on=today + dt.timedelta(days=form.notice_days.data - 1), today=today,
        )
    try:
        pub = publication.publish(
            current_user, village, q, notice_days=form.notice_days.data, contact=form.contact.data, today=today
        )
    except PublicationError as exc:
        return _refused(village, q, exc, publish_form=form)
    db.session.commit()
    flash(f"{q.label}已公示（第{pub.version}版），公示期至 {_day(pub.notice_ends_on)}", "success")
    return redirect(_quarter_url(village, q))


def _signature(preview: publication.PublishPreview) -> str:
    """The numbers a reviewer confirmed, written so a change between the two steps is seen."""
    return f"{preview.version}-{preview.households}-{preview.entries}-{preview.red}-{preview.black}"


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@bp.route("/v/<slug>/quarters/<quarter>/reopen", methods=["POST"])
@village_view("admin")
def reopen(village: Village, quarter: str):
    q = _quarter_or_404(quarter)
    form = ReopenForm()
    if not form.validate_on_submit():
        return _page(village, q, reopen_form=form)
    try:
        publication.reopen(current_user, village, q, form.reason.data)
    except PublicationError as exc:
        return _refused(village, q, exc, reopen_form=form)
    db.session.commit()
    flash(f"{q.label}已重新开放，原公示保留为已作废版本；改好后请重新公示", "success")
    return redirect(_quarter_url(village, q))


@bp.route("/v/<slug>/quarters/<quarter>/close", methods=["POST"])
@village_view("reviewer")
def close(village: Village, quarter: str):
    q = _quarter_or_404(quarter)
    form = CloseForm()
    if not form.validate_on_submit():
        return _page(village, q)
    try:
        publication.close(current_user, village, q)
    except PublicationError as exc:
        return _refused(village, q, exc)
    db.session.commit()
    flash(f"{q.label}已结束", "success")
    return redirect(_quarter_url(village, q))


@bp.route("/v/<slug>/quarters/<quarter>/objections", methods=["POST"])
@village_view("reviewer", "clerk")
def raise_objection(village: Village, quarter: str):
    q = _quarter_or_404(quarter)
    form = ObjectionForm()
    if not form.validate_on_submit():
        return _page(village, q, objection_form=form)
    household = households.get_household(village, form.household.data.strip())
    if household is None:
        form.household.errors = [f"找不到户编号为“{form.household.data.strip()}”的农户"]
        return _page(village, q, objection_form=form)
    try:
        objection = publication.raise_objection(
            current_user, village, q, household, form.raised_by.data, form.content.data
        )
    except PublicationError as exc:
        return _refused(village, q, exc, objection_form=form)
    db.session.commit()
    flash(f"已登记异议 #{objection.id}（{ledger.household_label(household)}）", "success")
    return redirect(_quarter_url(village, q, "objections"))


@bp.route("/v/<slug>/quarters/<quarter>/objections/<int:objection_id>/answer", methods=["GET", "POST"])
@village_view("reviewer")
def answer_objection(village: Village, quarter: str, objection_id: int):
    q = _quarter_or_404(quarter)
    objection = _objection_or_404(village, q, objection_id)
    if objection.status != "open":
        flash(f"异议 #{objection.id} 已经答复过", "info")
        return redirect(_quarter_url(village, q, "objections"))
    form = AnswerForm()
    form.offer_entries(_correction_candidates(objection, q))
    if form.validate_on_submit():
        upheld = form.upheld.data == "yes"
        entry = db.session.get(Entry, form.correcting_entry.data) if upheld and form.correcting_entry.data else None
        try:
            publication.answer_objection(current_user, objection, upheld, form.answer.data, entry)
        except PublicationError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            message = f"已答复异议 #{objection.id}"
            if upheld and ledger.quarter_status(village, q) == "open":
                message += f"。改正后请重新公示{q.label}"
            flash(message, "success")
            return redirect(_quarter_url(village, q, "objections"))
    return render_template(
        "quarters/answer.html", village=village, quarter=q, objection=objection, form=form,
        status=ledger.quarter_status(village, q),
    )


@bp.route("/v/<slug>/years/<int:year>", methods=["GET"])
@village_view()
def show_year(village: Village, year: int):
    return _year_page(village, _year_or_404(year))


@bp.route("/v/<slug>/years/<int:year>/stars", methods=["POST"])
@village_view("admin")
def star_bands(village: Village, year: int):
    year = _year_or_404(year)
    form = StarBandsForm()
    if not form.validate_on_submit():
        return _year_page(village, year, form)
    try:
        annual.set_star_bands(current_user, village, year, form.bands())
    except AnnualError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _year_page(village, year, form)
    db.session.commit()
    flash(f"{year}年星级分数线已保存" if form.bands() else f"{year}年不评星级", "success")
    return redirect(url_for(".show_year", slug=village.slug, year=year))


def _year_or_404(year: int) -> int:
    if year not in YEARS:
        abort(404)
    return year


def _year_page(village: Village, year: int, form: Optional[StarBandsForm] = None):
    bands = annual.star_bands(village, year)
    if form is None:
        by_stars = dict(bands)
        form = StarBandsForm(formdata=None, data={f"star{n}": by_stars.get(n) for n in range(1, MAX_STARS + 1)})
    quarters = [Quarter(year, n) for n in range(1, 5)]
    states = _states(village, [str(q) for q in quarters])
    return render_template(
        "quarters/year.html", village=village, year=year, rows=annual.year_rows(village, year),
        bands=sorted(bands), form=form, quarters=quarters, states=states, STATUSES=QUARTER_STATUSES,
        this_year=dt.date.today().year,
    )


def _page(village: Village, quarter: Quarter, *, publish_form=None, reopen_form=None, objection_form=None):
    """Render a quarter's page; forms passed in are shown with their errors."""
    numbers, pub = publication.shown_numbers(village, quarter)
    status = ledger.quarter_status(village, quarter)
    today = dt.date.today()
    if publish_form is None:
        publish_form = PublishForm(
            formdata=None, data={"notice_days": village.notice_days, "contact": village.objection_contact}
        )
    return render_template(
        "quarters/show.html", village=village, quarter=quarter, numbers=numbers, pub=pub, status=status,
        STATUSES=QUARTER_STATUSES, OBJECTION_STATUSES=OBJECTION_STATUSES,
        ranking=_ranking(village, numbers["tally"]), sorts=SORTS,
        versions=publication.publications_of(village, quarter),
        objections=_objections(village, quarter),
        pending=publication.pending_count(village, quarter) if status == "open" else 0,
        started=quarter.first_day <= today,
        notice_open=pub is not None and pub.notice_starts_on <= today <= pub.notice_ends_on,
        notice_over=pub is not None and today > pub.notice_ends_on,
        publish_form=publish_form, reopen_form=reopen_form or ReopenForm(formdata=None),
        close_form=CloseForm(formdata=None), objection_form=objection_form or ObjectionForm(formdata=None),
    )


def _refused(village: Village, quarter: Quarter, exc: PublicationError, **forms):
    db.session.rollback()
    shown = False
    for form in forms.values():
        shown = show_error(form, exc, flash_otherwise=False) or shown
    if not shown:
        flash(str(exc), "danger")
    return _page(village, quarter, **forms)


def _ranking(village: Village, tally: list[dict]) -> Ranking:
    """Filter the tally rows by ?group= and order them by ?sort=; ranks stay village-wide."""
    order = {g.id: i for i, g in enumerate(village.groups)}
    seen: dict[str, str] = {}
    for row in tally:
        seen.setdefault(_group_key(row), row["group"] or "未分组")
    groups = sorted(seen.items(), key=lambda kv: (kv[0] == NO_GROUP, order.get(_int(kv[0]), len(order)), kv[1]))
    group = request.args.get("group", "")
    sort = request.args.get("sort", "score")
    sort = sort if sort in SORTS else "score"
    rows = [r for r in tally if not group or _group_key(r) == group]
    if sort == "code":
        rows = sorted(rows, key=lambda r: r["code"])
    elif sort == "group":
        # Groups in the village's own order; a group renamed or removed since publishing goes last.
        rows = sorted(rows, key=lambda r: (r["group_id"] is None, order.get(r["group_id"], len(order)),
                                           r["group"], r["rank"], r["code"]))
    return Ranking(rows, groups, group, sort)


def _group_key(row: dict) -> str:
    return NO_GROUP if row["group_id"] is None else str(row["group_id"])


def _int(text: str) -> Optional[int]:
    return int(text) if text.isdigit() else None


def _states(village: Village, quarters: list[str]) -> dict[str, QuarterState]:
    rows = db.session.execute(
        db.select(QuarterState).where(QuarterState.village_id == village.id, QuarterState.quarter.in_(quarters))
    ).scalars()
    return {s.quarter: s for s in rows}


def _quarter_rows(village: Village, today: dt.date) -> list[QuarterRow]:
    """List the current quarter, the eight before it and any other quarter with a state, newest first."""
    recent = [Quarter.of(today)]
    for _ in range(PAST_QUARTERS):
        recent.append(recent[-1].previous())
    states = {
        s.quarter: s for s in db.session.execute(db.select(QuarterState).filter_by(village_id=village.id)).scalars()
    }
    current = {
        p.quarter: p for p in db.session.execute(
            db.select(Publication).filter_by(village_id=village.id, status="current")
        ).scalars()
    }
    quarters = set(recent) | {Quarter.parse(text) for text in states}
    return [
        QuarterRow(
            q,
            states[str(q)].status if str(q) in states else "open",
            states[str(q)].version if str(q) in states else 0,
            current.get(str(q)),
        )
        for q in sorted(quarters, reverse=True)
    ]


def _objections(village: Village, quarter: Quarter) -> list[Objection]:
    return list(db.session.execute(
        db.select(Objection)
        .join(Publication, Publication.id == Objection.publication_id)
        .where(Objection.village_id == village.id, Publication.quarter == str(quarter))
        .options(joinedload(Objection.household), joinedload(Objection.publication),
                 joinedload(Objection.correcting_entry))
        .order_by(Objection.id)
    ).scalars())


def _objection_or_404(village: Village, quarter: Quarter, objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.village_id != village.id or objection.publication.quarter != str(quarter):
        abort(404)
    return objection


def _correction_candidates(objection: Objection, quarter: Quarter) -> list[Entry]:
    """Return the household's live entries dated in the quarter, most recently made first.

    Made, not dated: a reversal carries its original's date, and the correction is
    usually the entry made last.
    """
    return list(db.session.execute(
        db.select(Entry).where(
            Entry.household_id == objection.household_id,
            Entry.status.in_(ledger.LIVE_STATUSES),
            Entry.entry_date.between(quarter.first_day, quarter.last_day),
        ).order_by(Entry.id.desc())
    ).scalars())
