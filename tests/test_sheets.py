"""Reading messy village spreadsheets and writing safe workbooks (no database needed)."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from villagepoints import sheets
from villagepoints.household_import import COLUMNS

from import_workbooks import csv_bytes, excel_style_xlsx, person_id, workbook, xlsx

HEADER = ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口", "联系电话", "户类别"]


def read(data: bytes, filename: str = "名册.xlsx", **limits) -> list[tuple[sheets.Table, list[sheets.Row]]]:
    """Read every table as the household import does."""
    with sheets.SpreadsheetReader(
        data, filename, COLUMNS, required=("head_name",), dates=("joined_on",), **limits
    ) as reader:
        return [(table, list(table.rows)) for table in reader.tables()]


def only_rows(data: bytes, filename: str = "名册.xlsx") -> list[sheets.Row]:
    (table, rows), = read(data, filename)
    return rows


def test_title_rows_above_the_header_are_skipped_and_row_numbers_stay_as_excel_shows_them():
    data = xlsx(
        [
            ["蒋坝村2024年农户花名册"],
            ["填表单位：蒋坝村村委会", None, None, "填表日期：2024年3月"],
            HEADER,
            ["0001", "张三", person_id(1), "一组", 4, "13800138000", "一般户"],
        ],
        merges=["A1:G1"],
    )
    (table, rows), = read(data)
    assert table.header_row == 3
    assert [r.number for r in rows] == [4]
    assert rows[0].values["head_name"] == "张三"


def test_header_names_vary_and_the_sheets_own_spelling_is_kept_for_messages():
    data = xlsx([["户号", "户主", "证件号码", "网格", "人数", "手机号码", "户属性"], ["7", "李四", None, "二组", 3, None, None]])
    (table, rows), = read(data)
    assert table.columns == {
        "code": "户号", "head_name": "户主", "id_number": "证件号码", "group": "网格",
        "members": "人数", "phone": "手机号码", "categories": "户属性",
    }
    assert rows[0].values["group"] == "二组"


def test_header_with_notes_in_brackets_and_stars_still_matches():
    data = xlsx([["户主姓名*", "身份证号（18位）", "家庭人口(人)"], ["王五", person_id(2), 2]])
    (table, rows), = read(data)
    assert set(table.columns) == {"head_name", "id_number", "members"}


def test_vertically_merged_group_cells_fill_every_row_of_the_block():
    data = xlsx(
        [
            HEADER,
            ["0001", "张三", None, "一组", 4, None, None],
            ["0002", "李四", None, None, 3, None, None],
            ["0003", "王五", None, None, 2, None, None],
            ["0004", "赵六", None, "二组", 5, None, None],
        ],
        merges=["D2:D4"],
    )
    rows = only_rows(data)
    assert [r.values["group"] for r in rows] == ["一组", "一组", "一组", "二组"]


def test_blank_rows_are_skipped_even_inside_a_merged_block():
    data = xlsx(
        [
            HEADER,
            ["0001", "张三", None, "一组", 4, None, None],
            [None] * 7,
            [None] * 7,
            ["0002", "李四", None, None, 3, None, None],
        ],
        merges=["D2:D5"],
    )
    rows = only_rows(data)
    assert [(r.number, r.values["head_name"], r.values["group"]) for r in rows] == [
        (2, "张三", "一组"), (5, "李四", "一组"),
    ]


def test_full_width_digits_letters_and_spaces_become_half_width():
    data = xlsx([HEADER, ["０００１", "　张三　", "１１０１０１１９９００３０７１２３Ｘ", "一组", "４", "１３８ ００１３ ８０００", None]])
    values = only_rows(data)[0].values
    assert values["code"] == "0001"
    assert values["head_name"] == "张三"
    assert values["id_number"] == "11010119900307123X"
    assert values["members"] == "4"


def test_an_id_number_stored_as_a_number_is_refused_with_the_reason():
    data = xlsx([HEADER, ["0001", "张三", 320102198500000010, "一组", 4, None, None]])
    value = only_rows(data)[0].values["id_number"]
    with pytest.raises(sheets.CellError, match="存成了数字，末几位已丢失"):
        sheets.id_text(value)
    with pytest.raises(sheets.CellError, match="存成了数字"):
        sheets.id_text("3.20102E+17")
    assert sheets.id_text(" 320102198500000010 ") == " 320102198500000010 "


def test_whole_numbers_from_number_cells_lose_the_decimal_point():
    assert sheets.text(13800138000) == "13800138000"
    assert sheets.text(5.0) == "5"
    assert sheets.to_int(5.0) == 5
    assert sheets.to_int("5人") == 5
    with pytest.raises(sheets.CellError):
        sheets.to_int(2.5)
    with pytest.raises(sheets.CellError):
        sheets.to_int("五")


def test_dates_are_read_from_date_cells_and_from_the_ways_people_type_them():
    assert sheets.to_date(dt.datetime(2024, 3, 1, 0, 0)) == dt.date(2024, 3, 1)
    for typed in ("2024-03-01", "2024/3/1", "2024年3月1日", "2024.3.1", "20240301"):
        assert sheets.to_date(typed) == dt.date(2024, 3, 1), typed
    with pytest.raises(sheets.CellError, match="2024-03-01"):
        sheets.to_date("去年三月")
    with pytest.raises(sheets.CellError):
        sheets.to_date("2024-02-30")


def test_date_cells_in_a_workbook_come_back_as_dates():
    data = xlsx([["户主姓名", "入户日期"], ["张三", dt.date(2024, 3, 1)]])
    assert only_rows(data)[0].values == {"head_name": "张三", "joined_on": dt.date(2024, 3, 1)}


def test_excel_style_workbook_with_shared_strings_and_chinese_date_format():
    data = excel_style_xlsx([["户主姓名", "入户日期", "家庭人口"], ["张三", ("date", 45352), 3]])
    (table, rows), = read(data)
    assert table.sheet == "户籍"
    assert rows[0].values == {"head_name": "张三", "joined_on": dt.date(2024, 3, 1), "members": 3}


def test_rows_left_out_of_the_file_keep_row_numbers_as_excel_shows_them():
    # Excel writes no element for a blank row; this file also declares a range far
    # smaller than its data, as some exporting programs do.
    data = excel_style_xlsx(
        [["户主姓名", "村民小组"], ["张三", "一组"], ["李四", "二组"]],
        row_numbers=[3, 7, 12], dimension="A3:A3",
    )
    (table, rows), = read(data)
    assert table.header_row == 3
    assert [(r.number, r.values["head_name"], r.values["group"]) for r in rows] == [
        (7, "张三", "一组"), (12, "李四", "二组"),
    ]


def test_chinese_date_format_in_a_1904_workbook_gives_the_same_date():
    # 43890 days after 1904-01-01 is 2024-03-01 (45352 in the 1900 system).
    data = excel_style_xlsx([["户主姓名", "入户日期"], ["张三", ("date", 43890)]], date1904=True)
    assert only_rows(data)[0].values["joined_on"] == dt.date(2024, 3, 1)


def test_a_date_typed_as_a_plain_number_is_read_in_the_date_column_only():
    data = excel_style_xlsx([["户主姓名", "入户日期", "家庭人口"], ["张三", 45352, 3], ["李四", 20240301, 2]])
    zhang, li = only_rows(data)
    assert zhang.values == {"head_name": "张三", "joined_on": dt.date(2024, 3, 1), "members": 3}
    assert sheets.to_date(li.values["joined_on"]) == dt.date(2024, 3, 1)
    with pytest.raises(sheets.CellError, match="无法识别"):
        sheets.to_date(123456)


def test_a_failed_formula_reads_as_a_blank_cell():
    data = excel_style_xlsx([["户主姓名", "村民小组"], ["张三", ("error", "#N/A")]])
    assert only_rows(data)[0].values == {"head_name": "张三", "group": None}


def test_a_sheet_with_excel_drop_down_lists_kept_in_its_extension_list_is_read():
    # Excel 2010 and later keep a drop-down list that refers to another sheet here.
    ext = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:dataValidations count="0"/></ext></extLst>'
    )
    data = excel_style_xlsx([["户主姓名", "村民小组"], ["张三", "一组"]], sheet_tail=ext)
    assert only_rows(data)[0].values == {"head_name": "张三", "group": "一组"}


def test_a_damaged_sheet_is_refused_not_crashed_on():
    data = excel_style_xlsx([["户主姓名"], ["张三"]], sheet_tail="<mergeCells><mergeCell")
    with pytest.raises(sheets.SheetError, match="内容有损坏"):
        read(data)


def test_categories_split_on_chinese_and_ascii_separators():
    assert sheets.split_list("党员户、脱贫户，低保户;五保户；监测户/村干部户 一般户") == [
        "党员户", "脱贫户", "低保户", "五保户", "监测户", "村干部户", "一般户",
    ]
    assert sheets.split_list(sheets.clean_text("党员户，脱贫户")) == ["党员户", "脱贫户"]


def test_gbk_csv_from_chinese_office_software_is_read():
    data = csv_bytes([["蒋坝村农户名单"], ["户主姓名", "村民小组"], ["张三", "一组"]], encoding="gbk")
    (table, rows), = read(data, "名单.csv")
    assert table.header_row == 2
    assert rows[0].values == {"head_name": "张三", "group": "一组"}


def test_utf8_csv_with_a_byte_order_mark_is_read():
    data = csv_bytes([["户主姓名", "村民小组"], ["李四", "二组"]], encoding="utf-8-sig")
    rows = only_rows(data, "名单.csv")
    assert rows[0].values == {"head_name": "李四", "group": "二组"}


def test_tab_separated_csv_is_read():
    data = csv_bytes([["户主姓名", "村民小组"], ["王五", "三组"]], delimiter="\t")
    assert only_rows(data, "名单.csv")[0].values == {"head_name": "王五", "group": "三组"}


def test_header_repeated_on_every_printed_page_is_skipped():
    data = xlsx([["户主姓名", "村民小组"], ["张三", "一组"], ["户主姓名", "村民小组"], ["李四", "二组"]])
    assert [r.values["head_name"] for r in only_rows(data)] == ["张三", "李四"]


def test_every_sheet_with_a_header_is_read_and_notes_sheets_are_skipped():
    data = workbook({
        "说明": ([["本表由村委会填写"]], []),
        "一组": ([["户主姓名"], ["张三"]], []),
        "二组": ([["姓名"], ["李四"], ["王五"]], []),
    })
    tables = read(data)
    assert [(t.sheet, [r.values["head_name"] for r in rows]) for t, rows in tables] == [
        ("一组", ["张三"]), ("二组", ["李四", "王五"]),
    ]


def test_a_file_without_a_name_column_is_refused_with_what_to_fix():
    with pytest.raises(sheets.SheetError, match="没有找到表头.*户主姓名"):
        read(xlsx([["序号", "地址"], [1, "一组"]]))


def test_files_over_the_size_limit_are_refused():
    data = xlsx([["户主姓名"], ["张三"]])
    with pytest.raises(sheets.SheetError, match="超过了 0 MB 的上限"):
        read(data, max_bytes=100)
    with pytest.raises(sheets.SheetError, match="10 MB"):
        read(b"x" * (10 * 1024 * 1024 + 1), "名单.csv")


def test_files_over_the_row_limit_are_refused():
    data = xlsx([["户主姓名"]] + [[f"户主{i}"] for i in range(6)])
    with pytest.raises(sheets.SheetError, match="超过 5 行数据的上限"):
        read(data, max_rows=5)
    assert len(only_rows(xlsx([["户主姓名"]] + [[f"户主{i}"] for i in range(5)]))) == 5


def test_other_formats_and_broken_xls_or_ods_files_are_refused_with_advice():
    with pytest.raises(sheets.SheetError, match="无法读取这个 .xls 文件"):
        read(b"\xd0\xcf\x11\xe0", "名单.xls")
    with pytest.raises(sheets.SheetError, match="无法读取这个 .ods 文件"):
        read(b"PK\x03\x04 not a zip", "名单.ods")
    with pytest.raises(sheets.SheetError, match="只能导入 .xlsx、.xls、.ods 或 .csv"):
        read(b"hello", "名单.txt")


def test_a_broken_xlsx_is_refused_not_crashed_on():
    with pytest.raises(sheets.SheetError, match="无法读取"):
        read(b"PK\x03\x04 this is not really a zip", "名单.xlsx")


def test_formula_like_text_is_recognised():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert sheets.formula_like(start + "1")
    assert not sheets.formula_like("张三")
    assert not sheets.formula_like(-5)


def test_written_workbook_keeps_text_columns_as_text_and_formulas_inert():
    data = sheets.workbook_bytes("农户", ["户编号", "备注"], [["0001", "=1+1"]], text_columns=[0])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].value == "0001"
    assert sheet["A2"].number_format == "@"
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value == "=1+1" and sheet["B2"].quotePrefix
