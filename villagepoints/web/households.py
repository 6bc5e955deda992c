"""The household register: list and search, household page, add, edit, deactivate."""
from __future__ import annotations


from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from .. import cards, households, ledger
from ..extensions import db
from ..households import HouseholdError, HouseholdFields
from ..models import DEACTIVATION_REASONS, HOUSEHOLD_STATUSES, AuditEntry, Household, Village
from ..personal_data import sees_in_full
from .access import household_or_404, personal_search, village_view
from .forms_base import show_error
from .audit_log import action_label, changes
from .household_records import ledger_panel_context
from .households_forms import ConfirmForm, DeactivateForm, HouseholdForm

bp = Blueprint("households", __name__)

HISTORY_LIMIT = 50


@bp.route("/v/<slug>/households")
@village_view()
def index(village: Village):
    filters = {
        "q": request.args.get("q", "").strip(),
        "group": request.args.get("group", type=int),
        "category": request.args.get("category", "").strip(),
        "status": request.args.get("status", "") if request.args.get("status") in HOUSEHOLD_STATUSES else "",
    }
    status = 200
    try:
        full_data = personal_search(village, filters["q"])
    except households.SearchThrottled as exc:
        flash(str(exc), "danger")
        filters["q"], full_data, status = "", False, 429
    counts = _status_counts(village, filters, full_data)
    stmt = households.register_query(
        village, filters["q"], filters["group"], filters["category"], filters["status"], full_data=full_data,
    ).options(joinedload(Household.group), selectinload(Household.category_rows))
    # The status counts already hold the total, so the pager needs no COUNT of its own.
    page = db.paginate(
        stmt, page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"], error_out=False, count=False,
    )
    page.total = counts.get(filters["status"], 0) if filters["status"] else sum(counts.values())
    return render_template(
        "households/index.html", village=village, page=page, counts=counts,
        filters=filters, kept={k: v for k, v in filters.items() if v},
        rejected_count=ledger.rejected_count(current_user, village) if current_user.has_role("clerk") else 0,
    ), status


@bp.route("/v/<slug>/households/new", methods=["GET", "POST"])
@village_view("clerk")
def create(village: Village):
    form = HouseholdForm(village)
    if form.validate_on_submit():
        try:
            household = households.create_household(current_user, village, _fields(form, village))
        except HouseholdError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已添加农户 {household.code} {household.head_name}", "success")
            return redirect(url_for(".show", slug=village.slug, code=household.code))
    return render_template("households/form.html", village=village, form=form, household=None)


@bp.route("/v/<slug>/households/<code>")
@village_view()
def show(village: Village, code: str):
    household = household_or_404(village, code)
    return render_template(
        "households/show.html", village=village, household=household,
        history=_history(village, household), reactivate_form=ConfirmForm(), card=cards.live_card(household),
        **ledger_panel_context(household),
    )


@bp.route("/v/<slug>/households/<code>/edit", methods=["GET", "POST"])
@village_view("clerk")
def edit(village: Village, code: str):
    household = household_or_404(village, code)
    form = HouseholdForm(village, data=_form_data(household))
    if form.validate_on_submit():
        try:
            changed = households.update_household(current_user, household, _fields(form, village, household))
        except HouseholdError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash("已保存修改" if changed else "没有改动，无需保存", "success" if changed else "info")
            return redirect(url_for(".show", slug=village.slug, code=household.code))
    return render_template("households/form.html", village=village, form=form, household=household)


@bp.route("/v/<slug>/households/<code>/deactivate", methods=["GET", "POST"])
@village_view("clerk")
def deactivate(village: Village, code: str):
    household = household_or_404(village, code)
    form = DeactivateForm()
    if form.validate_on_submit():
        try:
            households.deactivate_household(
                current_user, household, form.on.data, form.reason.data, form.note.data
            )
        except HouseholdError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            reason = DEACTIVATION_REASONS[household.deactivation_reason]
            flash(f"农户 {household.code} {household.head_name} 已注销（{reason}）", "success")
            return redirect(url_for(".show", slug=village.slug, code=household.code))
    return render_template("households/deactivate.html", village=village, form=form, household=household)


@bp.route("/v/<slug>/households/<code>/reactivate", methods=["POST"])
@village_view("admin")
def reactivate(village: Village, code: str):
    household = household_or_404(village, code)
    if ConfirmForm().validate_on_submit():
        households.reactivate_household(current_user, household)
        db.session.commit()
        flash(f"农户 {household.code} {household.head_name} 已恢复在册", "success")
    return redirect(url_for(".show", slug=village.slug, code=household.code))


def _status_counts(village: Village, filters: dict, full_data: bool) -> dict[str, int]:
    """Count the households matching the search and filters, per status, in one query."""
    matching = households.register_query(
        village, filters["q"], filters["group"], filters["category"], full_data=full_data,
    ).order_by(None).subquery()
    rows = db.session.execute(
        db.select(matching.c.status, db.func.count()).group_by(matching.c.status)
    )
    return {status: n for status, n in rows}


def _form_data(household: Household) -> dict:
    data = {
        "code": household.code,
        "head_name": household.head_name,
        "group": household.group_id or 0,
        "members": household.members,
        "categories": household.categories,
        "address": household.address,
        "joined_on": household.joined_on,
        "note": household.note,
    }
    # Only those who see stored numbers in full get a form filled with them.
    if sees_in_full(current_user, household.village):
        data.update(id_number=household.id_number or "", phone=household.phone or "")
    return data


def _fields(form: HouseholdForm, village: Village, household: Household | None = None) -> HouseholdFields:
    id_number = form.id_number.data or None
    phone = form.phone.data or None
    if household is not None and not sees_in_full(current_user, village):
        # A clerk's boxes start empty (the numbers are masked), so empty means unchanged.
        id_number = id_number or household.id_number
        phone = phone or household.phone
    return HouseholdFields(
        head_name=form.head_name.data or "",
        code=(form.code.data or "").strip() or None,
        id_number=id_number,
        phone=phone,
        group=form.chosen_group(village),
        members=form.members.data,
        categories=list(form.categories.data or []),
        address=form.address.data or "",
        joined_on=form.joined_on.data,
        note=form.note.data or "",
    )


def _history(village: Village, household: Household) -> list[dict]:
    """Return the household's recent audit entries, newest first, ready to display."""
    entries = db.session.execute(
        db.select(AuditEntry)
        .where(AuditEntry.village_id == village.id, AuditEntry.household_id == household.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(HISTORY_LIMIT)
    ).scalars()
    return [
        {
            "at": entry.at,
            "actor": entry.actor,
            "action": action_label(entry.action),
            "summary": entry.summary,
            "changes": changes(entry),
        }
        for entry in entries
    ]
