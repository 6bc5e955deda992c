"""Entering points: single and bulk entry, the entries list, an entry's page, edit, photos."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Optional

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import Select
from sqlalchemy.orm import joinedload, selectinload

from .. import cards, evidence, households, ledger, rules
from ..evidence import MAX_PHOTO_BYTES, MAX_PHOTOS
from ..extensions import db
from ..ledger import LedgerError
from ..models import ENTRY_STATUSES, RULE_KINDS, Entry, EntryPhoto, Household, Rule, User, Village
from .access import personal_search, village_view
from .forms_base import show_error
from .entries_forms import PHOTO_HINT, BulkForm, ConfirmForm, EntryFields, EntryForm, ReverseForm, ReviewForm
from .params import db_id
from .photos import PHOTO_REQUEST_BYTES, read_photos, storage_root

bp = Blueprint("entries", __name__)

LOOKUP_LIMIT = 20
# A bulk form sends one multipart part per ticked household; Werkzeug's default (1,000)
# would refuse a large group ticked with 全选.
BULK_FORM_PARTS = 10_000
_UPLOAD_ENDPOINTS = {"entries.new", "entries.bulk", "entries.edit"}
# The only names evidence.attach_photos ever stores; anything else never reaches the disk.
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|gif|webp)$")
SOURCE_LABELS = {"web": "单条录入", "bulk": "批量录入", "reversal": "冲正"}


@bp.app_context_processor
def _entry_labels() -> dict:
    return {"ENTRY_STATUSES": ENTRY_STATUSES, "RULE_KINDS": RULE_KINDS, "SOURCE_LABELS": SOURCE_LABELS}


@bp.url_value_preprocessor
def _allow_photo_uploads(endpoint: Optional[str], _values: Optional[dict]) -> None:
    # URL value preprocessors run before CSRFProtect parses the body, which is when
    # these limits are read; a view would be too late to raise them.
    if endpoint in _UPLOAD_ENDPOINTS:
        request.max_content_length = PHOTO_REQUEST_BYTES
        request.max_form_parts = BULK_FORM_PARTS


@bp.errorhandler(413)
def _too_large(_e):
    message = f"上传的照片太大。每条记录最多 {MAX_PHOTOS} 张，每张不超过 {MAX_PHOTO_BYTES // 1024 // 1024} MB，请压缩后重试。"
    return render_template("error.html", code=413, title="照片太大", message=message), 413


@bp.route("/v/<slug>/households/lookup")
@village_view()
def lookup(village: Village):
    """Return up to 20 active households matching name, code or pinyin initials, as JSON."""
    q = request.args.get("q", "").strip()
    if not q:
        return jsonify([])
    try:
        full_data = personal_search(village, q)
    except households.SearchThrottled as exc:
        return jsonify({"error": str(exc)}), 429
    stmt = (
        households.register_query(village, q, status="active", full_data=full_data)
        .options(joinedload(Household.group))
        .limit(LOOKUP_LIMIT)
    )
    return jsonify([
        {"id": h.id, "code": h.code, "head_name": h.head_name, "group": h.group.name if h.group else ""}
        for h in db.session.execute(stmt).scalars()
    ])


@bp.route("/v/<slug>/entries/new", methods=["GET", "POST"])
@village_view("clerk")
def new(village: Village):
    form = EntryForm()
    form.set_rules(rules.village_rules(village, active_only=True))
    chosen = None
    if request.method == "GET":
        _prefill(form, village)
        chosen = _prefill_household(form, village) or _prefill_resubmission(form, village)
    elif form.validate_on_submit():
        try:
            chosen = find_household(village, form.household.data)
            rule = _rule(village, form.rule.data)
            resubmits = _resubmitted(village, form.resubmits.data)
            kept = _kept_photos(resubmits, form.keep_photos.data)
            uploads = read_photos(form.photos, already=len(kept))
            entry = ledger.make_entry(
                current_user, village, chosen, rule, form.entry_date.data, form.points.data,
                form.note.data or "", evidence=bool(uploads or kept), token=form.token.data or None,
                resubmits=resubmits,
            )
            evidence.carry_photos(entry, kept)
            evidence.attach_photos(entry, uploads, storage_root())
        except ledger.DuplicateSubmission as exc:
            db.session.rollback()
            flash(str(exc), "info")
            return redirect(url_for(".new", slug=village.slug))
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已为 {chosen.head_name} 记 {entry.points:+d} 分（{ENTRY_STATUSES[entry.status]}）", "success")
            if entry.resubmits_id:
                return redirect(url_for(".rejected", slug=village.slug))
            # The next entry in the field is often the same rule on the same day.
            return redirect(url_for(".new", slug=village.slug, rule=rule.id, day=entry.entry_date.isoformat()))
    resubmitting = _resubmitted_or_none(village, form.resubmits.data)
    return render_template(
        "entries/new.html", village=village, form=form, chosen=chosen, photo_hint=PHOTO_HINT, today=dt.date.today(),
        resubmitting=resubmitting,
    )


@bp.route("/v/<slug>/entries/rejected")
@village_view("clerk")
def rejected(village: Village):
    """The clerk's own rejected entries still to correct, each with its reason."""
    found = list(db.session.execute(
        ledger.rejected_to_correct(current_user, village)
        .options(joinedload(Entry.household).joinedload(Household.group))
    ).scalars())
    return render_template("entries/rejected.html", village=village, entries=found)


