"""积分超市台账: the redemptions of a quarter or a year, and the stock on hand.

Read straight from the store's records (redemptions with their lines, items with
their stock), so the export shows what the store module wrote, voided receipts included.
"""
from __future__ import annotations

import datetime as dt
from typing import BinaryIO

from sqlalchemy import func

from ..extensions import db
from ..models import Group, Household, Item, Redemption, RedemptionLine, Village
from . import printing
from .printing import Column, PrintedSheet

LEDGER_COLUMNS = [
    Column("序号", 7, "number"),
    Column("日期", 12, "date"),
    Column("兑换单号", 16, "name"),
    Column("户编号", 10, "name"),
    Column("户主姓名", 12, "name"),
    Column("村民小组", 11, "name"),
    Column("兑换商品", 40, "wrap"),
    Column("件数", 7, "number"),
    Column("积分", 8, "number"),
    Column("经手人", 12, "name"),
    Column("状态", 22, "wrap"),
]
STOCK_COLUMNS = [
    Column("序号", 7, "number"),
    Column("商品", 24, "wrap"),
    Column("类别", 12, "name"),
    Column("单位", 7, "name"),
    Column("单价（积分）", 12, "number"),
    Column("本期兑出", 10, "number"),
    Column("现有库存", 10, "number"),
    Column("库存折合积分", 13, "number"),
    Column("状态", 8, "name"),
]


def title(village: Village, period: str) -> str:
    """Return the title, e.g. 蒋坝村2026年第三季度积分超市兑换台账."""
    return f"{village.name}{period}积分超市兑换台账"


def write(village: Village, period: str, first: dt.date, last: dt.date, out: BinaryIO,
          today: dt.date | None = None) -> None:
    """Write the period's redemptions (voided ones marked) and the stock on hand today."""
    today = today or dt.date.today()
    in_period = (Redemption.village_id == village.id, Redemption.redeemed_on.between(first, last))
    workbook = printing.new_workbook(title(village, period))
    _ledger(workbook, village, period, in_period)
    _stock(workbook, village, in_period, today)
    printing.save(workbook, out)


def _ledger(workbook, village: Village, period: str, in_period: tuple) -> None:
    counted = db.session.execute(
        db.select(func.count(Redemption.id), func.coalesce(func.sum(Redemption.item_count), 0),
                  func.coalesce(func.sum(Redemption.total_points), 0))
        .where(*in_period, Redemption.voided_at.is_(None))
    ).one()
    voided = db.session.execute(
        db.select(func.count(Redemption.id)).where(*in_period, Redemption.voided_at.is_not(None))
    ).scalar_one()
    summary = (f"共 {counted[0] + voided} 单，其中作废 {voided} 单；"
               f"有效兑换兑出 {counted[1]} 件，合计 {counted[2]} 积分（作废的不计）")
    sheet = PrintedSheet(workbook, "兑换台账", LEDGER_COLUMNS, title(village, period), [summary],
                         landscape=True, header_left=village.name)
    lines: dict[int, list[str]] = {}
    for redemption_id, name, quantity, unit in db.session.execute(
        db.select(RedemptionLine.redemption_id, RedemptionLine.item_name, RedemptionLine.quantity,
                  RedemptionLine.unit)
        .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
        .where(*in_period).order_by(RedemptionLine.redemption_id, RedemptionLine.id)
    ):
        lines.setdefault(redemption_id, []).append(f"{name} {quantity}{unit}")
    rows = db.session.execute(
        db.select(
            Redemption.id, Redemption.redeemed_on, Redemption.receipt_no, Household.code, Household.head_name,
            Group.name, Redemption.item_count, Redemption.total_points, Redemption.created_by_name,
            Redemption.voided_at, Redemption.voided_by_name, Redemption.void_reason,
        )
        .join(Household, Household.id == Redemption.household_id)
        .outerjoin(Group, Group.id == Household.group_id)
        .where(*in_period)
        .order_by(Redemption.redeemed_on, Redemption.id)
        .execution_options(yield_per=2000)
    )
    for index, (rid, day, receipt, code, name, group, count, points, keeper, voided_at, voided_by,
                reason) in enumerate(rows, start=1):
        state = "有效"
        if voided_at is not None:
            state = f"已作废（{voided_by}：{reason}）" if reason else f"已作废（{voided_by}）"
        sheet.row([index, day, receipt, code, name, group or "", "；".join(lines.get(rid, [])), count, points,
                   keeper, state])
    if sheet.rows == sheet.header_row:
        sheet.note("本期没有兑换记录")


def _stock(workbook, village: Village, in_period: tuple, today: dt.date) -> None:
    given = dict(db.session.execute(
        db.select(RedemptionLine.item_id, func.sum(RedemptionLine.quantity))
        .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
        .where(*in_period, Redemption.voided_at.is_(None))
        .group_by(RedemptionLine.item_id)
    ).all())
    items = list(db.session.execute(
        db.select(Item).where(Item.village_id == village.id).order_by(Item.active.desc(), Item.category, Item.name)
    ).scalars())
    total = sum(i.stock * i.price for i in items)
    heading = f"{village.name}积分超市库存"
    sheet = PrintedSheet(workbook, "库存", STOCK_COLUMNS, heading,
                         [f"截至{printing.chinese_date(today)}，库存合计折合 {total} 积分；“本期兑出”与兑换台账同一期间"],
                         header_left=village.name)
    for index, item in enumerate(items, start=1):
        sheet.row([index, item.name, item.category, item.unit, item.price, int(given.get(item.id, 0)), item.stock,
                   item.stock * item.price, "在售" if item.active else "停售"])
    if not items:
        sheet.note("超市还没有商品")
