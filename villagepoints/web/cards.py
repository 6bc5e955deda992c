"""Household cards (户码): the household's own page, printing and reissuing cards,
and the clerk's queue of applications for points (申请待核实)."""
from __future__ import annotations

import datetime as dt
import io
from typing import Optional

import segno
from flask import (
    Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template, request, send_file,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from .. import applications, card_pdf, card_scan, cards, resident, sqlite_tuning
from ..evidence import MAX_PHOTO_BYTES, MAX_PHOTOS
from ..extensions import db
from ..ledger import LedgerError
from ..models import Group, Household, Rule, Village
from ..quarters import BadQuarter, Quarter
from .access import household_or_404, village_view
from .cards_forms import AcceptForm, ApplyForm, DeclineForm, PrintCardsForm, ReissueForm
from .entries_forms import PHOTO_HINT
from .forms_base import show_error
from .params import db_id
from .photos import PHOTO_REQUEST_BYTES, read_photos, storage_root

bp = Blueprint("cards", __name__)

_UPLOAD_ENDPOINTS = {"cards.apply"}
# One photo of a card and two short fields.
SCAN_REQUEST_BYTES = card_scan.MAX_SCAN_BYTES + 64 * 1024
# Where a photo of a card sends the staff member back to, with the household picked.
SCAN_PAGES = {"entry": "entries.new", "store": "store.redeem"}


@bp.url_value_preprocessor
def _allow_photo_uploads(endpoint: Optional[str], _values: Optional[dict]) -> None:
    if endpoint in _UPLOAD_ENDPOINTS:
        request.max_content_length = PHOTO_REQUEST_BYTES
    elif endpoint == "cards.scan_photo":
        request.max_content_length = SCAN_REQUEST_BYTES


def base_url() -> str:
    """Return the address cards point at: PUBLIC_URL where set, else this server's address."""
    return current_app.config.get("PUBLIC_URL") or request.url_root


def _private(response):
    """Send the household's page so that no cache keeps it and no other site learns its address."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _not_found():
    return _private(make_response(render_template("cards/not_found.html"), 404))


# --- The household's own page ---------------------------------------------------------


def _open(token: str):
    """Return (household, None) for a live card, or (None, response) for a refusal."""
    try:
        household = resident.open_card(token, request.remote_addr or "")
    except resident.LookupThrottled as exc:
        db.session.commit()
        return None, _private(make_response(render_template("cards/not_found.html", message=str(exc)), 429))
    except resident.CardNotFound:
        # Committed: the recorded failure is what throttles the next guess.
        db.session.commit()
        return None, _not_found()
    return household, None


def _own_page(household: Household, token: str, form: Optional[ApplyForm] = None, status: int = 200):
    village = household.village
    if form is None:
        form = ApplyForm(formdata=None)
    open_rules = applications.open_rules(village)
    form.rule.choices = [("", "请选择")] + [(r.id, f"{r.title}（{r.default_points:+d}分）") for r in open_rules]
    page = resident.own_page(household)
    return _private(make_response(render_template(
        "cards/own.html", village=village, page=page, token=token, form=form, open_rules=open_rules,
        photo_hint=PHOTO_HINT, today=dt.date.today(),
    ), status))


@bp.route("/h/<token>")
def own(token: str):
    household, refused = _open(token)
    if refused is not None:
        return refused
    return _own_page(household, token)


@bp.route("/h/<token>/apply", methods=["POST"])
def apply(token: str):
    household, refused = _open(token)
    if refused is not None:
        return refused
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            rule = db.session.get(Rule, form.rule.data) if form.rule.data else None
            entry = applications.apply(
                household, rule, form.entry_date.data, form.note.data or "", read_photos(form.photos),
                storage_root=storage_root(),
            )
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已提交申请：{entry.rule_title}。村里核实后会在本页显示结果。", "success")
            return _private(redirect(url_for(".own", token=token, _anchor="applications")))
    return _own_page(household, token, form, 200)


@bp.errorhandler(413)
def _too_large(_e):
    if request.endpoint == "cards.scan_photo":
        message = f"户码照片超过 {card_scan.MAX_SCAN_BYTES // 1024 // 1024} MB，请重新拍一张"
        if _wants_json():
            return jsonify({"found": False, "message": message}), 413
        return render_template("error.html", code=413, title="照片太大", message=message), 413
    message = f"上传的照片太大。最多 {MAX_PHOTOS} 张，每张不超过 {MAX_PHOTO_BYTES // 1024 // 1024} MB，请压缩后重试。"
    return render_template("error.html", code=413, title="照片太大", message=message), 413


# --- Printing and reissuing cards (staff) -----------------------------------------------


def _group(village: Village, group_id) -> Optional[Group]:
    group_id = db_id(group_id)
    if not group_id:
        return None
    group = db.session.get(Group, group_id)
    if group is None or group.village_id != village.id:
        abort(404)
    return group


@bp.route("/v/<slug>/cards", methods=["GET", "POST"])
@village_view("clerk")
def print_cards(village: Village):
    form = PrintCardsForm()
    form.group.choices = [("", "全村")] + [(g.id, g.name) for g in village.groups]
    group = _group(village, form.group.data if request.method == "POST" else request.args.get("group", type=int))
    if request.method == "GET":
        form.group.data = group.id if group else None
    plan = cards.print_plan(village, group)
    if form.validate_on_submit():
        if plan.replacing and not form.confirm.data:
            form.confirm.errors = [f"其中 {plan.replacing} 户已有户码：打印后原来的户码立即失效。请勾选确认后再打印。"]
        else:
            try:
                issued = cards.issue_for_print(current_user, village, group)
            except LedgerError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                pdf = card_pdf.render(card_pdf.faces(issued, base_url()), title=f"{village.name}户码")
                db.session.commit()
                name = f"{village.name}{group.name if group else ''}户码.pdf"
                response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                                     download_name=name)
                response.headers["Cache-Control"] = "no-store"
                return response
    return render_template("cards/print.html", village=village, form=form, group=group, plan=plan)


@bp.route("/v/<slug>/households/<code>/card", methods=["GET", "POST"])
@village_view("clerk")
def reissue(village: Village, code: str):
    household = household_or_404(village, code)
    live = cards.live_card(household)
    form = ReissueForm()
    if not live:
        # Nothing stops working, so there is nothing to confirm.
        form.confirm.validators = []
    if form.validate_on_submit():
        try:
            issued = cards.reissue(current_user, household)
        except LedgerError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("households.show", slug=village.slug, code=household.code))
        pdf_faces = card_pdf.faces([issued], base_url())
        db.session.commit()
        qr = segno.make_qr(pdf_faces[0].url, error="m")
        response = make_response(render_template(
            "cards/issued.html", village=village, household=household, issued=issued, url=pdf_faces[0].url,
            qr_svg=Markup(qr.svg_inline(scale=6, title=f"{household.code} 户码")),
        ))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    return render_template("cards/reissue.html", village=village, household=household, form=form, live=live)


@bp.route("/v/<slug>/cards/resolve")
@village_view()
def resolve(village: Village):
    """Return the household a scanned card belongs to, as JSON, for the entry form and the store."""
    token = cards.token_from_scan(request.args.get("scanned", ""))
    household = cards.household_for_token(token) if token else None
    if household is None or household.village_id != village.id:
        return jsonify({"found": False, "message": "没有找到这张户码对应的本村农户（户码可能已补发作废）"}), 404
    return jsonify({
        "found": True, "code": household.code, "head_name": household.head_name,
        "group": household.group.name if household.group else "",
    })


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/v/<slug>/cards/scan-photo", methods=["POST"])
@sqlite_tuning.read_only
@village_view("clerk", "storekeeper")
def scan_photo(village: Village):
    """Pick a household by a photo of its card, where the browser cannot scan; nothing is stored.

    The page's script asks for JSON (the answer of ``resolve``); without the script the
    form posts here and the answer is the page again, the household picked.
    """
    back = request.form.get("back", "entry")
    back = back if back in SCAN_PAGES else "entry"
    photo = request.files.get("photo")
    try:
        # Counted in a write of its own, so the photo is read without holding SQLite's write lock.
        with sqlite_tuning.write_apart(db.session):
            card_scan.count_scan(
                current_user, request.remote_addr or "", limit=current_app.config["SCAN_PHOTO_MAX_PER_WINDOW"],
                window_minutes=current_app.config["SEARCH_WINDOW_MINUTES"],
            )
        household = card_scan.household_from_photo(village, photo.read() if photo else b"")
    except card_scan.ScanRefused as exc:
        status = 429 if isinstance(exc, card_scan.ScanThrottled) else 422
        if _wants_json():
            return jsonify({"found": False, "message": str(exc)}), status
        flash(str(exc), "danger")
        return redirect(url_for(SCAN_PAGES[back], slug=village.slug))
    if _wants_json():
        return jsonify({
            "found": True, "code": household.code, "head_name": household.head_name,
            "group": household.group.name if household.group else "",
        })
    return redirect(url_for(SCAN_PAGES[back], slug=village.slug, household=household.code))


# --- The clerk's queue of applications ------------------------------------------------


@bp.route("/v/<slug>/applications")
@village_view("clerk")
def queue(village: Village):
    """The queue; ``?quarter=2026Q3`` shows only the applications dated in that quarter (the publish page links so)."""
    return _queue_page(village, quarter=_asked_quarter())


def _asked_quarter() -> Quarter | None:
    """The queue's ``?quarter=``, which the accept and decline forms carry back to the queue."""
    try:
        return Quarter.parse(request.args.get("quarter", "")) if request.args.get("quarter") else None
    except BadQuarter:
        return None


def _back_to_queue(village: Village):
    quarter = _asked_quarter()
    return redirect(url_for(".queue", slug=village.slug, quarter=str(quarter) if quarter else None))


def _queue_page(village: Village, refused: tuple[int, str, str] | None = None, quarter: Quarter | None = None):
    """The queue; ``refused`` (application id, "accept" or "decline", message) opens that form's error summary."""
    return render_template(
        "cards/queue.html", village=village, waiting=applications.queue(village, quarter), quarter=quarter,
        accept_form=AcceptForm(formdata=None), decline_form=DeclineForm(formdata=None), refused=refused,
    )


def _application_or_404(village: Village, entry_id: int):
    entry = applications.get_application(village, entry_id)
    if entry is None:
        abort(404)
    return entry


@bp.route("/v/<slug>/applications/<int:entry_id>/accept", methods=["POST"])
@village_view("clerk")
def accept(village: Village, entry_id: int):
    entry = _application_or_404(village, entry_id)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            applications.accept(current_user, entry, form.points.data)
        except LedgerError as exc:
            db.session.rollback()
            return _queue_page(village, (entry_id, "accept", f"积分申请 #{entry_id}：{exc}"), _asked_quarter())
        else:
            db.session.commit()
            flash(f"已将 {entry.household.head_name} 的申请转为积分记录 #{entry.id}"
                  f"（{'待审核' if entry.status == 'pending' else '已通过'}）", "success")
    else:
        return _queue_page(village, (entry_id, "accept", f"积分申请 #{entry_id}：分值应为整数"), _asked_quarter())
    return _back_to_queue(village)


@bp.route("/v/<slug>/applications/<int:entry_id>/decline", methods=["POST"])
@village_view("clerk")
def decline(village: Village, entry_id: int):
    entry = _application_or_404(village, entry_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            applications.decline(current_user, entry, form.reason.data)
        except LedgerError as exc:
            db.session.rollback()
            return _queue_page(village, (entry_id, "decline", f"积分申请 #{entry_id}：{exc}"), _asked_quarter())
        else:
            db.session.commit()
            flash(f"已答复 {entry.household.head_name} 的申请：未通过", "success")
    else:
        return _queue_page(village, (entry_id, "decline", f"积分申请 #{entry_id}：请写明不通过的理由，农户会在本户页面上看到"),
                           _asked_quarter())
    return _back_to_queue(village)