@bp.route("/v/<slug>/entries/bulk", methods=["GET", "POST"])
@village_view("clerk")
def bulk(village: Village):
    form = BulkForm()
    form.set_rules(rules.village_rules(village, active_only=True))
    group_id = request.args.get("group", type=int)
    if request.method == "GET":
        _prefill(form, village)
    elif form.validate_on_submit():
        try:
            chosen = _households_by_ids(village, form.households.data or [])
            rule = _rule(village, form.rule.data)
            uploads = read_photos(form.photos)
            made = ledger.bulk_entry(
                current_user, village, chosen, rule, form.entry_date.data, form.points.data,
                form.note.data or "", evidence=bool(uploads), token=form.token.data or None,
            )
            evidence.share_photos(made, uploads, storage_root())
        except ledger.DuplicateSubmission as exc:
            db.session.rollback()
            flash(str(exc), "info")
            return redirect(url_for(".bulk", slug=village.slug, group=group_id))
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已为 {len(made)} 户记 {made[0].points:+d} 分（{ENTRY_STATUSES[made[0].status]}）", "success")
            return redirect(url_for(
                ".bulk", slug=village.slug, group=group_id, rule=rule.id, day=made[0].entry_date.isoformat()
            ))
    return render_template(
        "entries/bulk.html", village=village, form=form, group_id=group_id,
        # Every active household is listed, so one bulk entry can mix groups; ?group= only
        # sets the page script's first filter.
        listed=_listed_households(village, None), ticked=set(form.households.data or []),
        photo_hint=PHOTO_HINT, today=dt.date.today(),
    )


@bp.route("/v/<slug>/entries")
@village_view()
def index(village: Village):
    filters = read_filters()
    stmt = entry_query(village, filters).options(joinedload(Entry.household).joinedload(Household.group))
    page = db.paginate(
        stmt, page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"], error_out=False,
    )
    return render_template(
        "entries/index.html", village=village, page=page, filters=filters,
        kept={k: v for k, v in filters.items() if v not in (None, "")}, **filter_choices(village),
    )


@bp.route("/v/<slug>/entries/<int:entry_id>")
@village_view()
def show(village: Village, entry_id: int):
    return _entry_page(village, entry_or_404(village, entry_id), ReverseForm())


