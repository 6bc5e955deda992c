"""A quarter from publication to the resident: a reviewer publishes, a resident reads the board on a phone."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from villagepoints import ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Household
from villagepoints.personal_data import id_check_char
from villagepoints.quarters import Quarter

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
PAST = Quarter.of(dt.date.today()).previous()
PHONE = {"width": 375, "height": 740}


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


# name, group, points in the past quarter, ID number
PEOPLE = (
    ("李建国", "一组", 8, _id("52273119650312001")),
    ("王秀英", "二组", 5, _id("52273119720815002")),
    ("赵春花", "三组", -3, _id("52273119800101003")),
)


@pytest.fixture
def quarter_ready(app, make_village, make_user, make_household) -> dict[str, str]:
    """A village whose past quarter holds approved entries only; returns the household codes."""
    make_village()
    make_user("reviewer1", "reviewer", password=PASSWORD)
    codes = {name: make_household(head_name=name, group=group, id_number=idn, joined_on=dt.date(2020, 1, 1))
             for name, group, _points, idn in PEOPLE}
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        for name, _group, points, _idn in PEOPLE:
            household = db.session.execute(db.select(Household).filter_by(code=codes[name])).scalar_one()
            rule = rules.rule_by_code(village, "P06" if points > 0 else "M03")
            ledger.make_entry(None, village, household, rule, PAST.first_day, points, evidence=True, approve=True)
        village.objection_contact = "村委会 王主任"
        db.session.commit()
    return codes


def test_reviewer_publishes_and_a_resident_reads_the_board_and_finds_their_household(
    page, login, browser, live_server, quarter_ready
):
    login("reviewer1", PASSWORD)
    page.goto(f"/v/jiangba/quarters/{PAST}")
    page.get_by_label("公示天数").fill("7")
    page.get_by_role("button", name="公示本季度").click()
    # The second step: what will be frozen, before anything is published.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"确认公示蒋坝村{PAST.label}")
    frozen = page.locator("dl.frozen")
    expect(frozen).to_contain_text("参加排名的农户")
    expect(frozen).to_contain_text("村委会 王主任")
    page.get_by_role("link", name="返回修改").click()
    expect(page.locator(".notice-banner")).to_contain_text("未公示")
    page.get_by_label("公示天数").fill("7")
    page.get_by_role("button", name="公示本季度").click()
    page.get_by_role("button", name="确认公示第1版").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{PAST.label}已公示（第1版）")

    # The resident: another phone, never logged in.
    resident = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    phone = resident.new_page()
    try:
        phone.goto("/board/jiangba")
        expect(phone.get_by_role("heading", level=1)).to_have_text(f"蒋坝村 {PAST.label} 积分公示（第1版）")
        expect(phone.locator(".notice-period")).to_contain_text("公示中")
        red = phone.locator("table.red-list tbody tr")
        expect(red.first).to_contain_text("李建国")
        expect(red.first).to_contain_text("季度积分排名第1")
        # The black list names the household as the village chose (masked by default).
        expect(phone.locator("table.black-list")).to_contain_text("赵**")
        expect(phone.locator("table.black-list")).not_to_contain_text("赵春花")
        ranking = phone.locator("table.ranking tbody tr")
        expect(ranking).to_have_count(3)
        expect(ranking.first).to_contain_text("李建国")
        expect(ranking.first.locator("td").last).to_have_text("108")
        # Readable at phone width: the page itself never scrolls sideways.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        phone.get_by_role("link", name="查询本户积分").click()
        phone.get_by_label("户编号").fill(quarter_ready["王秀英"])
        phone.get_by_label("户主身份证号后4位").fill(PEOPLE[1][3][-4:])
        phone.get_by_role("button", name="查询").click()
        result = phone.locator(".lookup-result")
        expect(result.get_by_role("heading", level=2)).to_have_text("王秀英户")
        expect(result).to_contain_text("可用积分")
        expect(result.locator("dd.balance")).to_have_text("5 分")
        row = result.locator("tbody tr").first
        expect(row).to_contain_text(PAST.label)
        expect(row.locator("td.score")).to_have_text("105")
        expect(row).to_contain_text("第2名 / 共3户")
    finally:
        resident.close()
