"""Importing household lists: upload, preview, confirm, result, and the template."""
from __future__ import annotations

import io

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import household_import
from ..extensions import db
from ..models import Village
from .access import village_view
from .imports_forms import PlanForm, UploadForm
from .uploads import UploadTooLarge, display_name, store, stored

bp = Blueprint("imports", __name__)

PROBLEMS_SHOWN = 500
SAMPLE_ROWS = 20
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/v/<slug>/import", methods=["GET", "POST"])
@village_view("clerk")
def upload(village: Village):
    form = UploadForm()
    if form.validate_on_submit():
        filename = display_name(form.file.data.filename)
        try:
            token = store(form.file.data.stream, filename)
        except UploadTooLarge:
            limit = current_app.config["IMPORT_MAX_BYTES"] // 1024 // 1024
            flash(f"文件超过 {limit} MB 的上限，请拆分后分批导入", "danger")
        else:
            return _preview(village, form.skip_invalid.data, form.create_groups.data, token, filename)
    return _upload_page(village, form)


@bp.route("/v/<slug>/import/preview", methods=["POST"])
@village_view("clerk")
def preview(village: Village):
    form = PlanForm()
    if not form.validate_on_submit() or not stored(form.token.data).exists():
        return _expired(village)
    return _preview(
        village, form.skip_invalid.data == "1", form.create_groups.data == "1", form.token.data, form.filename.data
    )


@bp.route("/v/<slug>/import/confirm", methods=["POST"])
@village_view("clerk")
def confirm(village: Village):
    form = PlanForm()
    if not form.validate_on_submit() or not stored(form.token.data).exists():
        return _expired(village)
    token, filename = form.token.data, form.filename.data
    skip_invalid, create_groups = form.skip_invalid.data == "1", form.create_groups.data == "1"
    try:
        plan = _plan(village, token, filename, skip_invalid, create_groups)
        result = household_import.apply_import(current_user, village, plan)
        db.session.commit()
    except household_import.ImportRefused as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _preview(village, skip_invalid, create_groups, token, filename)
    except IntegrityError:
        db.session.rollback()
        flash("导入时农户台账正好被他人修改，没有导入任何数据。请核对下面的预览后再确认一次", "danger")
        return _preview(village, skip_invalid, create_groups, token, filename)
    stored(token).unlink(missing_ok=True)
    session["import_result"] = {
        "filename": filename, "added": result.added, "updated": result.updated,
        "unchanged": result.unchanged, "refused": result.refused, "groups_created": result.groups_created,
    }
    flash(f"导入完成：{result.summary()}", "success")
    return redirect(url_for("imports.result", slug=village.slug))


@bp.route("/v/<slug>/import/result")
@village_view("clerk")
def result(village: Village):
    outcome = session.pop("import_result", None)
    if outcome is None:
        return redirect(url_for("imports.upload", slug=village.slug))
    return render_template("imports/result.html", village=village, outcome=outcome)


@bp.route("/v/<slug>/import/template")
@village_view("clerk")
def template(village: Village):
    return send_file(
        io.BytesIO(household_import.template_bytes()), mimetype=XLSX_MIMETYPE,
        as_attachment=True, download_name="农户导入模板.xlsx",
    )


def _upload_page(village: Village, form: UploadForm):
    return render_template(
        "imports/upload.html", village=village, form=form, columns=household_import.COLUMNS,
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // 1024 // 1024,
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )


def _preview(village: Village, skip_invalid: bool, create_groups: bool, token: str, filename: str):
    try:
        plan = _plan(village, token, filename, skip_invalid, create_groups)
    except household_import.ImportRefused as exc:
        stored(token).unlink(missing_ok=True)
        flash(str(exc), "danger")
        return _upload_page(village, UploadForm(formdata=None))
    adds = [r for r in plan.rows if r.action == "add"]
    updates = [r for r in plan.rows if r.action == "update"]
    return render_template(
        "imports/preview.html", village=village, plan=plan, token=token,
        problems=plan.problems[:PROBLEMS_SHOWN], adds=adds[:SAMPLE_ROWS], updates=updates[:SAMPLE_ROWS],
    )


def _plan(village: Village, token: str, filename: str, skip_invalid: bool, create_groups: bool):
    return household_import.plan_import(
        village, stored(token), filename, skip_invalid=skip_invalid, create_groups=create_groups,
        max_bytes=current_app.config["IMPORT_MAX_BYTES"], max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )


def _expired(village: Village):
    flash("上传的文件已找不到（可能已经导入过，或已过期），请重新上传", "warning")
    return redirect(url_for("imports.upload", slug=village.slug))
