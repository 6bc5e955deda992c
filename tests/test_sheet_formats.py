"""Every format a clerk has (.xlsx, .xls, .ods, GBK .csv) reads the same, and no small file blows a worker up."""
from __future__ import annotations

import datetime as dt
import io
import time
import zipfile

import openpyxl
import pytest

from villagepoints import sheets, villages
from villagepoints.household_import import COLUMNS, ImportRefused, plan_import

from import_workbooks import csv_bytes, excel_style_xlsx, person_id, soffice_convert

ZHANG_BAD_ID = person_id(8)[:17] + ("0" if person_id(8)[17] != "0" else "1")
# A township's roster as it is kept: a merged title, a blank row, the township's own headers
# (户名/门牌号/家庭人口数, and 人口类型 that is not imported), full-width digits, dates typed
# as text and as dates, an ID number stored as a number and one with a wrong check digit.
MESSY = [
    ["蒋坝村乡村治理积分农户名册", None, None, None, None, None, None],
    [None, None, None, None, None, None, None],
    ["户号", "户名", "身份证号码", "村民小组", "家庭人口数", "门牌号", "人口类型", "入户日期"],
    ["０００１", "张　三", person_id(1), "一组", 4, "蒋坝路１号", "户籍人口", dt.date(2024, 3, 1)],
    ["0002", "李四", person_id(2), "二组", "3人", "蒋坝路2号", "常住人口", "2024/3/2"],
    [None, None, None, None, None, None, None, None],
    ["0003", "王五", 320102198500000010, "一组", 2, None, None, "2024年3月3日"],
    ["0004", "张建国", ZHANG_BAD_ID, "二组", 5, None, None, None],
    ["0005", "赵六", None, "三组", 1, "蒋坝路5号", None, "20240305"],
]


def messy_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名册"
    for row in MESSY:
        sheet.append(row)
    for row in range(4, 10):
        sheet.cell(row=row, column=8).number_format = "yyyy-mm-dd"
    sheet.merge_cells("A1:H1")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def messy_gbk_csv() -> bytes:
    # As WPS writes it: GBK, the ID number in a number cell already shown as 3.20102E+17.
    def shown(value):
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, int) and value > 10**15:
            return "3.20102E+17"
        return value

    return csv_bytes([[shown(v) for v in row] for row in MESSY], encoding="gbk")


@pytest.fixture(scope="module")
def messy_files(tmp_path_factory) -> dict[str, bytes]:
    """The messy roster saved by LibreOffice as .xlsx, .xls and .ods, and by WPS as GBK .csv."""
    tmp = tmp_path_factory.mktemp("messy")
    source = messy_xlsx()
    return {
        "名册.xlsx": soffice_convert(source, "名册.xlsx", "xlsx", tmp),
        "名册.xls": soffice_convert(source, "名册.xlsx", "xls", tmp),
        "名册.ods": soffice_convert(source, "名册.xlsx", "ods", tmp),
        "名册.csv": messy_gbk_csv(),
    }


@pytest.fixture
def village(ctx, make_village):
    make_village()
    return villages.get_by_slug("jiangba")


def outcome(plan):
    households = [
        (r.code, r.head_name, r.id_number, r.group, r.members, r.address, r.joined_on) for r in plan.rows
    ]
    return households, [(p.row, p.column, p.name, p.message) for p in plan.problems], plan.unused


def test_the_same_messy_sheet_as_xls_ods_xlsx_and_gbk_csv_imports_the_same_households_with_the_same_problems(
    village, messy_files
):
    outcomes = {name: outcome(plan_import(village, data, name)) for name, data in messy_files.items()}
    households, problems, unused = outcomes["名册.xlsx"]
    assert households == [
        ("0001", "张三", person_id(1), "一组", 4, "蒋坝路1号", dt.date(2024, 3, 1)),
        ("0002", "李四", person_id(2), "二组", 3, "蒋坝路2号", dt.date(2024, 3, 2)),
        ("0005", "赵六", None, "三组", 1, "蒋坝路5号", dt.date(2024, 3, 5)),
    ]
    assert [(row, column, name) for row, column, name, _ in problems] == [
        (7, "身份证号码", "王五"), (8, "身份证号码", "张建国"),
    ]
    assert "存成了数字" in problems[0][3]
    assert unused == ["人口类型"]
    for name, got in outcomes.items():
        assert got == outcomes["名册.xlsx"], name


def test_the_problem_line_names_row_column_household_and_the_masked_value(village, messy_files):
    plan = plan_import(village, messy_files["名册.xls"], "名册.xls")
    masked = ZHANG_BAD_ID[:6] + "********" + ZHANG_BAD_ID[-4:]
    assert plan.problems[1].line() == f"第8行 身份证号码（张建国）：{masked} 校验位不正确，请核对"


# --- never blown up by a small file ---------------------------------------------------------


def read_all(data: bytes, filename: str = "名册.xlsx") -> None:
    with sheets.SpreadsheetReader(data, filename, COLUMNS, required=("head_name",)) as reader:
        for table in reader.tables():
            for _row in table.rows:
                pass


def refused_quickly(data: bytes, filename: str, match: str) -> None:
    started = time.perf_counter()
    with pytest.raises(sheets.SheetError, match=match):
        read_all(data, filename)
    assert time.perf_counter() - started < 1.0


