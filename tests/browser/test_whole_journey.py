"""The whole story in a real browser, through the pages only: a new village, its households,
a rule, points entered, reviewed and published, the notice, the public board, the store and the audit log."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from villagepoints.personal_data import id_check_char
from villagepoints.quarters import Quarter

from .conftest import TIMEOUT_MS, scripts_ready

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
PHONE = {"width": 375, "height": 800}
DESK = {"width": 1280, "height": 900}
HEADERS = ["户主姓名", "身份证号", "村民小组", "家庭人口", "联系电话", "户类别", "入户日期"]
JOINED = "2020-01-01"


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


LI = ("李建国", _id("52273119650312001"), "一组")
WANG = ("王秀英", _id("52273119720815002"), "一组")
ZHAO = ("赵春花", _id("52273119800101003"), "二组")


def _sheet(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "农户"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _fits_the_screen(page) -> bool:
    """Say whether the page needs no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def open_browser(browser, live_server, keep_pages):
    """Open a tab in a browser of its own (own cookies, own screen); kept as an artefact on failure."""

    def open_(viewport: dict = DESK):
        context = browser.new_context(
            base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport
        )
        context.set_default_timeout(TIMEOUT_MS)
        tab = context.new_page()
        keep_pages(tab)
        return tab

    return open_


def _log_in(tab, username: str) -> None:
    tab.goto("/login")
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录").click()
    tab.wait_for_load_state()
    assert not tab.url.endswith("/login"), f"{username} 登录失败"


def _pick_household(tab, typed: str, name: str) -> None:
    scripts_ready(tab, "entry")
    tab.locator("#household").press_sequentially(typed)
    suggestion = tab.locator("ul.suggestions li[role=option]", has_text=name)
    expect(suggestion).to_have_count(1)
    suggestion.click()


