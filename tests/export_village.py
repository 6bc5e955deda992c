"""A small village with a known quarter, shared by the export tests, and a reader for exports."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl

from villagepoints import exports, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.personal_data import id_check_char
from villagepoints.quarters import Quarter

Q3 = Quarter(2026, 3)
DAY = dt.date(2026, 8, 1)
PUBLISH_DAY = dt.date(2026, 10, 8)
CONTACT = "村委会 王主任 13800138000"
# A head's name as someone might type it to attack whoever opens the file.
FORMULA_NAME = '=HYPERLINK("http://example.com","点我")'
ID_NUMBER = "11010119900307123" + id_check_char("11010119900307123")
# (name, group, points in Q3, ID number, phone); ranks follow from 100 + points.
HOUSEHOLDS = [
    ("张三", "一组", 8, ID_NUMBER, "13800138000"),
    (FORMULA_NAME, "一组", 3, None, None),
    ("王五", "一组", 0, None, None),
    ("李四", "二组", -5, None, "13912345678"),
    ("赵六", "二组", 5, None, None),
    ("钱七", "三组", 2, None, None),
]
# By rank: 张三 108, 赵六 105, =HYPERLINK 103, 钱七 102, 王五 100, 李四 95.
RANKED = ["张三", "赵六", FORMULA_NAME, "钱七", "王五", "李四"]


def fill(village) -> dict[str, object]:
    """Register the households and their Q3 entries (no review needed); return them by name."""
    village.require_review = False
    village.objection_contact = CONTACT
    found = {}
    for name, group, points, id_number, phone in HOUSEHOLDS:
        h = create_household(None, village, HouseholdFields(
            head_name=name, group=villages.find_group(village, group), joined_on=dt.date(2020, 1, 1),
            id_number=id_number, phone=phone, address="+1号" if name == "王五" else "",
        ))
        if points:
            code = "P06" if points > 0 else "M09"
            ledger.make_entry(None, village, h, rules.rule_by_code(village, code), DAY, points, evidence=True,
                              note="@备注" if name == "赵六" else "", today=dt.date(2026, 12, 31))
        found[name] = h
    return found


def export_bytes(village, kind: str, **options) -> tuple[bytes, str]:
    """Run one export into memory; return the file and its offered name."""
    out = io.BytesIO()
    name = exports.export(None, village, kind, out, exports.Options(**options))
    return out.getvalue(), name


def read(data: bytes) -> openpyxl.Workbook:
    """Open an export as Excel would."""
    return openpyxl.load_workbook(io.BytesIO(data))


def table(ws, first_row: int) -> list[list]:
    """Return the bordered rows from ``first_row`` down to the first blank line."""
    rows = []
    for row in ws.iter_rows(min_row=first_row, values_only=True):
        if all(v is None for v in row[1:]):
            break
        rows.append(list(row))
    return rows


def sheet_xml(data: bytes, index: int = 1) -> str:
    """Return a sheet's XML as stored in the file."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def commit() -> None:
    db.session.commit()
