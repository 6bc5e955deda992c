"""A refused form opens at its error summary (issue 12): in view, focused, each problem a link
that moves to its field. Reviewer at 1280 px; the clerk's bulk and single entry at 375 px."""
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
PHONE = {"width": 375, "height": 740}
DESK = {"width": 1280, "height": 800}
DAY = dt.date(2026, 6, 1)


def in_view(page, selector: str) -> bool:
    """Say whether the element's top edge is on the screen as the page stands."""
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                     return r.top >= -1 && r.top < window.innerHeight; }""",
        selector,
    )


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.className")


@pytest.fixture
def village(app, make_village, make_user, make_household) -> None:
    """Forty households in two groups, a clerk, a reviewer, and thirty of the clerk's entries to review."""
    make_village()
    for n in range(40):
        make_household(head_name=f"农户{n:02d}", group="一组" if n % 2 else "二组", joined_on=dt.date(2020, 1, 1))
    make_user("clerk-li", "clerk", password=PASSWORD)
    make_user("reviewer-wang", "reviewer", password=PASSWORD)
    with app.app_context():
        v = villages.get_by_slug("jiangba")
        clerk = db.session.execute(db.select(User).filter_by(username="clerk-li")).scalar_one()
        rule = rules.rule_by_code(v, "P03")
        for household in db.session.execute(households.register_query(v).limit(30)).scalars():
            ledger.make_entry(clerk, v, household, rule, DAY, evidence=True)
        db.session.commit()


def _open(browser, live_server, viewport, username: str):
    context = browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport=viewport)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def _summary_is_where_the_eye_is(page, text: str) -> None:
    scripts_ready(page, "errors")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(text)
    assert in_view(page, ".error-summary"), page.evaluate(
        "JSON.stringify([document.querySelector('.error-summary').getBoundingClientRect(), scrollY, innerHeight])")
    assert focused_id(page) == "error-summary", "focus is not on the error summary"


def test_reviewer_rejecting_without_a_reason_sees_the_summary_and_its_link_reaches_the_field(
    browser, live_server, village, keep_pages
):
    page = _open(browser, live_server, DESK, "reviewer-wang")
    keep_pages(page)
    # The reviewer lands on the review queue.
    expect(page.get_by_role("heading", level=1)).to_contain_text("待审核的积分记录")
    page.locator("table.review tbody tr").nth(25).locator("input[name=ids]").check()
    page.get_by_role("button", name="驳回所选").click()
    _summary_is_where_the_eye_is(page, "驳回时请写明理由")
    page.locator(".error-summary a").first.click()
    assert focused_id(page) == "reason"
    assert in_view(page, "#reason")
    # The tick was kept: writing the reason is all that is left.
    page.locator("#reason").fill("照片不清楚")
    page.get_by_role("button", name="驳回所选").click()
    expect(page.get_by_role("alert")).to_have_text("已驳回 1 条")


def test_clerk_bulk_entry_without_the_photo_its_rule_needs_opens_at_the_summary_on_a_phone(
    browser, live_server, village, keep_pages
):
    page = _open(browser, live_server, PHONE, "clerk-li")
    keep_pages(page)
    page.goto("/v/jiangba/entries/bulk")
    scripts_ready(page, "bulk")
    # The rule comes first on the phone, above the list of households.
    assert in_view(page, "#rule")
    option = page.locator("#rule option", has_text="M03").get_attribute("value")
    page.locator("#rule").select_option(option)
    page.locator("#household-filter").fill("农户1")
    expect(page.locator("ul.checklist li:visible")).to_have_count(10)
    page.locator("input[data-bulk-all]").check()
    page.locator("#household-filter").fill("")
    page.locator("#household-group").select_option(label="二组")
    page.locator("ul.checklist li:visible", has_text="农户02").locator("input").check()
    bar = page.locator(".bulk-bar")
    expect(bar.locator("[data-bulk-count]")).to_have_text("11")
    assert in_view(page, ".bulk-bar"), "the save bar is not in view"
    bar.get_by_role("button", name="保存").click()
    _summary_is_where_the_eye_is(page, "需要上传照片")
    page.locator(".error-summary a").first.click()
    assert focused_id(page) == "photos"
    # The ticks across both groups are kept.
    expect(page.locator(".bulk-bar [data-bulk-count]")).to_have_text("11")


def test_clerk_single_entry_refused_on_a_phone_opens_at_the_summary(browser, live_server, village, keep_pages):
    page = _open(browser, live_server, PHONE, "clerk-li")
    keep_pages(page)
    page.goto("/v/jiangba/entries/new")
    page.locator("#points").fill("")
    page.get_by_role("button", name="保存").click()
    _summary_is_where_the_eye_is(page, "请选择农户")
    expect(page.locator(".error-summary li")).to_have_count(3)  # household, rule, points
    page.locator(".error-summary a", has_text="积分细则").click()
    assert focused_id(page) == "rule"
