"""The points store (积分超市): the counter, receipts and voids, items and stock, the ledger report."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Optional

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import households, ledger, store
from ..extensions import db
from ..ledger import LedgerError
from ..models import STOCK_KINDS, STOCK_SOURCES, Household, Item, Redemption, StockMovement, Village
from .access import village_view
from .entries import find_household
from .forms_base import show_error
from .store_forms import ItemForm, StockInForm, StocktakeForm, VoidForm, redeem_form

bp = Blueprint("store", __name__)

# Items at or below this stock are flagged on the store's front page.
LOW_STOCK = 5


@bp.app_context_processor
def _store_labels() -> dict:
    return {"STOCK_KINDS": STOCK_KINDS, "STOCK_SOURCES": STOCK_SOURCES, "REPORT_GROUPINGS": store.REPORT_GROUPINGS}


@bp.route("/v/<slug>/store")
@village_view()
def index(village: Village):
    today = dt.date.today()
    todays = db.session.execute(
        store.redemptions_query(village, store.ReportFilters(date_from=today, date_to=today))
        .options(joinedload(Redemption.household))
    ).scalars().all()
    low = [i for i in store.village_items(village, active_only=True) if i.stock <= LOW_STOCK]
    return render_template("store/index.html", village=village, todays=todays, low=low, low_stock=LOW_STOCK)


@bp.route("/v/<slug>/store/redeem", methods=["GET", "POST"])
@village_view("storekeeper")
def redeem(village: Village):
    items = store.village_items(village)
    form = redeem_form(items)
    text = (form.household.data if request.method == "POST" else request.args.get("household", "")) or ""
    household = None
    if text.strip():
        try:
            household = find_household(village, text)
        except LedgerError as exc:
            flash(str(exc), "danger")
    if request.method == "GET" or not form.token.data:
        form.token.data = secrets.token_urlsafe(24)
    valid = request.method == "POST" and form.validate_on_submit()
    if valid and household is not None and request.form.get("action") == "confirm":
        try:
            made = store.redeem(current_user, village, household, form.quantities(), token=form.token.data)
        except store.DuplicateSubmission as exc:
            earlier = exc.redemption.id
            db.session.rollback()
            flash(str(exc), "info")
            return redirect(url_for(".receipt", slug=village.slug, redemption_id=earlier))
        except store.OutOfStock as exc:
            db.session.rollback()
            # Each short line under its own quantity, so the error summary links to it.
            for item, wanted, left in exc.shortages:
                name = f"qty_{item.id}"
                if name in form:
                    form[name].errors = [
                        *form[name].errors, f"库存只剩 {left}{item.unit}，要兑换 {wanted}{item.unit}，还差 {wanted - left}{item.unit}",
                    ]
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"兑换成功：兑换单 {made.receipt_no}，共 {made.total_points} 分", "success")
            return redirect(url_for(".receipt", slug=village.slug, redemption_id=made.id))
    balance = store.spendable(household) if household is not None else 0
    # Without the page script, 核对合计 posts the quantities back to be totalled here.
    chosen = form.quantities() if request.method == "POST" else {}
    total = sum(i.price * chosen.get(i.id, 0) for i in items)
    return render_template(
        "store/redeem.html", village=village, form=form, household=household, query=text.strip(),
        items=[i for i in items if i.active], balance=balance, total=total, chosen=chosen,
        expiry=store.expiry_outlook(household) if household is not None else [],
    )


@bp.route("/v/<slug>/store/redemptions/<int:redemption_id>")
@village_view()
def receipt(village: Village, redemption_id: int):
    return _receipt_page(village, _redemption_or_404(village, redemption_id), VoidForm(formdata=None))


@bp.route("/v/<slug>/store/redemptions/<int:redemption_id>/void", methods=["POST"])
@village_view("storekeeper")
def void(village: Village, redemption_id: int):
    redemption = _redemption_or_404(village, redemption_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            store.void(current_user, redemption, form.reason.data)
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已作废兑换单 {redemption.receipt_no}，退回 {redemption.total_points} 分和商品库存", "success")
            return redirect(url_for(".receipt", slug=village.slug, redemption_id=redemption.id))
    return _receipt_page(village, redemption, form)


@bp.route("/v/<slug>/store/redemptions")
@village_view()
def redemptions(village: Village):
    shown, filters = _read_report_filters(village)
    summary = store.report(village, filters)
    stmt = store.redemptions_query(village, filters).options(joinedload(Redemption.household))
    page = db.paginate(
        stmt, page=request.args.get("page", 1, type=int), per_page=current_app.config["PER_PAGE"], error_out=False,
    )
    return render_template(
        "store/redemptions.html", village=village, summary=summary, page=page, shown=shown,
        kept={k: v for k, v in shown.items() if v not in (None, "") and k != "by"} | {"by": filters.by},
        item_list=store.village_items(village), today=dt.date.today(),
    )


@bp.route("/v/<slug>/store/stock")
@village_view()
def stock(village: Village):
    rows, total = store.stock_on_hand(village)
    return render_template("store/stock.html", village=village, rows=rows, total=total, today=dt.date.today())


@bp.route("/v/<slug>/store/items")
@village_view()
def items(village: Village):
    return render_template("store/items.html", village=village, items=store.village_items(village))


@bp.route("/v/<slug>/store/items/new", methods=["GET", "POST"])
@village_view("storekeeper")
def new_item(village: Village):
    form = ItemForm()
    if form.validate_on_submit():
        try:
            item = store.create_item(current_user, village, _item_fields(form))
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已新增商品“{item.name}”，请登记入库", "success")
            return redirect(url_for(".stock_in", slug=village.slug, item_id=item.id))
    return render_template("store/item_form.html", village=village, form=form, item=None)


@bp.route("/v/<slug>/store/items/<int:item_id>")
@village_view()
def item(village: Village, item_id: int):
    found = _item_or_404(village, item_id)
    page = db.paginate(
        store.movements_query(found).options(joinedload(StockMovement.redemption)),
        page=request.args.get("page", 1, type=int), per_page=current_app.config["PER_PAGE"], error_out=False,
    )
    return render_template("store/item.html", village=village, item=found, page=page)


@bp.route("/v/<slug>/store/items/<int:item_id>/edit", methods=["GET", "POST"])
@village_view("storekeeper")
def edit_item(village: Village, item_id: int):
    found = _item_or_404(village, item_id)
    form = ItemForm(obj=found)
    if form.validate_on_submit():
        try:
            store.update_item(current_user, found, _item_fields(form))
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已保存商品“{found.name}”", "success")
            return redirect(url_for(".item", slug=village.slug, item_id=found.id))
    return render_template("store/item_form.html", village=village, form=form, item=found)


@bp.route("/v/<slug>/store/items/<int:item_id>/stock-in", methods=["GET", "POST"])
@village_view("storekeeper")
def stock_in(village: Village, item_id: int):
    found = _item_or_404(village, item_id)
    form = StockInForm()
    if form.validate_on_submit():
        try:
            store.stock_in(
                current_user, found, form.quantity.data, source=form.source.data,
                supplier=form.supplier.data or "", moved_on=form.moved_on.data, note=form.note.data or "",
            )
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"“{found.name}”入库 {form.quantity.data}{found.unit}，现有库存 {found.stock}{found.unit}", "success")
            return redirect(url_for(".item", slug=village.slug, item_id=found.id))
    return render_template("store/stock_in.html", village=village, form=form, item=found, today=dt.date.today())


@bp.route("/v/<slug>/store/items/<int:item_id>/stocktake", methods=["GET", "POST"])
@village_view("storekeeper")
def stocktake(village: Village, item_id: int):
    found = _item_or_404(village, item_id)
    form = StocktakeForm()
    if form.validate_on_submit():
        try:
            movement = store.stocktake(
                current_user, found, form.counted.data, form.reason.data, moved_on=form.moved_on.data
            )
        except LedgerError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"“{found.name}”盘点为 {found.stock}{found.unit}（调整 {movement.quantity:+d}）", "success")
            return redirect(url_for(".item", slug=village.slug, item_id=found.id))
    return render_template("store/stocktake.html", village=village, form=form, item=found, today=dt.date.today())


def _item_fields(form: ItemForm) -> store.ItemFields:
    return store.ItemFields(
        form.name.data, form.unit.data, form.price.data, form.category.data or "", form.active.data, form.note.data or "",
    )


def _item_or_404(village: Village, item_id: int) -> Item:
    found = store.get_item(village, item_id)
    if found is None:
        abort(404)
    return found


def _redemption_or_404(village: Village, redemption_id: int) -> Redemption:
    found = store.get_redemption(village, redemption_id)
    if found is None:
        abort(404)
    return found


def _receipt_page(village: Village, redemption: Redemption, void_form: VoidForm):
    return render_template(
        "store/receipt.html", village=village, r=redemption, void_form=void_form,
        can_void=not redemption.is_voided and current_user.has_role("storekeeper"),
        # A voided receipt's 兑换后余额 is stale: its points went back, and others may have moved since.
        balance_now=ledger.balance(redemption.household_id) if redemption.is_voided else None,
    )


def _read_report_filters(village: Village) -> tuple[dict, store.ReportFilters]:
    """Read the ledger report's filters; a month (2026-08) stands for its first to last day."""
    date_from = request.args.get("date_from", type=_date)
    date_to = request.args.get("date_to", type=_date)
    month = request.args.get("month", "").strip()
    if month and not (date_from or date_to):
        try:
            first = dt.date.fromisoformat(month + "-01")
        except ValueError:
            month = ""
        else:
            date_from = first
            date_to = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    by = request.args.get("by", "day")
    by = by if by in store.REPORT_GROUPINGS else "day"
    item_id = request.args.get("item", type=int)
    q = request.args.get("q", "").strip()
    code = request.args.get("household", "").strip()
    household_ids: Optional[list[int]] = None
    if code:
        # A household page links here with its exact code; a search could match others too.
        found = households.get_household(village, code)
        household_ids = [found.id] if found is not None else []
    elif q:
        matching = households.register_query(village, q).with_only_columns(Household.id).order_by(None)
        household_ids = list(db.session.execute(matching).scalars())
    shown = {"date_from": date_from, "date_to": date_to, "item": item_id, "q": q, "household": code, "by": by}
    return shown, store.ReportFilters(date_from, date_to, item_id, household_ids, by)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
