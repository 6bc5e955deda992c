"""The import pages through the test client, CSRF on: upload, preview, confirm, template."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path

import openpyxl
import pytest

from villagepoints import villages
from villagepoints.extensions import db
from villagepoints.models import Household

from import_workbooks import person_id, xlsx

GOOD = [
    ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口", "联系电话"],
    ["0001", "张三", person_id(1), "一组", 4, "13800138000"],
    ["0002", "李四", person_id(2), "二组", 3, None],
]


@pytest.fixture
def clerk(web, make_village, make_user):
    """A clerk of 蒋坝村, logged in."""
    make_village()
    make_user("clerk1", "clerk")
    web.login("clerk1")
    return web


def upload(web, data: bytes, name: str = "名册.xlsx", **options):
    form = {"file": (io.BytesIO(data), name), **{k: "y" for k, v in options.items() if v}}
    return web.post("/v/jiangba/import", form, content_type="multipart/form-data")


def form_fields(page, action: str) -> dict[str, str]:
    """Return the hidden fields of the page's form that posts to ``action``."""
    text = page.get_data(as_text=True)
    match = re.search(r'<form method="post" action="[^"]*/import/%s">(.*?)</form>' % action, text, re.S)
    assert match, f"no form posting to {action}"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', match.group(1))
    }


def count(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Household.id))).scalar_one()


def stored_uploads(app) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_upload_page_offers_the_form_options_and_the_template(clerk):
    page = clerk.get("/v/jiangba/import")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "上传并预览" in text
    assert "只导入无误的行" in text and "自动新建缺少的小组" in text
    assert "/v/jiangba/import/template" in text


def test_viewers_cannot_import(web, make_village, make_user):
    make_village()
    make_user("viewer1", "viewer")
    web.login("viewer1")
    assert web.get("/v/jiangba/import").status_code == 403


def test_preview_shows_counts_and_masked_personal_data_and_writes_nothing(app, clerk):
    page = upload(clerk, xlsx(GOOD))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "导入预览" in text
    assert "<dt>新增</dt><dd>2 户</dd>" in text
    assert person_id(1) not in text and person_id(1)[:6] + "********" + person_id(1)[-4:] in text
    assert "138****8000" in text
    assert "确认导入" in text
    assert count(app) == 0


