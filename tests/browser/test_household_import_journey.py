"""The first household import, in a real browser: upload, fix the sheet, confirm, find a household."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from villagepoints.personal_data import id_check_char

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
HEADERS = ["户主姓名", "身份证号", "村民小组", "家庭人口", "联系电话", "户类别"]


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


def _wrong_check_digit(first17: str) -> str:
    right = id_check_char(first17)
    return first17 + ("0" if right != "0" else "1")


def _sheet(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "农户"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_admin_imports_a_sheet_fixes_its_error_and_finds_a_household(
    page, login, make_village, make_user, tmp_path
):
    make_village()
    make_user("zhang-admin", "admin", slugs=(), password=PASSWORD)
    good = [
        ["李建国", _id("52273119650312001"), "一组", 4, "13800138001", "党员户"],
        ["王秀英", _id("52273119720815002"), "二组", 3, "13800138002", "一般户"],
    ]
    # Row 4 of the sheet (header is row 1) carries an ID number with a wrong check digit.
    broken = good + [["欧阳春花", _wrong_check_digit("52273119800101003"), "三组", 2, "", "脱贫户"]]
    fixed = good + [["欧阳春花", _id("52273119800101003"), "三组", 2, "", "脱贫户"]]

    login("zhang-admin", PASSWORD)
    page.goto("/v/jiangba/households")
    page.get_by_role("link", name="导入农户").first.click()
    page.get_by_label("农户名册文件").set_input_files(_sheet(tmp_path / "农户名单.xlsx", broken))
    page.get_by_role("button", name="上传并预览").click()

    # The preview names the row and the column at fault, and nothing can be confirmed yet.
    problem = page.locator("table.problems tbody tr").filter(has_text="校验位不正确")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").first).to_have_text("4")
    expect(problem).to_contain_text("身份证号")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)

    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("农户名册文件").set_input_files(_sheet(tmp_path / "农户名单-改正.xlsx", fixed))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("table.problems")).to_have_count(0)
    expect(_count(page, "新增")).to_have_text("3 户")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("alert")).to_contain_text("新增 3 户")

    page.get_by_role("link", name="查看农户台账").click()
    page.get_by_label("搜索").fill("欧阳")
    page.get_by_role("button", name="查询").click()
    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("欧阳春花")
    expect(rows.first).to_contain_text("三组")


def _count(page, label: str):
    """The figure beside a label in the preview's counts (新增 / 更新 / 未变 / 有问题)."""
    return page.locator(".import-counts > div").filter(has=page.locator("dt", has_text=label)).locator("dd")
