"""光荣榜 and 臊皮榜: the red and black lists in large type, each on its own printed pages.

Black-listed households are named as the village chose (full name, 张*, or the group
only), the same way the public board names them.
"""
from __future__ import annotations

from typing import BinaryIO, Optional

from ..models import Group
from ..resident import public_name
from . import printing
from .printing import Column, PrintedSheet
from .quarter_data import QuarterNumbers, Section

SIZE = 16
HEADING_SIZE = 30
# Column widths are counted in 11 pt characters; large type needs them that much wider.
WIDEN = SIZE / printing.DEFAULT_SIZE


def title(numbers: QuarterNumbers, group: str = "") -> str:
    """Return the lists' title under the village's names for them, e.g. 蒋坝村2026年第三季度光荣榜·臊皮榜（一组）."""
    return numbers.title(f"{numbers.village.red_list_title}·{numbers.village.black_list_title}", group)


def write(numbers: QuarterNumbers, out: BinaryIO, group: Optional[Group] = None, by_group: bool = False) -> None:
    """Write both lists: one sheet for the village or a group, or one sheet per group."""
    workbook = printing.new_workbook(title(numbers))
    taken: set[str] = set()
    naming = numbers.village.black_naming
    for section in numbers.sections(group, by_group):
        _sheet(workbook, numbers, section, naming, printing.sheet_title(section.group or "红黑榜", taken))
    printing.save(workbook, out)


def _sheet(workbook, numbers: QuarterNumbers, section: Section, naming: str, name: str) -> None:
    red = [(r["group"], r["head_name"], r["score"], r["reasons"]) for r in section.red]
    black = [(r["group"], public_name(r, naming), r["score"], r["reasons"]) for r in section.black]
    both = red + black
    reasons = ["；".join(r[3]) for r in both]
    columns = [
        Column("序号", 7, "number"),
        Column("村民小组", printing.fit_width("村民小组", (r[0] for r in both), 12, 24) * WIDEN, "name"),
        Column("户主", printing.fit_width("户主", (r[1] for r in both), 10, 24) * WIDEN, "name"),
        Column("季度积分", 14, "number"),
        Column("上榜理由", printing.fit_width("上榜理由", reasons, 30, 40) * WIDEN, "wrap"),
    ]
    sheet = PrintedSheet(
        workbook, name, columns, title(numbers, section.group), [numbers.status_line()],
        size=SIZE, title_size=24, header_left=numbers.village_name, header_right=numbers.header_mark(),
    )
    _list(sheet, numbers.village.red_list_title, printing.RED, red)
    sheet.page_break()
    _list(sheet, numbers.village.black_list_title, "000000", black)
    sheet.blank()
    sheet.note(numbers.contact_line())


def _list(sheet: PrintedSheet, heading: str, color: str, rows: list[tuple]) -> None:
    sheet.heading(heading, HEADING_SIZE, color)
    for index, (group, name, score, reasons) in enumerate(rows, start=1):
        sheet.row([index, group, name, score, "；".join(reasons)])
    if not rows:
        sheet.note("本季度无")
