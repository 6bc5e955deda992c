"""A household's points ledger panel, honours (荣誉) and aid suspensions (歇帮).

The household page shows the panel with::

    {% include "household_records/_ledger_panel.html" %}

after its view adds ``**ledger_panel_context(household)`` to the template context. Besides
those keys the partial reads ``village``, ``household`` and ``current_user``.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import ledger, store
from ..extensions import db
from ..ledger import LedgerError
from ..models import AidSuspension, Entry, Honour, Household, Village
from .access import household_or_404, village_view
from .forms_base import show_error
from .household_records_forms import AidSuspensionForm, HonourForm

bp = Blueprint("household_records", __name__)

# Enough to read a household's recent history; the full list is the filtered entries page.
PANEL_ENTRIES = 200


def ledger_panel_context(household: Household, honour_form=None, suspension_form=None) -> dict:
    """Return the template variables the ledger panel of a household needs.

    Keys: ledger_scores (ledger.HouseholdScores), ledger_entries (newest first, at most
    PANEL_ENTRIES), ledger_entry_total, ledger_honours, ledger_suspensions,
    honour_form, suspension_form, store_summary (store.HouseholdStore: latest redemptions
    and points expiry). A fixed number of queries, whatever the entry count.
    """
    entries = db.session.execute(
        db.select(Entry).where(Entry.household_id == household.id)
        .order_by(Entry.entry_date.desc(), Entry.id.desc()).limit(PANEL_ENTRIES)
    ).scalars().all()
    total = len(entries)
    if total == PANEL_ENTRIES:
        total = db.session.execute(
            db.select(db.func.count(Entry.id)).where(Entry.household_id == household.id)
        ).scalar_one()
    return {
        "ledger_scores": ledger.scores_for(household),
        "ledger_entries": entries,
        "ledger_entry_total": total,
        "ledger_honours": db.session.execute(
            db.select(Honour).where(Honour.household_id == household.id)
            .order_by(Honour.awarded_on.desc(), Honour.id.desc())
        ).scalars().all(),
        "ledger_suspensions": db.session.execute(
            db.select(AidSuspension).where(AidSuspension.household_id == household.id)
            .order_by(AidSuspension.starts_on.desc(), AidSuspension.id.desc())
        ).scalars().all(),
        "store_summary": store.household_summary(household),
        "honour_form": honour_form or HonourForm(formdata=None),
        "suspension_form": suspension_form or AidSuspensionForm(formdata=None),
    }


@bp.route("/v/<slug>/households/<code>/ledger")
@village_view()
def panel(village: Village, code: str):
    return _page(village, household_or_404(village, code))


@bp.route("/v/<slug>/households/<code>/honours", methods=["GET", "POST"])
@village_view("clerk")
def add_honour(village: Village, code: str):
    household = household_or_404(village, code)
    form = HonourForm()
    if form.validate_on_submit():
        try:
            honour = ledger.add_honour(
                current_user, household, form.title.data, form.awarded_on.data,
                form.granted_by.data or "", form.note.data or "",
            )
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已为 {household.head_name} 记录荣誉“{honour.title}”", "success")
            return redirect(_household_url(village, household))
    return _page(village, household, honour_form=form)


@bp.route("/v/<slug>/households/<code>/aid-suspensions", methods=["GET", "POST"])
@village_view("clerk")
def add_suspension(village: Village, code: str):
    household = household_or_404(village, code)
    form = AidSuspensionForm()
    if form.validate_on_submit():
        try:
            ledger.add_aid_suspension(
                current_user, household, form.starts_on.data, form.ends_on.data, form.reason.data
            )
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已为 {household.head_name} 记录歇帮 {form.starts_on.data} 至 {form.ends_on.data}", "success")
            return redirect(_household_url(village, household))
    return _page(village, household, suspension_form=form)


def _household_url(village: Village, household: Household) -> str:
    return url_for("households.show", slug=village.slug, code=household.code, _anchor="ledger-panel")


def _page(village: Village, household: Household, **forms):
    """Render the panel on a page of its own (also where a refused form is shown again)."""
    context = ledger_panel_context(household, **forms)
    return render_template(
        "household_records/ledger.html", village=village, household=household, **context
    )