@bp.route("/v/<slug>/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@village_view("clerk")
def edit(village: Village, entry_id: int):
    entry = entry_or_404(village, entry_id)
    if entry.created_by_id != current_user.id:
        abort(403)
    if entry.status != "pending":
        flash(f"积分记录 #{entry.id} {ENTRY_STATUSES[entry.status]}，不能再修改", "warning")
        return redirect(url_for(".show", slug=village.slug, entry_id=entry.id))
    form = EntryFields(data={
        "rule": entry.rule_id, "entry_date": entry.entry_date, "points": entry.points, "note": entry.note,
    })
    form.set_rules(rules.village_rules(village, active_only=True))
    if form.validate_on_submit():
        try:
            rule = _rule(village, form.rule.data)
            uploads = read_photos(form.photos, already=len(entry.photos))
            ledger.edit_pending(
                current_user, entry, rule, form.entry_date.data, form.points.data, form.note.data or "",
                evidence=bool(uploads),
            )
            evidence.attach_photos(entry, uploads, storage_root())
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已保存积分记录 #{entry.id} 的修改", "success")
            return redirect(url_for(".show", slug=village.slug, entry_id=entry.id))
    return render_template(
        "entries/edit.html", village=village, form=form, entry=entry, photo_hint=PHOTO_HINT, today=dt.date.today()
    )


@bp.route("/v/<slug>/entries/<int:entry_id>/withdraw", methods=["POST"])
@village_view("clerk")
def withdraw(village: Village, entry_id: int):
    entry = entry_or_404(village, entry_id)
    if ConfirmForm().validate_on_submit():
        try:
            ledger.withdraw(current_user, entry)
        except LedgerError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"已撤回积分记录 #{entry.id}", "success")
    return redirect(url_for(".show", slug=village.slug, entry_id=entry.id))


@bp.route("/v/<slug>/entries/<int:entry_id>/dismiss", methods=["POST"])
@village_view("clerk")
def dismiss(village: Village, entry_id: int):
    """不再提交: the clerk will not correct this rejected entry; it leaves their list."""
    entry = entry_or_404(village, entry_id)
    if ConfirmForm().validate_on_submit():
        try:
            ledger.dismiss_rejected(current_user, entry)
        except LedgerError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"积分记录 #{entry.id} 已标记为不再提交，不再列在被驳回的记录里", "success")
    return redirect(url_for(".rejected", slug=village.slug))


@bp.route("/v/<slug>/entries/<int:entry_id>/reverse", methods=["POST"])
@village_view("reviewer")
def reverse(village: Village, entry_id: int):
    entry = entry_or_404(village, entry_id)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            reversal = ledger.reverse(current_user, entry, form.reason.data)
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(
                f"已冲正积分记录 #{entry.id}，冲正记录 #{reversal.id} {reversal.points:+d} 分"
                f"（{ENTRY_STATUSES[reversal.status]}）",
                "success",
            )
            return redirect(url_for(".show", slug=village.slug, entry_id=entry.id))
    return _entry_page(village, entry, form)


@bp.route("/v/<slug>/photos/<int:photo_id>")
@village_view()
def photo(village: Village, photo_id: int):
    found = db.session.execute(
        db.select(EntryPhoto).join(EntryPhoto.entry)
        .where(EntryPhoto.id == photo_id, Entry.village_id == village.id)
    ).scalar_one_or_none()
    if found is None or not _STORED_NAME.match(found.stored_name):
        abort(404)
    path = evidence.photo_path(found, storage_root())
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=found.content_type, max_age=3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def entry_or_404(village: Village, entry_id: int) -> Entry:
    """Load one of the village's entries or answer 404."""
    entry = db.session.execute(
        db.select(Entry).where(Entry.id == entry_id, Entry.village_id == village.id)
        .options(joinedload(Entry.household).joinedload(Household.group), selectinload(Entry.photos))
    ).scalar_one_or_none()
    if entry is None:
        abort(404)
    return entry


