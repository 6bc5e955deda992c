"""The review queue: pending entries, approved or rejected many at once."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from .. import ledger
from ..extensions import db
from ..ledger import LedgerError
from ..models import Entry, Household, Village
from .access import village_view
from .entries import entry_query, filter_choices, read_filters
from .entries_forms import ReviewForm

bp = Blueprint("review", __name__)

# Large enough that a bulk entry for a whole group can be approved in one go.
QUEUE_PER_PAGE = 200
FILTER_KEYS = ("group", "rule", "clerk", "date_from", "date_to")


@bp.route("/v/<slug>/review")
@village_view("reviewer")
def index(village: Village):
    return _queue(village, ReviewForm(), selected=set())


@bp.route("/v/<slug>/review/approve", methods=["POST"])
@village_view("reviewer")
def approve(village: Village):
    form = ReviewForm()
    if not form.validate_on_submit():
        return _queue(village, form, _ids())
    try:
        done = ledger.approve(current_user, _picked(village), _versions())
    except LedgerError as exc:
        return _refused(village, form, exc)
    db.session.commit()
    flash(f"已通过 {len(done)} 条", "success")
    return redirect(_back(village))


@bp.route("/v/<slug>/review/reject", methods=["POST"])
@village_view("reviewer")
def reject(village: Village):
    form = ReviewForm()
    if not form.validate_on_submit():
        return _queue(village, form, _ids())
    try:
        done = ledger.reject(current_user, _picked(village), form.reason.data or "", _versions())
    except LedgerError as exc:
        return _refused(village, form, exc)
    db.session.commit()
    flash(f"已驳回 {len(done)} 条", "success")
    return redirect(_back(village))


def _ids() -> set[int]:
    return set(request.form.getlist("ids", type=int))


def _versions() -> dict[int, int]:
    """Read the version of each ticked entry as the page showed it (the form's version-<id> fields)."""
    versions = {}
    for entry_id in _ids():
        version = request.form.get(f"version-{entry_id}", type=int)
        if version is not None:
            versions[entry_id] = version
    return versions


def _picked(village: Village) -> list[Entry]:
    """Load the ticked entries, refusing any that is not one of this village's."""
    ids = _ids()
    if not ids:
        raise LedgerError("请至少选择一条记录", "ids")
    found = list(db.session.execute(
        db.select(Entry).where(Entry.id.in_(ids), Entry.village_id == village.id)
        .options(joinedload(Entry.household)).order_by(Entry.id)
    ).scalars())
    if len(found) != len(ids):
        raise LedgerError("所选记录不存在或不属于本村，请刷新页面后重新选择", "ids")
    return found


def _from_entry_page() -> int | None:
    """Return the entry id when the buttons on an entry's own page were used."""
    ids = _ids()
    return next(iter(ids)) if request.form.get("back") == "entry" and len(ids) == 1 else None


def _back(village: Village) -> str:
    entry_id = _from_entry_page()
    if entry_id is not None:
        return url_for("entries.show", slug=village.slug, entry_id=entry_id)
    kept = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
    return url_for(".index", slug=village.slug, **kept)


def _refused(village: Village, form: ReviewForm, exc: LedgerError):
    db.session.rollback()
    entry_id = _from_entry_page()
    if entry_id is not None:
        flash(str(exc), "danger")
        return redirect(url_for("entries.show", slug=village.slug, entry_id=entry_id))
    if exc.field == "reason":
        form.reason.errors = [*form.reason.errors, str(exc)]
    else:
        flash(str(exc), "danger")
    # Shown again with the ticks kept, so the reviewer only adds what was missing.
    return _queue(village, form, _ids())


def _queue(village: Village, form: ReviewForm, selected: set[int]):
    filters = read_filters()
    filters.update(status="pending", q="", household="")
    stmt = entry_query(village, filters).options(
        joinedload(Entry.household).joinedload(Household.group), selectinload(Entry.photos)
    )
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=QUEUE_PER_PAGE, error_out=False)
    kept = {k: filters[k] for k in FILTER_KEYS if filters.get(k) not in (None, "")}
    return render_template(
        "review/index.html", village=village, page=page, form=form, selected=selected,
        filters=filters, kept=kept, **filter_choices(village),
    )