def test_a_village_goes_from_first_import_to_store_and_audit_log_in_the_browser(
    page, open_browser, make_user, tmp_path
):
    quarter = Quarter.of(dt.date.today())
    make_user("admin-zhang", "admin", slugs=(), password=PASSWORD)

    # The admin sets the village up.
    _log_in(page, "admin-zhang")
    page.goto("/villages/new")
    page.get_by_label("村名").fill("蒋坝村")
    page.get_by_label("村代码").fill("jiangba")
    page.get_by_label("村民小组").fill("一组,二组,三组")
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("alert")).to_contain_text("已新建蒋坝村，共3个小组")

    # The first household sheet has a wrong ID check digit in row 4; the fixed one goes in.
    good = [[n, idn, g, 3, "", "一般户", JOINED] for n, idn, g in (LI, WANG)]
    bad_id = ZHAO[1][:17] + ("0" if ZHAO[1][17] != "0" else "1")
    page.goto("/v/jiangba/households")
    page.get_by_role("link", name="导入农户").first.click()
    page.get_by_label("农户名册文件").set_input_files(
        _sheet(tmp_path / "农户.xlsx", good + [[ZHAO[0], bad_id, ZHAO[2], 2, "", "一般户", JOINED]])
    )
    page.get_by_role("button", name="上传并预览").click()
    problem = page.locator("table.problems tbody tr").filter(has_text="校验位不正确")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").first).to_have_text("4")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("农户名册文件").set_input_files(
        _sheet(tmp_path / "农户-改正.xlsx", good + [[ZHAO[0], ZHAO[1], ZHAO[2], 2, "", "一般户", JOINED]])
    )
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("table.problems")).to_have_count(0)
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("alert")).to_contain_text("新增 3 户")

    # The admin raises P06's default from 5 to 6.
    page.goto("/v/jiangba/rules")
    page.get_by_role("link", name="编辑 P06").click()
    page.get_by_label("默认分值").fill("6")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("alert")).to_have_text("已保存细则 P06 的修改；已有的积分记录不变")
    expect(page.locator("table.rules tr", has_text="P06").locator("td.points")).to_have_text("+6")

    make_user("clerk-li", "clerk", password=PASSWORD)
    make_user("reviewer-wang", "reviewer", password=PASSWORD)
    make_user("keeper-zhao", "storekeeper", password=PASSWORD)

    # The clerk, on a phone, enters two single entries.
    phone = open_browser(PHONE)
    _log_in(phone, "clerk-li")
    phone.goto("/v/jiangba/entries/new")
    _pick_household(phone, "ljg", LI[0])
    phone.locator("#rule").select_option(label="P06 见义勇为、好人好事（+6）")
    expect(phone.locator("#points")).to_have_value("6")
    assert _fits_the_screen(phone)
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_role("alert")).to_have_text(f"已为 {LI[0]} 记 +6 分（待审核）")
    phone.goto("/v/jiangba/entries/new")
    _pick_household(phone, "zch", ZHAO[0])
    phone.locator("#rule").select_option(label="P01 支持村两委工作、积极参加村民会议（+2）")
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_role("alert")).to_have_text(f"已为 {ZHAO[0]} 记 +2 分（待审核）")

    # ... and a bulk entry for 一组 at a desk.
    desk = open_browser()
    _log_in(desk, "clerk-li")
    desk.goto("/v/jiangba/entries/bulk")
    scripts_ready(desk, "bulk")
    desk.locator("#household-group").select_option(label="一组")
    expect(desk.locator("ul.checklist li:visible")).to_have_count(2)
    desk.locator("input[data-bulk-all]").check()
    desk.locator("#rule").select_option(label="P03 参加义务劳动、公益活动（+2）")
    desk.locator(".bulk-bar").get_by_role("button", name="保存").click()
    expect(desk.get_by_role("alert")).to_have_text("已为 2 户记 +2 分（待审核）")

    # The reviewer rejects 赵春花's entry with a reason and approves the rest.
    reviewer = open_browser()
    _log_in(reviewer, "reviewer-wang")
    reviewer.goto("/v/jiangba/review")
    scripts_ready(reviewer, "entry")
    rows = reviewer.locator("table.review tbody tr")
    expect(rows).to_have_count(4)
    rows.filter(has_text=ZHAO[0]).locator("input[name=ids]").check()
    reviewer.get_by_label("驳回理由").fill("会议签到表上没有此户")
    reviewer.get_by_role("button", name="驳回所选").click()
    expect(reviewer.get_by_role("alert")).to_have_text("已驳回 1 条")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text=ZHAO[0])).to_have_count(0)
    reviewer.locator("input[data-check-all=ids]").check()
    expect(reviewer.locator("[data-count]")).to_have_text("3")
    reviewer.get_by_role("button", name="通过所选").click()
    expect(reviewer.get_by_role("alert")).to_have_text("已通过 3 条")

    # ... and publishes the current quarter.
    reviewer.goto(f"/v/jiangba/quarters/{quarter}")
    reviewer.get_by_label("公示天数").fill("7")
    reviewer.get_by_label("异议联系人及电话").fill("村委会 王主任")
    reviewer.get_by_role("button", name="公示本季度").click()
    reviewer.get_by_role("button", name="确认公示第1版").click()
    expect(reviewer.get_by_role("alert")).to_contain_text(f"{quarter.label}已公示（第1版）")

    # The notice downloads as a workbook with the households in rank order.
    with reviewer.expect_download() as info:
        reviewer.get_by_role("link", name="下载公示表").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    ws = openpyxl.load_workbook(saved).active
    assert ws["A1"].value == f"蒋坝村{quarter.label}农户积分公示"
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "序号")
    lines = [[c.value for c in row] for row in ws.iter_rows(min_row=header + 1, max_row=header + 3, max_col=9)]
    # 序号, 小组, 户编号, 户主, 基础分, 加分, 扣分, 季度积分, 排名
    assert [(line[3], line[1], line[4], line[5], line[7], line[8]) for line in lines] == [
        (LI[0], "一组", 100, 8, 108, 1),
        (WANG[0], "一组", 100, 2, 102, 2),
        (ZHAO[0], "二组", 100, 0, 100, 3),
    ]
    codes = {line[3]: str(line[2]) for line in lines}

    # A resident reads the board on a phone and looks up their household.
    resident = open_browser(PHONE)
    resident.goto("/board/jiangba")
    expect(resident.get_by_role("heading", level=1)).to_have_text(f"蒋坝村 {quarter.label} 积分公示（第1版）")
    ranking = resident.locator("table.ranking tbody tr")
    expect(ranking).to_have_count(3)
    expect(ranking.first).to_contain_text(LI[0])
    expect(ranking.first.locator("td.score")).to_have_text("108")
    assert _fits_the_screen(resident)
    resident.get_by_role("link", name="查询本户积分").click()
    resident.get_by_label("户编号").fill(codes[WANG[0]])
    resident.get_by_label("户主身份证号后4位").fill(WANG[1][-4:])
    resident.get_by_role("button", name="查询").click()
    result = resident.locator(".lookup-result")
    expect(result.get_by_role("heading", level=2)).to_have_text(f"{WANG[0]}户")
    expect(result.locator("dd.balance")).to_have_text("2 分")
    expect(result.locator("tbody tr").first.locator("td.score")).to_have_text("102")
    expect(result.locator("tbody tr").first).to_contain_text("第2名 / 共3户")

    # The storekeeper adds an item, stocks it in, redeems for 李建国 and voids the redemption.
    keeper = open_browser()
    _log_in(keeper, "keeper-zhao")
    keeper.goto("/v/jiangba/store/items")
    keeper.get_by_role("link", name="新增商品").click()
    keeper.get_by_label("商品名称").fill("肥皂")
    keeper.get_by_label("单位").fill("块")
    keeper.get_by_label("兑换积分").fill("5")
    keeper.get_by_role("button", name="保存").click()
    expect(keeper.get_by_role("alert")).to_contain_text("已新增商品“肥皂”")
    keeper.get_by_label("入库数量").fill("10")
    keeper.get_by_label("供货方 / 捐赠人").fill("镇供销社")
    keeper.get_by_role("button", name="登记入库").click()
    expect(keeper.get_by_role("alert")).to_contain_text("现有库存 10块")

    keeper.goto("/v/jiangba/store/redeem")
    scripts_ready(keeper, "entry", "store")
    keeper.get_by_label("农户").press_sequentially("ljg")
    suggestion = keeper.locator("ul.suggestions li[role=option]", has_text=LI[0])
    expect(suggestion).to_have_count(1)
    suggestion.click()
    # Only approved points are spendable: 6 + 2, not the base score.
    expect(keeper.locator("dl.counter-sums dd").first).to_have_text("8")
    scripts_ready(keeper, "entry", "store")
    keeper.locator("table.counter-items tr[data-item]", has_text="肥皂").locator("input").fill("1")
    expect(keeper.locator("[data-remaining]")).to_have_text("3")
    keeper.get_by_role("button", name="确认兑换").click()
    expect(keeper.get_by_role("alert")).to_contain_text("兑换成功")
    receipt_no = f"DH{dt.date.today().year}-000001"
    expect(keeper.locator("article.receipt")).to_contain_text(receipt_no)
    keeper.get_by_text("作废此兑换单").click()
    keeper.get_by_label("作废原因").fill("拿错商品")
    keeper.get_by_role("button", name="确认作废").click()
    expect(keeper.get_by_role("alert")).to_contain_text(f"已作废兑换单 {receipt_no}")
    expect(keeper.locator(".void-mark")).to_have_text("已作废")

    # The admin reads all of it in the audit log, filtered to the village.
    page.goto("/audit")
    page.get_by_label("村").select_option(label="蒋坝村")
    page.get_by_role("button", name="筛选").click()
    actions = page.locator("table.audit tbody tr td:nth-child(4)")
    expect(actions.first).to_be_visible()
    seen = set(actions.all_inner_texts())
    assert {
        "导入农户", "修改积分细则", "录入积分", "批量录入积分", "审核通过积分", "驳回积分",
        "发布公示", "新增商品", "商品入库", "积分兑换", "作废兑换",
    } <= seen, seen
    audit = page.locator("table.audit")
    expect(audit.locator("tr", has_text="作废兑换")).to_contain_text("keeper-zhao")
    expect(audit.locator("tr", has_text="驳回积分")).to_contain_text("reviewer-wang")