def find_household(village: Village, text: str) -> Household:
    """Return the household a clerk named by code, or by a search matching one active household."""
    text = (text or "").strip()
    token = cards.token_from_scan(text)
    if token is not None:
        # A card's address, typed by a handheld scanner or read by the camera picker.
        by_card = cards.household_for_token(token)
        if by_card is None or by_card.village_id != village.id:
            raise LedgerError("扫到的户码无效：可能已补发作废，或不是本村的户码；请输入姓名或户编号", "household")
        return by_card
    household = households.get_household(village, text)
    if household is not None:
        return household
    found = list(db.session.execute(households.register_query(village, text, status="active").limit(2)).scalars())
    if len(found) == 1:
        return found[0]
    if not found:
        raise LedgerError(f"找不到户编号、姓名或拼音首字母为“{text}”的在册农户", "household")
    raise LedgerError(f"“{text}”对应不止一户，请从列表中选择，或填写户编号", "household")


def read_filters() -> dict:
    """Read the entries list filters from the query string."""
    status = request.args.get("status", "")
    return {
        "status": status if status in ENTRY_STATUSES else "",
        "group": request.args.get("group", type=int),
        "rule": request.args.get("rule", "").strip().upper(),
        "clerk": request.args.get("clerk", type=int),
        "date_from": request.args.get("date_from", type=dt.date.fromisoformat),
        "date_to": request.args.get("date_to", type=dt.date.fromisoformat),
        "q": request.args.get("q", "").strip(),
        "household": request.args.get("household", "").strip(),
    }


def entry_query(village: Village, filters: dict) -> Select:
    """Select the village's entries matching the filters, newest date first."""
    stmt = db.select(Entry).where(Entry.village_id == village.id)
    if filters.get("status"):
        stmt = stmt.where(Entry.status == filters["status"])
    if filters.get("group"):
        stmt = stmt.where(Entry.household_id.in_(
            db.select(Household.id).where(Household.village_id == village.id, Household.group_id == filters["group"])
        ))
    if filters.get("rule"):
        stmt = stmt.where(Entry.rule_code == filters["rule"])
    if filters.get("clerk"):
        stmt = stmt.where(Entry.created_by_id == filters["clerk"])
    if filters.get("date_from"):
        stmt = stmt.where(Entry.entry_date >= filters["date_from"])
    if filters.get("date_to"):
        stmt = stmt.where(Entry.entry_date <= filters["date_to"])
    if filters.get("household"):
        stmt = stmt.where(Entry.household_id.in_(
            db.select(Household.id).where(Household.village_id == village.id, Household.code == filters["household"])
        ))
    if filters.get("q"):
        matching = households.register_query(village, filters["q"]).with_only_columns(Household.id).order_by(None)
        stmt = stmt.where(Entry.household_id.in_(matching))
    return stmt.order_by(Entry.entry_date.desc(), Entry.id.desc())


def filter_choices(village: Village) -> dict:
    """Return the rules and clerks the filter selects offer."""
    # The distinct clerks come from the (village, clerk) index alone; grouping the entries
    # themselves read every one of them (50,000 rows, most of the page's time).
    creators = db.select(Entry.created_by_id).where(
        Entry.village_id == village.id, Entry.created_by_id.is_not(None)
    ).distinct()
    clerks = db.session.execute(db.select(User).where(User.id.in_(creators))).scalars()
    return {
        "rule_list": rules.village_rules(village),
        "clerks": sorted(((u.id, u.label) for u in clerks), key=lambda c: c[1]),
    }


def _entry_page(village: Village, entry: Entry, reverse_form: ReverseForm):
    reversal = ledger.reversal_of(entry)
    mine = entry.created_by_id == current_user.id
    pending = entry.status == "pending"
    can = {
        "edit": mine and pending and current_user.has_role("clerk"),
        "review": pending and not mine and current_user.has_role("reviewer"),
        "reverse": (
            entry.status == "approved" and not entry.is_reversal and reversal is None
            and current_user.has_role("reviewer")
        ),
    }
    return render_template(
        "entries/show.html", village=village, entry=entry, reversal=reversal, can=can,
        reverse_form=reverse_form, review_form=ReviewForm(), confirm_form=ConfirmForm(),
    )


