"""季度积分公示: the quarter's scores as posted on the notice wall."""
from __future__ import annotations

from typing import BinaryIO, Optional

from ..models import Group
from . import printing
from .printing import Column, PrintedSheet
from .quarter_data import QuarterNumbers, Section

SIGNER = "积分管理小组"
HEADERS = ("序号", "村民小组", "户编号", "户主姓名", "基础分", "加分", "扣分", "季度积分", "排名")


def title(numbers: QuarterNumbers, group: str = "") -> str:
    """Return the notice's title, e.g. 蒋坝村2026年第三季度农户积分公示（一组）."""
    return numbers.title("农户积分公示", group)


def write(numbers: QuarterNumbers, out: BinaryIO, group: Optional[Group] = None, by_group: bool = False) -> None:
    """Write the notice: one sheet for the village or a group, or one sheet per group."""
    workbook = printing.new_workbook(title(numbers))
    taken: set[str] = set()
    for section in numbers.sections(group, by_group):
        _sheet(workbook, numbers, section, printing.sheet_title(section.group or "积分公示", taken))
    printing.save(workbook, out)


def _sheet(workbook, numbers: QuarterNumbers, section: Section, name: str) -> None:
    rows = section.tally
    widths = [
        6,
        printing.fit_width("村民小组", (r["group"] for r in rows), 10, 20),
        printing.fit_width("户编号", (r["code"] for r in rows), 9, 20),
        printing.fit_width("户主姓名", (r["head_name"] for r in rows), 11, 24),
        8, 8, 8, 10, 7,
    ]
    kinds = ["number", "name", "name", "name", "number", "number", "number", "number", "number"]
    sheet = PrintedSheet(
        workbook, name, [Column(h, w, k) for h, w, k in zip(HEADERS, widths, kinds)],
        title(numbers, section.group), [numbers.status_line()],
        header_left=numbers.village_name, header_right=numbers.header_mark(),
    )
    for index, r in enumerate(rows, start=1):
        sheet.row([index, r["group"], r["code"], r["head_name"], r["base"], r["plus"], r["minus"], r["score"],
                   r["rank"]])
    if not rows:
        sheet.note("本组本季度没有参加积分的农户")
    sheet.blank()
    sheet.note(f"说明：季度积分＝基础分＋加分＋扣分（扣分为负数）；排名为全村排名，同分同名次。{numbers.contact_line()}")
    sheet.signature(SIGNER, printing.chinese_date(numbers.signed_on()))
