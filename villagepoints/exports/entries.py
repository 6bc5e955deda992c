"""积分记录: every entry dated in a quarter, whatever its status, for the township's files."""
from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import func

from ..extensions import db
from ..models import ENTRY_STATUSES, Entry, Group, Household, Village
from ..quarters import Quarter
from . import printing
from .printing import Column, PrintedSheet

COLUMNS = [
    Column("序号", 7, "number"),
    Column("日期", 12, "date"),
    Column("户编号", 10, "name"),
    Column("户主姓名", 12, "name"),
    Column("村民小组", 11, "name"),
    Column("积分细则", 36, "wrap"),
    Column("分值", 7, "number"),
    Column("状态", 9, "name"),
    Column("录入人", 14, "name"),
    Column("审核人", 17, "name"),
    Column("备注", 30, "wrap"),
]


def title(village: Village, quarter: Quarter) -> str:
    """Return the title, e.g. 蒋坝村2026年第三季度积分记录."""
    return f"{village.name}{quarter.label}积分记录"


def write(village: Village, quarter: Quarter, out: BinaryIO) -> None:
    """Write the quarter's entries by date, with their rule, points, status, clerk and reviewer."""
    in_quarter = (
        Entry.village_id == village.id,
        Entry.entry_date.between(quarter.first_day, quarter.last_day),
    )
    counts = dict(db.session.execute(
        db.select(Entry.status, func.count(Entry.id)).where(*in_quarter).group_by(Entry.status)
    ).all())
    summary = f"共 {sum(counts.values())} 条：" + "，".join(
        f"{label} {counts.get(status, 0)} 条" for status, label in ENTRY_STATUSES.items()
    ) + "。只有已通过的记录计入积分。"
    workbook = printing.new_workbook(title(village, quarter))
    sheet = PrintedSheet(workbook, "积分记录", COLUMNS, title(village, quarter), [summary],
                         landscape=True, header_left=village.name)
    rows = db.session.execute(
        db.select(
            Entry.entry_date, Household.code, Household.head_name, Group.name, Entry.rule_code,
            Entry.rule_title, Entry.reverses_id, Entry.points, Entry.status, Entry.created_by_name,
            Entry.reviewed_by_name, Entry.note,
        )
        .join(Household, Household.id == Entry.household_id)
        .outerjoin(Group, Group.id == Household.group_id)
        .where(*in_quarter)
        .order_by(Entry.entry_date, Entry.id)
        .execution_options(yield_per=2000)
    )
    for index, (day, code, name, group, rule_code, rule_title, reverses_id, points, status, clerk, reviewer,
                note) in enumerate(rows, start=1):
        rule = f"{rule_code} {rule_title}".strip()
        if reverses_id is not None:
            rule = f"冲正：{rule}"
        sheet.row([index, day, code, name, group or "", rule, points, ENTRY_STATUSES.get(status, status),
                   clerk, reviewer, note])
    if sheet.rows == sheet.header_row:
        sheet.note("本季度没有积分记录")
    printing.save(workbook, out)