def with_sheet_part(replace: dict[str, bytes], base: bytes = None) -> bytes:
    """Rewrite parts of a minimal Excel-style workbook, compressed as hard as zip can."""
    base = base or excel_style_xlsx([["户主姓名", "户编号"], ["张三", "0001"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            for name, change in replace.items():
                if info.filename == name:
                    data = change(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def test_shared_strings_that_unpack_to_hundreds_of_megabytes_are_refused_within_a_second():
    filler = b"<si><t>" + b"x" * 1000 + b"</t></si>"
    data = with_sheet_part({
        "xl/sharedStrings.xml": lambda d: d.replace(b"</sst>", filler * 40_000 + b"</sst>"),
    })
    assert len(data) < 1024 * 1024
    refused_quickly(data, "名册.xlsx", "解压后过大")


def test_a_sheet_of_blank_rows_that_unpacks_to_hundreds_of_megabytes_is_refused_within_a_second():
    blank = b'<row r="3"><c r="A3" s="0"/><c r="B3" s="0"/></row>' * 2_000_000
    data = with_sheet_part({"xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", blank + b"</sheetData>")})
    assert len(data) < 2 * 1024 * 1024
    refused_quickly(data, "名册.xlsx", "解压后过大")


def test_one_cell_in_column_xfd_on_200000_rows_is_refused_naming_the_cell_within_a_second():
    far = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (r, r) for r in range(3, 200_003))
    data = with_sheet_part({"xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", far + b"</sheetData>")})
    assert len(data) < 1024 * 1024
    refused_quickly(data, "名册.xlsx", "工作表“户籍”的 XFD3 单元格还有内容，超出了导入能读取的范围")


def test_a_value_far_below_the_row_limit_is_refused_but_styled_empty_cells_are_not():
    far = b'<row r="900000"><c r="A900000" t="s"><v>0</v></c></row>'
    data = with_sheet_part({"xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", far + b"</sheetData>")})
    refused_quickly(data, "名册.xlsx", "A900000")
    styled = b'<row r="900000"><c r="A900000" s="0"/><c r="XFD900000" s="0"/></row>'
    data = with_sheet_part({"xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", styled + b"</sheetData>")})
    read_all(data)


def test_xls_and_ods_with_a_cell_far_out_are_refused_before_reading(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["A2"] = "户主姓名", "张三"
    sheet.cell(row=65536, column=256).value = "x"
    out = io.BytesIO()
    book.save(out)
    for target in ("xls", "ods"):
        data = soffice_convert(out.getvalue(), "远.xlsx", target, tmp_path)
        refused_quickly(data, f"远.{target}", "IV65536 单元格还有内容")


def test_csv_rows_are_read_only_up_to_the_column_limit():
    data = csv_bytes([["户主姓名"] + [""] * 20_000, ["张三"] + [""] * 19_999 + ["x"]])
    with sheets.SpreadsheetReader(data, "名册.csv", COLUMNS, required=("head_name",)) as reader:
        (table,) = list(reader.tables())
        assert [r.values for r in table.rows] == [{"head_name": "张三"}]


def test_a_file_over_the_row_limit_is_refused_as_an_import(village):
    data = csv_bytes([["户主姓名"]] + [[f"户主{i}"] for i in range(11)])
    with pytest.raises(ImportRefused, match="超过 10 行数据的上限"):
        plan_import(village, data, "名册.csv", max_rows=10)


def test_vertically_merged_group_cells_fill_every_row_in_xls_and_ods_too(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["户主姓名", "村民小组"], ["张三", "一组"], ["李四", None], ["王五", "二组"]):
        sheet.append(row)
    sheet.merge_cells("B2:B3")
    out = io.BytesIO()
    book.save(out)
    for target in ("xls", "ods"):
        data = soffice_convert(out.getvalue(), "合并.xlsx", target, tmp_path)
        with sheets.SpreadsheetReader(data, f"合并.{target}", COLUMNS, required=("head_name",)) as reader:
            (table,) = list(reader.tables())
            assert [r.values.get("group") for r in table.rows] == ["一组", "一组", "二组"], target


def test_a_header_merged_across_two_columns_is_not_listed_as_unused():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户主姓名", "联系电话", None])
    sheet.append(["张三", "13800138000", "备用"])
    sheet.merge_cells("B1:C1")
    out = io.BytesIO()
    book.save(out)
    with sheets.SpreadsheetReader(out.getvalue(), "名册.xlsx", COLUMNS, required=("head_name",)) as reader:
        (table,) = list(reader.tables())
        assert table.unused == []


def test_a_far_cell_in_a_sheet_kept_outside_the_usual_folder_is_still_found():
    far = b'<row r="3"><c r="XFD3"><v>1</v></c></row>'
    moved = with_sheet_part({
        "xl/worksheets/sheet1.xml": lambda d: d.replace(b"</sheetData>", far + b"</sheetData>"),
    })
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(moved)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            name = info.filename
            if name == "xl/worksheets/sheet1.xml":
                name = "elsewhere/data.xml"
            elif name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                data = data.replace(b"worksheets/sheet1.xml", b"../elsewhere/data.xml").replace(
                    b"/xl/worksheets/sheet1.xml", b"/elsewhere/data.xml")
            target.writestr(name, data)
    refused_quickly(out.getvalue(), "名册.xlsx", "XFD3 单元格还有内容")
