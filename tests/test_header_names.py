"""The header names clerks use, one test per name, for both imports (the lists live in each import)."""
from __future__ import annotations

import pytest

from villagepoints import entry_import, household_import, sheets

from import_workbooks import xlsx

HOUSEHOLD_NAMES = [(field, name) for field, names in household_import.COLUMNS.items() for name in names]
ENTRY_NAMES = [(field, name) for field, names in entry_import.COLUMNS.items() for name in names]


def header_fields(columns, required, headers) -> dict[str, str]:
    data = xlsx([headers, ["x"] * len(headers)])
    with sheets.SpreadsheetReader(data, "表.xlsx", columns, required=required) as reader:
        (table,) = list(reader.tables())
        list(table.rows)
        return table.columns


@pytest.mark.parametrize("field,name", HOUSEHOLD_NAMES, ids=[n for _f, n in HOUSEHOLD_NAMES])
def test_each_household_header_name_is_read_as_its_field(field, name):
    headers = [name] if field == "head_name" else ["户主姓名", name]
    assert header_fields(household_import.COLUMNS, ("head_name",), headers)[field] == name


@pytest.mark.parametrize("field,name", ENTRY_NAMES, ids=[n for _f, n in ENTRY_NAMES])
def test_each_entry_header_name_is_read_as_its_field(field, name):
    base = {"rule": "细则编号", "entry_date": "日期"}
    headers = [name] + [text for f, text in base.items() if f != field]
    assert header_fields(entry_import.COLUMNS, ("rule", "entry_date"), headers)[field] == name


@pytest.mark.parametrize("field,name", [
    ("head_name", "户名"), ("address", "门牌号"), ("members", "家庭人口数"), ("id_number", "身份证号码"),
])
def test_the_township_roster_headers_are_recognised(field, name):
    assert (field, name) in HOUSEHOLD_NAMES


@pytest.mark.parametrize("field,name", [
    ("rule", "加扣分事项"), ("rule", "积分项目"), ("entry_date", "时间"), ("points", "得分"), ("head_name", "户名"),
])
def test_the_paper_score_sheet_headers_are_recognised(field, name):
    assert (field, name) in ENTRY_NAMES


def test_no_header_name_belongs_to_two_fields_of_one_import():
    for names in (HOUSEHOLD_NAMES, ENTRY_NAMES):
        keys = [sheets.header_key(name) for _field, name in names]
        assert len(keys) == len(set(keys))
