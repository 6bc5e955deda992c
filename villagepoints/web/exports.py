"""The exports page and its downloads: printable notices, lists, ledgers and the register."""
from __future__ import annotations

import tempfile
from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import exports
from ..extensions import db
from ..models import Village
from ..personal_data import sees_in_full
from .access import village_view
from .exports_forms import ExportForm, default_quarter

bp = Blueprint("exports", __name__)


@bp.route("/v/<slug>/exports")
@village_view()
def index(village: Village):
    form = ExportForm(village, formdata=None, quarter=default_quarter(village))
    return render_template("exports/index.html", village=village, form=form, kinds=exports.KINDS)


@bp.route("/v/<slug>/exports/<kind>")
@village_view()
def download(village: Village, kind: str):
    if kind not in exports.KINDS:
        abort(404)
    form = ExportForm(village, formdata=request.args)
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "danger")
        return redirect(url_for("exports.index", slug=village.slug))
    options = form.options(kind)
    if options.full_personal_data and not sees_in_full(current_user, village):
        abort(403)
    # A temporary file, not memory: the register of a large village runs to megabytes.
    stream = tempfile.TemporaryFile()
    try:
        name = exports.export(current_user, village, kind, stream, options)
        db.session.commit()
    except exports.ExportError as exc:
        db.session.rollback()
        stream.close()
        flash(str(exc), "danger")
        return redirect(url_for("exports.index", slug=village.slug))
    stream.seek(0)
    response = send_file(stream, mimetype=exports.XLSX_MIMETYPE, as_attachment=True, download_name=name.name,
                         max_age=0)
    # Werkzeug writes the Chinese name as RFC 5987 filename*=UTF-8''…; its ASCII fallback
    # would be the name with every Chinese character dropped, so give a readable one.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name.ascii_name}\"; filename*=UTF-8''{quote(name.name)}"
    )
    return response
