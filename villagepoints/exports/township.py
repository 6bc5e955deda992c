"""乡镇季度汇总: the township's villages side by side for a quarter, then one sheet per village.

The summary sheet holds the roll-up rows (rollup.py), the next the township's black list
(named as each village's policy says); each village's sheet holds its
quarter ranking, read from the snapshot in force for a published quarter, as the
village's own notice does.
"""
from __future__ import annotations

import datetime as dt
from typing import BinaryIO

from .. import rollup
from ..models import Township, Village
from ..publication import shown_numbers
from ..quarters import Quarter
from . import printing
from .printing import Column, PrintedSheet

SUMMARY_COLUMNS = [
    Column("名次", 7, "number"),
    Column("村", 16, "name"),
    Column("参评户数", 10, "number"),
    Column("参与户数", 10, "number"),
    Column("参与率", 9, "text"),
    Column("平均分", 9, "number"),
    Column("低于基础分", 11, "number"),
    Column("红榜", 7, "number"),
    Column("黑榜", 7, "number"),
    Column("待审核", 8, "number"),
    Column("公示", 10, "name"),
    Column("兑换积分", 10, "number"),
]
BLACK_COLUMNS = [
    Column("村", 14, "name"),
    Column("户编号", 10, "text"),
    Column("户主", 12, "name"),
    Column("村民小组", 11, "name"),
    Column("季度积分", 10, "number"),
    Column("上榜原因", 36, "text"),
]
VILLAGE_COLUMNS = [
    Column("名次", 7, "number"),
    Column("户编号", 10, "text"),
    Column("户主姓名", 12, "name"),
    Column("村民小组", 11, "name"),
    Column("基础分", 8, "number"),
    Column("加分", 8, "number"),
    Column("扣分", 8, "number"),
    Column("季度积分", 10, "number"),
]


def title(township: Township, quarter: Quarter) -> str:
    """Return the title, e.g. 蒋坝镇2026年第三季度积分汇总."""
    return f"{township.name}{quarter.label}积分汇总"


def filename(township: Township, quarter: Quarter) -> tuple[str, str]:
    """Return the Chinese and ASCII file names of the workbook."""
    return f"{township.name}-{quarter}-乡镇汇总.xlsx", f"{township.slug}-{quarter}-township.xlsx"


def write(township: Township, villages: list[Village], quarter: Quarter, out: BinaryIO,
          today: dt.date | None = None) -> None:
    """Write the summary sheet and one sheet per village."""
    today = today or dt.date.today()
    rows, _best, black = rollup.dashboard(villages, quarter)
    workbook = printing.new_workbook(title(township, quarter))
    unpublished = [r.name for r in rows if r.published is None]
    status = "全部村已公示" if not unpublished else f"未公示（数字为实时统计）：{'、'.join(unpublished)}"
    sheet = PrintedSheet(workbook, "汇总", SUMMARY_COLUMNS, title(township, quarter),
                         [f"共 {len(rows)} 个村；{status}", f"制表日期：{printing.chinese_date(today)}"],
                         landscape=True, header_left=township.name)
    for r in sorted(rows, key=lambda r: (r.rank, r.village)):
        sheet.row([r.rank, r.name, r.households, r.participating, f"{r.participation_rate:.1%}",
                   r.average_score, r.below_base, r.red, r.black, r.pending,
                   f"第{r.published}版" if r.published else "未公示", r.redeemed_points])
    # Named as each village names its black list (full name, 张*, or the group only).
    blacks = PrintedSheet(workbook, "全乡镇黑榜", BLACK_COLUMNS, f"{township.name}{quarter.label}黑榜",
                          [f"共 {len(black)} 户，按季度积分从低到高", "姓名按各村自己的黑榜显示方式"],
                          landscape=True, header_left=township.name)
    for h in black:
        blacks.row([h.village_name, h.code, h.head_name, h.group, h.score, "；".join(h.reasons)])
    taken = {"汇总", "全乡镇黑榜"}
    for village in villages:
        numbers, publication = shown_numbers(village, quarter)
        mark = f"第{publication.version}版" if publication is not None else "未公示，实时统计"
        vsheet = PrintedSheet(workbook, printing.sheet_title(village.name, taken), VILLAGE_COLUMNS,
                              f"{village.name}{quarter.label}积分排名", [mark],
                              header_left=township.name, header_right=village.name)
        for t in numbers["tally"]:
            vsheet.row([t["rank"], t["code"], t["head_name"], t["group"], t["base"], t["plus"], t["minus"],
                        t["score"]])
    printing.save(workbook, out)
