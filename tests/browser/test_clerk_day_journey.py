"""A clerk's day on a phone (issue 12): lands on the register, reads it as cards, opens a
household with a tap, records points for it in one tap, and corrects a rejected entry."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import User

from .conftest import scripts_ready

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
DAY = dt.date(2026, 6, 1)


@pytest.fixture
def viewport() -> dict:
    return {"width": 375, "height": 740}


@pytest.fixture
def rejected_entry(app, make_village, make_user, make_household) -> int:
    """张三's entry by clerk-li, rejected by the reviewer with a reason."""
    make_village()
    for name, group in (("张三", "一组"), ("李四", "二组")):
        make_household(head_name=name, group=group, joined_on=dt.date(2020, 1, 1))
    make_user("clerk-li", "clerk", password=PASSWORD)
    make_user("reviewer-wang", "reviewer", password=PASSWORD)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        clerk, reviewer = (db.session.execute(db.select(User).filter_by(username=u)).scalar_one()
                           for u in ("clerk-li", "reviewer-wang"))
        household = households.get_household(village, "0001")
        entry = ledger.make_entry(clerk, village, household, rules.rule_by_code(village, "P03"), DAY,
                                  note="打扫村道", evidence=True)
        ledger.reject(reviewer, [entry], "日期写错了，应为6月2日")
        db.session.commit()
        return entry.id


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_clerk_on_a_phone_lands_on_the_register_taps_through_and_corrects_a_rejected_entry(
    page, login, rejected_entry
):
    login("clerk-li", PASSWORD)
    assert page.url.endswith("/v/jiangba/households")
    expect(page.locator(".rejected-notice")).to_contain_text("1 条被驳回")
    # The register reads as cards: no header row, nothing to scroll sideways.
    scripts_ready(page, "rows")
    expect(page.locator("table.register thead")).to_be_hidden()
    assert _fits(page)
    card = page.locator("table.register tbody tr", has_text="李四")
    expect(card.locator("td[data-label=小组]")).to_have_text("二组")
    assert card.evaluate("row => getComputedStyle(row).display") == "block"
    assert card.locator("td[data-label=小组]").evaluate("td => getComputedStyle(td, '::before').content") == '"小组："'
    card.locator("td[data-label=小组]").click()
    page.wait_for_url("**/v/jiangba/households/0002")

    # 记分 on the household page opens the form with 李四 chosen.
    page.locator(".ledger-panel, main").get_by_role("link", name="记分", exact=True).first.click()
    expect(page.locator("#household")).to_have_value("0002")
    expect(page.locator("#household-chosen")).to_contain_text("李四")

    # The rejected entry: its reason, then the form filled in from it.
    page.goto("/v/jiangba/households")
    page.get_by_role("link", name="查看被驳回的记录").click()
    expect(page.locator(".reject-reason")).to_contain_text("日期写错了，应为6月2日")
    page.get_by_role("link", name="改正后重新提交").click()
    expect(page.locator(".resubmitting")).to_contain_text("日期写错了，应为6月2日")
    expect(page.locator("#household")).to_have_value("0001")
    expect(page.locator("#note")).to_have_value("打扫村道")
    page.locator("#entry_date").fill("2026-06-02")
    assert _fits(page)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已为 张三 记 +2 分（待审核）")
    expect(page.locator("main")).to_contain_text("没有待改正的被驳回记录")

    # The entries list is cards too, and a tap on a card opens its entry.
    page.goto("/v/jiangba/entries")
    scripts_ready(page, "rows")
    assert _fits(page)
    page.locator("table.entries tbody tr").first.locator("td[data-label=细则]").click()
    page.wait_for_url("**/v/jiangba/entries/*")
    expect(page.get_by_role("heading", level=1)).to_contain_text("积分记录")
