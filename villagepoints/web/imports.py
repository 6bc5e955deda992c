"""Importing household lists: upload, preview, confirm, result, and the template."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import household_import
from ..extensions import db
from ..models import Village
from ..sqlite_tuning import read_only
from . import uploads
from .access import village_view
from .imports_forms import PlanForm, UploadForm
from .uploads import PROBLEMS_SHOWN, SAMPLE_ROWS, stored

bp = Blueprint("imports", __name__)


@bp.route("/v/<slug>/import", methods=["GET", "POST"])
@read_only
@village_view("clerk")
def upload(village: Village):
    form = UploadForm()
    if form.validate_on_submit():
        token = uploads.receive(form.file.data)
        if token is not None:
            filename = uploads.display_name(form.file.data.filename)
            return _preview(village, form.skip_invalid.data, form.create_groups.data, token, filename)
    return _upload_page(village, form)


@bp.route("/v/<slug>/import/preview", methods=["POST"])
@read_only
@village_view("clerk")
def preview(village: Village):
    form = PlanForm()
    if not form.validate_on_submit() or not stored(form.token.data).exists():
        return uploads.expired("imports.upload", village)
    return _preview(
        village, form.skip_invalid.data == "1", form.create_groups.data == "1", form.token.data, form.filename.data,
        form.confirmed(),
    )


@bp.route("/v/<slug>/import/confirm", methods=["POST"])
@village_view("clerk")
def confirm(village: Village):
    form = PlanForm()
    if not form.validate_on_submit():
        return uploads.expired("imports.upload", village)
    token, filename = form.token.data, form.filename.data
    skip_invalid, create_groups = form.skip_invalid.data == "1", form.create_groups.data == "1"
    confirmed = form.confirmed()
    try:
        claim = uploads.claim(village, "households", token)
        plan = _plan(village, token, filename, skip_invalid, create_groups, confirmed)
        result = household_import.apply_import(current_user, village, plan)
        claim.outcome = outcome = _outcome(filename, result)
        db.session.commit()
    except uploads.NOT_APPLIED as exc:
        db.session.rollback()
        return uploads.not_applied(exc, "import_result", "imports.result", "imports.upload", village)
    except household_import.ImportRefused as exc:
        db.session.rollback()
        return _preview(village, skip_invalid, create_groups, token, filename, confirmed, refusal=exc)
    except IntegrityError:
        db.session.rollback()
        refusal = household_import.ImportRefused("导入时农户台账正好被他人修改，没有导入任何数据。请核对下面的预览后再确认一次")
        return _preview(village, skip_invalid, create_groups, token, filename, confirmed, refusal=refusal)
    return uploads.finish(token, "import_result", outcome, result.summary(), "imports.result", village)


@bp.route("/v/<slug>/import/result")
@village_view("clerk")
def result(village: Village):
    return uploads.show_result("import_result", "imports/result.html", "imports.upload", village)


@bp.route("/v/<slug>/import/template")
@village_view("clerk")
def template(village: Village):
    return uploads.send_template(household_import.template_bytes(), "农户导入模板.xlsx")


def _outcome(filename: str, result: household_import.ImportResult) -> dict:
    return {
        "filename": filename, "added": result.added, "updated": result.updated,
        "unchanged": result.unchanged, "refused": result.refused, "groups_created": result.groups_created,
    }


def _upload_page(village: Village, form: UploadForm):
    return render_template(
        "imports/upload.html", village=village, form=form, columns=household_import.COLUMNS,
        max_mb=uploads.max_mb(),
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )


def _preview(
    village: Village, skip_invalid: bool, create_groups: bool, token: str, filename: str, confirmed=frozenset(),
    refusal: household_import.ImportRefused | None = None,
):
    """Show the plan; ``refusal`` is why the confirm just made was refused, for the error summary."""
    try:
        plan = _plan(village, token, filename, skip_invalid, create_groups, confirmed)
    except household_import.ImportRefused as exc:
        stored(token).unlink(missing_ok=True)
        flash(str(exc), "danger")
        return _upload_page(village, UploadForm(formdata=None))
    adds = [r for r in plan.rows if r.action == "add"]
    updates = [r for r in plan.rows if r.action == "update"]
    return render_template(
        "imports/preview.html", village=village, plan=plan, token=token,
        problems=plan.problems[:PROBLEMS_SHOWN], adds=adds[:SAMPLE_ROWS], updates=updates[:PROBLEMS_SHOWN],
        confirmed=[r.identity_key for r in plan.identity_rows], refusals=uploads.refusals(refusal, plan),
    )


def _plan(village: Village, token: str, filename: str, skip_invalid: bool, create_groups: bool, confirmed=()):
    return household_import.plan_import(
        village, stored(token), filename, skip_invalid=skip_invalid, create_groups=create_groups,
        confirm_identity=set(confirmed),
        max_bytes=current_app.config["IMPORT_MAX_BYTES"], max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )

