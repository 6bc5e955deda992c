"""年度积分: year scores, list appearances, the 三均衡 priority list and star ratings."""
from __future__ import annotations

from typing import BinaryIO

from ..annual import star_bands, year_rows
from ..models import Village
from . import printing
from .printing import Column, PrintedSheet

SIGNER = "积分管理小组"
STAR = "★"


def title(village: Village, year: int) -> str:
    """Return the title, e.g. 蒋坝村2026年度农户积分及三均衡优先名单."""
    return f"{village.name}{year}年度农户积分及三均衡优先名单"


def write(village: Village, year: int, out: BinaryIO) -> None:
    """Write the year's priority list with scores, red and black appearances and stars."""
    rows = year_rows(village, year)
    bands = star_bands(village, year)
    if bands:
        stars = "；".join(f"{STAR * s}（{s}星）：{m}分及以上" for s, m in bands)
        rating = f"星级标准：{stars}"
    else:
        rating = "本年度未设星级标准"
    explain = ("优先顺序按年度积分从高到低，同分按上红榜次数；当年上过黑榜的农户排在其他农户之后。"
               "上榜次数按本年各季度正式公示的红黑榜统计。")
    columns = [
        Column("优先序号", 9, "number"),
        Column("村民小组", printing.fit_width("村民小组", (r.group for r in rows), 10, 20), "name"),
        Column("户编号", printing.fit_width("户编号", (r.code for r in rows), 9, 20), "name"),
        Column("户主姓名", printing.fit_width("户主姓名", (r.head_name for r in rows), 11, 24), "name"),
        Column("年度积分", 10, "number"),
        Column("上红榜次数", 11, "number"),
        Column("上黑榜次数", 11, "number"),
        Column("星级", 12, "name"),
    ]
    workbook = printing.new_workbook(title(village, year))
    sheet = PrintedSheet(workbook, f"{year}年度", columns, title(village, year), [rating],
                         header_left=village.name)
    for r in rows:
        sheet.row([r.priority, r.group, r.code, r.head_name, r.year_score, r.red_count, r.black_count,
                   STAR * r.stars])
    if not rows:
        sheet.note("本年度没有参加积分的农户")
    sheet.blank()
    sheet.note(f"说明：{explain}")
    sheet.signature(SIGNER, printing.chinese_date(None))
    printing.save(workbook, out)
