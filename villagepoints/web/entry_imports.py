"""Importing points entries: upload, preview, confirm, result, and the template."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template
from flask_login import current_user

from .. import entry_import, rules
from ..entry_import import EntryImportPlan, EntryImportRefused, ImportRefused
from ..extensions import db
from ..models import Village
from ..sqlite_tuning import read_only
from . import uploads
from .access import village_view
from .entry_imports_forms import PlanForm, UploadForm
from .uploads import PROBLEMS_SHOWN, SAMPLE_ROWS, stored

bp = Blueprint("entry_imports", __name__)


@bp.route("/v/<slug>/entries/import", methods=["GET", "POST"])
@read_only
@village_view("clerk")
def upload(village: Village):
    form = UploadForm()
    if form.validate_on_submit():
        token = uploads.receive(form.file.data)
        if token is not None:
            return _preview(village, token, uploads.display_name(form.file.data.filename))
    return _upload_page(village, form)


@bp.route("/v/<slug>/entries/import/confirm", methods=["POST"])
@village_view("clerk")
def confirm(village: Village):
    form = PlanForm()
    if not form.validate_on_submit():
        return uploads.expired("entry_imports.upload", village)
    token, filename = form.token.data, form.filename.data
    try:
        claim = uploads.claim(village, "entries", token)
        plan = _plan(village, token, filename)
        result = entry_import.apply_entry_import(current_user, village, plan)
        claim.outcome = outcome = {
            "filename": filename, "created": result.created, "households": result.households,
            "approved": result.approved, "pending": result.pending,
        }
        db.session.commit()
    except uploads.NOT_APPLIED as exc:
        db.session.rollback()
        return uploads.not_applied(exc, "entry_import_result", "entry_imports.result", "entry_imports.upload", village)
    except EntryImportRefused as exc:
        db.session.rollback()
        return _preview(village, token, filename, also=exc.problems, refusal=exc)
    except ImportRefused as exc:
        db.session.rollback()
        return _refused(village, token, exc)
    return uploads.finish(token, "entry_import_result", outcome, result.summary(), "entry_imports.result", village)


@bp.route("/v/<slug>/entries/import/result")
@village_view("clerk")
def result(village: Village):
    return uploads.show_result("entry_import_result", "entry_imports/result.html", "entry_imports.upload", village)


@bp.route("/v/<slug>/entries/import/template")
@village_view("clerk")
def template(village: Village):
    return uploads.send_template(entry_import.template_bytes(), "积分记录导入模板.xlsx")


def _upload_page(village: Village, form: UploadForm):
    return render_template(
        "entry_imports/upload.html", village=village, form=form, columns=entry_import.COLUMNS,
        rule_list=rules.village_rules(village, active_only=True),
        max_mb=uploads.max_mb(),
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )


def _preview(village: Village, token: str, filename: str, also=(), refusal: EntryImportRefused | None = None):
    """Show the plan; ``refusal`` is why the confirm just made was refused, for the error summary."""
    try:
        plan = _plan(village, token, filename)
    except ImportRefused as exc:
        return _refused(village, token, exc)
    # Rows refused while writing (data changed since the preview) are shown with the rest.
    known = {(p.sheet, p.row) for p in plan.problems}
    extra = [p for p in also if (p.sheet, p.row) not in known]
    if extra:
        order = {name: i for i, name in enumerate(plan.sheets)}
        plan.problems = sorted(plan.problems + extra, key=lambda p: (order.get(p.sheet, 0), p.row))
        plan.refused = len(known | {(p.sheet, p.row) for p in extra})
    return render_template(
        "entry_imports/preview.html", village=village, plan=plan, token=token,
        problems=plan.problems[:PROBLEMS_SHOWN], sample=plan.rows[:SAMPLE_ROWS],
        refusals=uploads.refusals(refusal, plan),
    )


def _refused(village: Village, token: str, exc: ImportRefused):
    stored(token).unlink(missing_ok=True)
    flash(str(exc), "danger")
    return _upload_page(village, UploadForm(formdata=None))


def _plan(village: Village, token: str, filename: str) -> EntryImportPlan:
    return entry_import.plan_entry_import(
        village, stored(token), filename,
        max_bytes=current_app.config["IMPORT_MAX_BYTES"], max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )
