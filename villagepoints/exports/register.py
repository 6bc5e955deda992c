"""农户台账: the household register, ID numbers and phones masked unless asked in full.

Streams: households are read in batches and written row by row, so a register of
100,000 households never sits whole in memory as ORM objects.
"""
from __future__ import annotations

import datetime as dt
from typing import BinaryIO

from ..extensions import db
from ..models import DEACTIVATION_REASONS, HOUSEHOLD_STATUSES, Group, Household, HouseholdCategory, Village
from ..personal_data import mask_id_number, mask_phone
from . import printing
from .printing import Column, PrintedSheet

COLUMNS = [
    Column("户编号", 9, "name"),
    Column("户主姓名", 11, "name"),
    Column("身份证号", 21, "name"),
    Column("村民小组", 10, "name"),
    Column("人口", 6, "number"),
    Column("联系电话", 14, "name"),
    Column("户类别", 18, "wrap"),
    Column("住址", 22, "wrap"),
    Column("登记日期", 11, "date"),
    Column("状态", 13, "wrap"),
    Column("备注", 22, "wrap"),
]


def title(village: Village) -> str:
    """Return the title, e.g. 蒋坝村农户台账."""
    return f"{village.name}农户台账"


def write(village: Village, out: BinaryIO, *, full_personal_data: bool = False, today: dt.date | None = None) -> None:
    """Write every household of the village by code; ID numbers and phones masked unless ``full_personal_data``."""
    today = today or dt.date.today()
    order = {name: i for i, name in enumerate(village.categories)}
    categories: dict[int, list[str]] = {}
    for household_id, name in db.session.execute(
        db.select(HouseholdCategory.household_id, HouseholdCategory.name)
        .join(Household, Household.id == HouseholdCategory.household_id)
        .where(Household.village_id == village.id)
    ):
        categories.setdefault(household_id, []).append(name)
    counts = dict(db.session.execute(
        db.select(Household.status, db.func.count(Household.id))
        .where(Household.village_id == village.id).group_by(Household.status)
    ).all())
    privacy = ("含完整身份证号和电话号码，属个人信息，请妥善保管，不得张贴或外传" if full_personal_data
               else "身份证号和电话号码已打码")
    subtitle = (f"共 {sum(counts.values())} 户（在册 {counts.get('active', 0)} 户）　"
                f"导出日期：{printing.chinese_date(today)}　{privacy}")
    workbook = printing.new_workbook(title(village))
    sheet = PrintedSheet(workbook, "农户台账", COLUMNS, title(village), [subtitle], landscape=True,
                         header_left=village.name, header_right="内部资料" if full_personal_data else "")
    id_shown = (lambda v: v or "") if full_personal_data else mask_id_number
    phone_shown = (lambda v: v or "") if full_personal_data else mask_phone
    rows = db.session.execute(
        db.select(
            Household.id, Household.code, Household.head_name, Household.id_number, Group.name,
            Household.members, Household.phone, Household.address, Household.joined_on, Household.status,
            Household.deactivated_on, Household.deactivation_reason, Household.note,
        )
        .outerjoin(Group, Group.id == Household.group_id)
        .where(Household.village_id == village.id)
        .order_by(Household.code)
        .execution_options(yield_per=5000)
    )
    for (hid, code, name, id_number, group, members, phone, address, joined_on, status, deactivated_on,
         reason, note) in rows:
        tags = sorted(categories.get(hid, ()), key=lambda n: (order.get(n, len(order)), n))
        state = HOUSEHOLD_STATUSES.get(status, status)
        if status == "inactive" and deactivated_on:
            state = f"{DEACTIVATION_REASONS.get(reason, state)} {deactivated_on:%Y-%m-%d}"
        sheet.row([code, name, id_shown(id_number), group or "", members, phone_shown(phone), "、".join(tags),
                   address, joined_on, state, note])
    if sheet.rows == sheet.header_row:
        sheet.note("本村还没有登记农户")
    printing.save(workbook, out)
