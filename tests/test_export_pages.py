"""Downloading the exports through the web: the exports page, file names, roles."""
import io
from urllib.parse import quote

import openpyxl
import pytest
from export_village import ID_NUMBER, PUBLISH_DAY, Q3, commit, fill

from villagepoints import publication, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def village(app, make_village):
    make_village()
    with app.app_context():
        fill(villages.get_by_slug("jiangba"))
        commit()
    return "jiangba"


def download(web, url):
    """GET a download; return the response and the workbook (None when it is no .xlsx)."""
    response = web.get(url)
    data = response.get_data()
    response.close()  # the file behind the response is closed with it
    book = openpyxl.load_workbook(io.BytesIO(data)) if response.mimetype == XLSX else None
    return response, book


def test_exports_page_offers_every_export_to_any_user_of_the_village(village, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    page = web.get("/v/jiangba/exports").get_data(as_text=True)
    for label in ("季度积分公示", "光荣榜 · 臊皮榜", "季度积分记录", "年度积分与三均衡优先名单", "农户台账", "农户导入模板"):
        assert label in page
    assert "2026年第三季度（未公示，导出为草稿）" in page
    assert "每个小组一张表（分开打印）" in page and "只要二组" in page
    assert 'name="full"' not in page  # only admins may ask for full ID numbers
    assert 'href="/v/jiangba/exports">导出</a>' in web.get("/v/jiangba/households").get_data(as_text=True)


def test_notice_downloads_with_a_chinese_file_name(village, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    response, book = download(web, "/v/jiangba/exports/notice?quarter=2026Q3&group=")
    assert response.status_code == 200 and response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('蒋坝村-2026Q3-积分公示-草稿.xlsx')}" in disposition
    assert 'filename="jiangba-2026Q3-notice-draft.xlsx"' in disposition
    assert book.active["A1"].value == "蒋坝村2026年第三季度农户积分公示（草稿）"


def test_published_quarter_is_preselected_and_downloads_without_draft_mark(app, village, make_user, web):
    with app.app_context():
        publication.publish(None, villages.get_by_slug("jiangba"), Q3, today=PUBLISH_DAY)
        commit()
    make_user("clerk1", "clerk")
    web.login("clerk1")
    page = web.get("/v/jiangba/exports").get_data(as_text=True)
    assert '<option selected value="2026Q3">2026年第三季度（公示中·第1版）</option>' in page
    response, book = download(web, "/v/jiangba/exports/lists?quarter=2026Q3")
    assert quote("蒋坝村-2026Q3-红黑榜.xlsx") in response.headers["Content-Disposition"]
    assert book.active["A2"].value.startswith("第1版")


def test_by_group_and_one_group_downloads(app, village, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    response, book = download(web, "/v/jiangba/exports/notice?quarter=2026Q3&group=by-group")
    assert book.sheetnames == ["一组", "二组", "三组"]
    assert quote("蒋坝村-2026Q3-积分公示-分组-草稿.xlsx") in response.headers["Content-Disposition"]
    with app.app_context():
        group_id = villages.find_group(villages.get_by_slug("jiangba"), "二组").id
    response, book = download(web, f"/v/jiangba/exports/lists?quarter=2026Q3&group={group_id}")
    assert quote("蒋坝村-二组-2026Q3-红黑榜-草稿.xlsx") in response.headers["Content-Disposition"]
    assert book.active["A1"].value.endswith("（二组）（草稿）")


def test_register_in_full_is_for_admins_only_and_is_logged(app, village, make_user, web):
    make_user("clerk1", "clerk")
    web.login("clerk1")
    response, book = download(web, "/v/jiangba/exports/register")
    assert response.status_code == 200
    assert ID_NUMBER not in str(list(book.active.values))
    response, _ = download(web, "/v/jiangba/exports/register?full=y")
    assert response.status_code == 403

    make_user("admin1", "admin", slugs=())
    web.post("/logout")
    web.login("admin1")
    assert 'name="full"' in web.get("/v/jiangba/exports").get_data(as_text=True)
    response, book = download(web, "/v/jiangba/exports/register?full=y")
    assert response.status_code == 200
    assert ID_NUMBER in str(list(book.active.values))
    assert quote("蒋坝村-农户台账-完整信息.xlsx") in response.headers["Content-Disposition"]
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="export.register_full")).scalar_one()
        assert entry.actor == "admin1"
    assert "导出完整农户台账" in web.get("/audit").get_data(as_text=True)


def test_users_of_other_villages_and_strangers_get_nothing(village, make_village, make_user, web):
    make_village("白马村", "baima")
    make_user("other", "clerk", slugs=("baima",))
    response, _ = download(web, "/v/jiangba/exports/notice?quarter=2026Q3")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    web.login("other")
    assert web.get("/v/jiangba/exports").status_code == 403
    response, _ = download(web, "/v/jiangba/exports/notice?quarter=2026Q3")
    assert response.status_code == 403


@pytest.mark.parametrize("url, message", [
    ("/v/jiangba/exports/notice?quarter=2026-3", "应写作 2026Q3"),
    ("/v/jiangba/exports/notice", "请选择季度"),
    ("/v/jiangba/exports/annual?year=26", "四位数"),
    ("/v/jiangba/exports/lists?quarter=2026Q3&group=99999", "所选小组不属于本村"),
])
def test_bad_choices_come_back_to_the_page_with_the_reason(village, make_user, web, url, message):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    response = web.get(url, follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)


def test_unknown_export_is_not_found(village, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    assert web.get("/v/jiangba/exports/passwords").status_code == 404


def test_quarter_page_links_to_its_notice_and_lists(village, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    page = web.get("/v/jiangba/quarters/2026Q3").get_data(as_text=True)
    assert 'href="/v/jiangba/exports/notice?quarter=2026Q3"' in page
    assert 'href="/v/jiangba/exports/lists?quarter=2026Q3"' in page


def test_template_downloads_for_every_user(village, make_user, web):
    make_user("viewer1", "viewer")
    web.login("viewer1")
    response, book = download(web, "/v/jiangba/exports/template")
    assert 'filename="household-import-template.xlsx"' in response.headers["Content-Disposition"]
    assert book.active["B1"].value == "户主姓名"


def test_store_ledger_downloads_for_a_year_or_a_quarter(village, make_user, web):
    make_user("keeper1", "storekeeper")
    web.login("keeper1")
    assert '<option value="2026">2026年全年</option>' in web.get("/v/jiangba/exports").get_data(as_text=True)
    response, book = download(web, "/v/jiangba/exports/store?period=2026")
    assert quote("蒋坝村-2026年-积分超市台账.xlsx") in response.headers["Content-Disposition"]
    assert book.sheetnames == ["兑换台账", "库存"]
    response, book = download(web, "/v/jiangba/exports/store?period=2026Q3")
    assert book["兑换台账"]["A1"].value == "蒋坝村2026年第三季度积分超市兑换台账"
