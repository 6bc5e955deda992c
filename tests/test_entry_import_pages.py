"""The entry import pages through the test client, CSRF on: upload, preview, confirm, template."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import openpyxl
import pytest

from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, Household

from import_workbooks import xlsx

HEADERS = ["户编号", "户主姓名", "村民小组", "细则编号", "分值", "日期", "说明"]
URL = "/v/jiangba/entries/import"


@pytest.fixture
def clerk(web, make_village, make_user, make_household):
    """A clerk of 蒋坝村 with households 0001 张三 and 0002 李四, logged in."""
    make_village()
    make_household(head_name="张三", group="一组", code="0001", joined_on=dt.date(2020, 1, 1))
    make_household(head_name="李四", group="二组", code="0002", joined_on=dt.date(2020, 1, 1))
    make_user("clerk1", "clerk")
    web.login("clerk1")
    return web


def upload(web, data: bytes, name: str = "积分.xlsx"):
    return web.post(URL, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def confirm_fields(page) -> dict[str, str]:
    """Return the hidden fields of the preview's confirmation form."""
    text = page.get_data(as_text=True)
    match = re.search(r'<form method="post" action="[^"]*/entries/import/confirm">(.*?)</form>', text, re.S)
    assert match, "no confirmation form"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', match.group(1))
    }


def entries(app) -> list[tuple]:
    with app.app_context():
        return [
            (e.household.code, e.rule_code, e.points, e.status, e.created_by_name)
            for e in db.session.execute(db.select(Entry).order_by(Entry.id)).scalars()
        ]


def stored_uploads(app) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def good() -> bytes:
    today = dt.date.today()
    return xlsx([HEADERS, ["0001", None, None, "P01", None, today, "村民会议"], [None, "李四", "二组", "P05", 3, today, ""]])


def test_upload_page_lists_columns_rules_and_the_template_link(clerk):
    page = clerk.get(URL)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "上传并预览" in text and f"{URL}/template" in text
    assert "细则编号" in text and "P01" in text and "支持村两委工作" in text


def test_viewers_and_reviewers_cannot_import_entries(web, make_village, make_user):
    make_village()
    make_user("viewer1", "viewer")
    make_user("reviewer1", "reviewer")
    web.login("viewer1")
    assert web.get(URL).status_code == 403
    web.login("reviewer1")
    assert web.get(URL).status_code == 403


def test_preview_shows_counts_and_rows_and_writes_nothing(app, clerk):
    page = upload(clerk, good())
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "积分导入预览" in text and "尚未写入任何数据" in text
    assert "2 条" in text and "2 户" in text
    assert "张三" in text and "李四" in text and "默认" in text
    assert "确认导入" in text
    assert entries(app) == []
    assert len(stored_uploads(app)) == 1


def test_confirm_records_pending_entries_and_shows_the_result(app, clerk):
    fields = confirm_fields(upload(clerk, good()))
    response = clerk.post(f"{URL}/confirm", fields, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "导入完成：导入 2 条积分记录（涉及 2 户）：待审核 2 条" in text
    assert "积分导入完成" in text
    assert entries(app) == [("0001", "P01", 2, "pending", "clerk1"), ("0002", "P05", 3, "pending", "clerk1")]
    assert stored_uploads(app) == []
    with app.app_context():
        log = db.session.execute(db.select(AuditEntry).filter_by(action="entry.import")).scalar_one()
        assert log.actor == "clerk1"
    # Confirming twice imports once; the second confirm shows the first import's result.
    again = clerk.post(f"{URL}/confirm", fields, follow_redirects=True)
    assert again.request.path == f"{URL}/result"
    assert "这个文件已经导入过" in again.get_data(as_text=True) and "积分导入完成" in again.get_data(as_text=True)
    assert len(entries(app)) == 2


def test_problems_are_listed_by_row_and_column_and_nothing_can_be_confirmed(app, clerk):
    data = xlsx([
        HEADERS,
        ["0001", None, None, "P01", None, dt.date.today(), ""],
        ["0001", None, None, "P01", 9, dt.date.today(), ""],
        [None, "王五", None, "P01", None, dt.date.today(), ""],
    ])
    text = upload(clerk, data).get_data(as_text=True)
    assert "问题（2 个，涉及 2 行）" in text
    assert "细则 P01 的分值应在 1 到 4 之间，这里是 9（给 0001 张三）" in text
    assert "本村没有户主叫“王五”的农户" in text
    assert "确认导入" not in text
    assert entries(app) == []


def test_confirm_after_the_household_was_deactivated_imports_nothing(app, clerk):
    fields = confirm_fields(upload(clerk, good()))
    with app.app_context():
        household = db.session.execute(db.select(Household).filter_by(code="0002")).scalar_one()
        household.status = "inactive"
        db.session.commit()
    response = clerk.post(f"{URL}/confirm", fields)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "没有导入任何数据" in text
    assert "农户 0002 李四 已注销" in text
    assert entries(app) == []
    # The refusal opens the page as its error summary, linked to the rows it names.
    summary = text.index("data-error-summary")
    assert summary < text.index("import-counts") < text.index('<h2 id="problems"')
    assert '<li><a href="#problems">有 1 行有问题，没有导入任何数据。请改正后重新导入</a></li>' in text[summary:]


def test_a_file_that_cannot_be_read_returns_to_the_upload_page_with_the_reason(app, clerk):
    text = upload(clerk, b"not a workbook").get_data(as_text=True)
    assert "无法读取这个 .xlsx 文件" in text and "上传并预览" in text
    assert stored_uploads(app) == []
    text = upload(clerk, b"a,b\n1,2\n", name="x.xls").get_data(as_text=True)
    assert "无法读取这个 .xls 文件" in text
    text = upload(clerk, b"a,b\n1,2\n", name="x.txt").get_data(as_text=True)
    assert "只能导入 .xlsx、.xls、.ods 或 .csv 文件" in text


def test_a_forged_token_is_refused(app, clerk):
    upload(clerk, good())
    response = clerk.post(f"{URL}/confirm", {"token": "../../secret.xlsx", "filename": "x.xlsx"}, follow_redirects=True)
    assert "上传的文件已找不到" in response.get_data(as_text=True)
    assert entries(app) == []


def test_template_downloads_as_xlsx_with_headers_and_an_example_row(clerk):
    response = clerk.get(f"{URL}/template")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["D2"].value == "P01"


def test_the_result_page_without_an_import_goes_back_to_the_upload(clerk):
    response = clerk.get(f"{URL}/result")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)


def test_clerks_see_the_import_in_the_menu(clerk):
    text = clerk.get("/v/jiangba/entries").get_data(as_text=True)
    assert f'href="{URL}"' in text and "导入积分" in text


def test_a_paper_score_sheet_previews_the_rule_found_by_title_and_lists_unused_columns(app, clerk):
    day = dt.date.today()
    page = upload(clerk, xlsx([["户名", "积分项目", "得分", "时间", "登记人"], ["张三", "参加志愿服务", 2, day, "会计"]]))
    text = page.get_data(as_text=True)
    assert "这些列没有导入：<strong>登记人</strong>" in text
    assert "P04 参加志愿服务 <span class=\"muted\">（文件写的是“参加志愿服务”）</span>" in text
    assert "确认导入" in text