def test_confirm_imports_and_shows_the_result_with_a_link_to_the_register(app, clerk):
    preview = upload(clerk, xlsx(GOOD))
    assert len(stored_uploads(app)) == 1
    done = clerk.post("/v/jiangba/import/confirm", form_fields(preview, "confirm"), follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "导入完成：新增 2 户，更新 0 户，未变 0 户，拒绝 0 行" in text
    assert "/v/jiangba/households" in text and "查看农户台账" in text
    assert count(app) == 2
    assert stored_uploads(app) == []


def test_problems_are_listed_with_row_and_column_and_block_the_confirm(app, clerk):
    wrong_check = person_id(3)[:17] + ("0" if person_id(3)[17] != "0" else "1")
    rows = GOOD + [["0003", "王五", wrong_check, "一组", 2, None]]
    page = upload(clerk, xlsx(rows))
    text = page.get_data(as_text=True)
    assert "校验位不正确，请核对" in text
    assert '<td class="num">4</td><td class="nowrap">身份证号<span class="muted">（王五）</span></td>' in text
    assert "确认导入" not in text
    assert "只导入无误的行" in text
    # Confirming anyway (a forged post) is refused by the domain rule.
    forged = dict(form_fields(page, "preview"), skip_invalid="")
    refused = clerk.post("/v/jiangba/import/confirm", forged)
    assert "有 1 行有问题，没有导入任何数据" in refused.get_data(as_text=True)
    assert count(app) == 0


def test_clerk_can_choose_to_import_only_the_valid_rows(app, clerk):
    rows = GOOD + [["0003", "王五", "12345", "一组", 2, None]]
    page = upload(clerk, xlsx(rows))
    skipping = clerk.post("/v/jiangba/import/preview", form_fields(page, "preview"))
    text = skipping.get_data(as_text=True)
    assert "已选择只导入无误的行" in text and "确认导入" in text
    done = clerk.post("/v/jiangba/import/confirm", form_fields(skipping, "confirm"), follow_redirects=True)
    assert "新增 2 户，更新 0 户，未变 0 户，拒绝 1 行" in done.get_data(as_text=True)
    assert count(app) == 2


def test_missing_groups_can_be_created_from_the_preview(app, clerk):
    page = upload(clerk, xlsx([["户主姓名", "村民小组"], ["张三", "五组"]]))
    text = page.get_data(as_text=True)
    assert "文件里有本村还没有的小组：<strong>五组</strong>" in text
    assert "新建这些小组并继续" in text
    again = clerk.post("/v/jiangba/import/preview", form_fields(page, "preview"))
    assert "确认导入时将新建这些小组：<strong>五组</strong>" in again.get_data(as_text=True)
    done = clerk.post("/v/jiangba/import/confirm", form_fields(again, "confirm"), follow_redirects=True)
    assert "已新建小组：五组" in done.get_data(as_text=True)
    with app.app_context():
        assert villages.find_group(villages.get_by_slug("jiangba"), "五组") is not None


def test_admins_see_full_id_numbers_in_the_preview(web, make_village, make_user):
    make_village()
    make_user("admin1", "admin", slugs=())
    web.login("admin1")
    text = upload(web, xlsx(GOOD)).get_data(as_text=True)
    assert person_id(1) in text


def test_reuploading_the_same_file_has_nothing_to_import(app, clerk):
    preview = upload(clerk, xlsx(GOOD))
    clerk.post("/v/jiangba/import/confirm", form_fields(preview, "confirm"))
    text = upload(clerk, xlsx(GOOD)).get_data(as_text=True)
    assert "<dt>未变</dt><dd>2 户</dd>" in text
    assert "不用导入" in text and "确认导入" not in text


def test_a_tampered_token_cannot_reach_files_outside_the_upload_folder(app, clerk):
    secret = Path(app.instance_path) / "secret_key.xlsx"
    secret.write_bytes(xlsx(GOOD))
    for token in ("../secret_key.xlsx", "..%2Fsecret_key.xlsx", "0" * 32 + ".xlsx"):
        page = clerk.post(
            "/v/jiangba/import/confirm",
            {"token": token, "filename": "x.xlsx", "skip_invalid": "", "create_groups": ""},
            follow_redirects=True,
        )
        assert "上传的文件已找不到" in page.get_data(as_text=True)
    assert count(app) == 0


def test_confirming_twice_imports_once_and_shows_the_first_result_again(app, clerk):
    fields = form_fields(upload(clerk, xlsx(GOOD)), "confirm")
    first = clerk.post("/v/jiangba/import/confirm", fields, follow_redirects=True)
    assert "新增</dt><dd>2 户" in first.get_data(as_text=True)
    again = clerk.post("/v/jiangba/import/confirm", fields, follow_redirects=True)
    text = again.get_data(as_text=True)
    assert again.request.path == "/v/jiangba/import/result"
    assert "这个文件已经导入过（可能点了不止一次确认），下面是那次导入的结果，没有重复导入" in text
    assert "文件：名册.xlsx" in text and "新增</dt><dd>2 户" in text
    assert count(app) == 2


def test_files_over_the_limit_get_a_clear_message(app, clerk):
    app.config["IMPORT_MAX_BYTES"] = 2000
    page = upload(clerk, xlsx(GOOD + [[f"{i:04d}", f"户主{i}", None, "一组", 1, None] for i in range(3, 300)]))
    assert "文件超过 0 MB 的上限，请拆分后分批导入" in page.get_data(as_text=True)
    assert stored_uploads(app) == []


def test_wrong_file_types_are_refused_with_advice(clerk):
    page = upload(clerk, b"hello", "名册.txt")
    assert "只能导入 .xlsx、.xls、.ods 或 .csv 文件" in page.get_data(as_text=True)
    page = upload(clerk, b"\xd0\xcf\x11\xe0", "名册.xls")
    assert "无法读取这个 .xls 文件" in page.get_data(as_text=True)


def test_unreadable_file_is_refused_and_not_kept(app, clerk):
    page = upload(clerk, xlsx([["序号", "地址"], [1, "一组"]]))
    assert "没有找到表头" in page.get_data(as_text=True)
    assert stored_uploads(app) == []


def test_csv_in_gbk_is_previewed(clerk):
    data = "户主姓名,村民小组\r\n张三,一组\r\n".encode("gbk")
    text = upload(clerk, data, "名单.csv").get_data(as_text=True)
    assert "<dt>新增</dt><dd>1 户</dd>" in text and "张三" in text


def test_upload_without_csrf_token_is_refused(app, clerk):
    page = clerk.client.post(
        "/v/jiangba/import", data={"file": (io.BytesIO(xlsx(GOOD)), "名册.xlsx")}, content_type="multipart/form-data"
    )
    assert page.status_code == 400
    assert stored_uploads(app) == []


def test_template_downloads_as_an_xlsx_with_headers_and_an_example(clerk):
    response = clerk.get("/v/jiangba/import/template")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "%E5%86%9C%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("户编号", "户主姓名", "身份证号")
    assert len(rows) == 2


RENAMING = [
    ["户编号", "户主姓名", "身份证号", "村民小组", "家庭人口", "联系电话", "民族"],
    ["0001", "张三", person_id(1), "三组", 4, "13900139000", "汉"],
    [None, "王五", person_id(2), "二组", 3, None, "汉"],
]


def head_names(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(db.select(Household.code, Household.head_name)).all())


def test_an_identity_change_needs_its_own_tick_before_the_import_can_be_confirmed(app, clerk):
    page = upload(clerk, xlsx(GOOD))
    clerk.post("/v/jiangba/import/confirm", form_fields(page, "confirm"))
    page = upload(clerk, xlsx(RENAMING))
    text = page.get_data(as_text=True)
    assert "这些列没有导入：<strong>民族</strong>" in text
    assert "身份变更（1 行，需逐行确认）" in text
    assert "户主由“李四”改为“王五”" in text
    assert "确认导入" not in text
    tick = re.search(r'name="confirm_identity" value="([^"]+)"', text).group(1)

    fields = form_fields(page, "preview")
    page = clerk.post("/v/jiangba/import/preview", {**fields, "confirm_identity": [tick]})
    text = page.get_data(as_text=True)
    assert "确认导入" in text
    assert f'<input type="hidden" name="confirm_identity" value="{tick}">' in text
    # Every change of each update, old → new; the ID and phone masked for a clerk.
    assert "李四</td><td class=\"nowrap\">王五" in text
    assert "139****9000" in text and "13900139000" not in text

    confirm = form_fields(page, "confirm")
    clerk.post("/v/jiangba/import/confirm", {**confirm, "confirm_identity": [tick]})
    assert head_names(app) == {"0001": "张三", "0002": "王五"}


def test_confirming_without_the_tick_never_renames_the_household(app, clerk):
    page = upload(clerk, xlsx(GOOD))
    clerk.post("/v/jiangba/import/confirm", form_fields(page, "confirm"))
    page = upload(clerk, xlsx(RENAMING))
    fields = form_fields(page, "preview")
    # A forged confirm without the tick is refused and shows the preview again.
    response = clerk.post("/v/jiangba/import/confirm", fields)
    assert "没有导入任何数据" in response.get_data(as_text=True)
    assert head_names(app) == {"0001": "张三", "0002": "李四"}


def test_a_refused_confirm_opens_the_preview_with_an_error_summary_linked_to_the_problems(app, clerk):
    page = upload(clerk, xlsx(GOOD))
    clerk.post("/v/jiangba/import/confirm", form_fields(page, "confirm"))
    page = upload(clerk, xlsx(RENAMING))
    text = clerk.post("/v/jiangba/import/confirm", form_fields(page, "preview")).get_data(as_text=True)
    summary = text.index("data-error-summary")
    assert summary < text.index("import-counts") < text.index('<h2 id="problems"')
    assert '<a href="#problems">有 1 行有问题，没有导入任何数据。请改正后重新导入，或选择只导入无误的行</a>' in text