def _prefill(form: EntryFields, village: Village) -> None:
    """Carry the last rule and date into a fresh form, with the rule's default points."""
    form.token.data = secrets.token_urlsafe(24)
    rule = _rule_or_none(village, request.args.get("rule", type=int))
    if rule is not None and rule.active:
        form.rule.data = rule.id
        form.points.data = rule.default_points
    day = request.args.get("day", type=dt.date.fromisoformat)
    if day is not None and day <= dt.date.today():
        form.entry_date.data = day


def _prefill_household(form: EntryForm, village: Village) -> Optional[Household]:
    """Choose the household named by ?household=<code> (from its page or the register)."""
    code = request.args.get("household", "").strip()
    household = households.get_household(village, code) if code else None
    if household is None or not household.is_active:
        return None
    form.household.data = household.code
    return household


def _resubmitted_or_none(village: Village, entry_id) -> Optional[Entry]:
    entry_id = db_id(entry_id)
    entry = db.session.get(Entry, entry_id) if entry_id else None
    return entry if entry is not None and entry.village_id == village.id else None


def _resubmitted(village: Village, entry_id) -> Optional[Entry]:
    """Return the rejected entry a resubmission names, refusing one that is not the clerk's to correct."""
    if not entry_id:
        return None
    entry = _resubmitted_or_none(village, entry_id)
    if entry is None:
        raise LedgerError("要重新提交的记录不存在或不属于本村，请从“被驳回的记录”重新打开")
    return entry


def _kept_photos(resubmits: Optional[Entry], ids) -> list:
    """The rejected entry's photos the clerk left ticked, to link to the corrected entry."""
    if resubmits is None:
        return []
    wanted = set(ids or [])
    return [p for p in resubmits.photos if p.id in wanted]


def _prefill_resubmission(form: EntryForm, village: Village) -> Optional[Household]:
    """Fill the form from the clerk's rejected entry ?resubmit=<id>, to correct and send again."""
    entry = _resubmitted_or_none(village, request.args.get("resubmit", ""))
    if entry is None:
        return None
    try:
        ledger.check_resubmittable(current_user, entry)
    except LedgerError as exc:
        flash(str(exc), "warning")
        return None
    form.resubmits.data = str(entry.id)
    form.household.data = entry.household.code
    if entry.rule is not None and entry.rule.active:
        form.rule.data = entry.rule_id
    form.points.data = entry.points
    form.entry_date.data = entry.entry_date
    form.note.data = entry.note
    form.keep_photos.data = [p.id for p in entry.photos]
    return entry.household


def _rule_or_none(village: Village, rule_id: Optional[int]) -> Optional[Rule]:
    rule = db.session.get(Rule, rule_id) if rule_id else None
    return rule if rule is not None and rule.village_id == village.id else None


def _rule(village: Village, rule_id: Optional[int]) -> Rule:
    rule = _rule_or_none(village, rule_id)
    if rule is None:
        raise LedgerError("请选择本村的积分细则", "rule")
    return rule


def _households_by_ids(village: Village, ids: list[int]) -> list[Household]:
    if not ids:
        raise LedgerError("请至少选择一户", "households")
    found = list(db.session.execute(
        db.select(Household).where(Household.village_id == village.id, Household.id.in_(set(ids)))
        .order_by(Household.code)
    ).scalars())
    if len(found) != len(set(ids)):
        raise LedgerError("所选农户中有不属于本村的，请刷新页面后重新选择", "households")
    return found


def _listed_households(village: Village, group_id: Optional[int]) -> list[Household]:
    stmt = households.register_query(village, status="active", group_id=group_id)
    return list(db.session.execute(stmt.options(joinedload(Household.group))).scalars())
