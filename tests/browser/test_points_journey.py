"""Points in a real browser: a clerk on a phone enters one entry and a bulk entry,
a reviewer approves them, and the household page shows the new quarter score."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from .conftest import TIMEOUT_MS, scripts_ready

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
PHONE = {"width": 375, "height": 800}


@pytest.fixture
def viewport() -> dict:
    """The clerk works on a phone."""
    return PHONE


def _fits_the_screen(page) -> bool:
    """Say whether the page needs no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert not page.url.endswith("/login"), f"{username} 登录失败"


def test_clerk_enters_points_on_a_phone_reviewer_approves_and_the_score_shows(
    page, browser, live_server, login, make_village, make_user, make_household
):
    make_village()
    long_ago = dt.date(2020, 1, 1)
    make_household(head_name="张三", group="一组", code="0001", joined_on=long_ago)
    make_household(head_name="李四", group="一组", code="0002", joined_on=long_ago)
    make_household(head_name="王五", group="二组", code="0003", joined_on=long_ago)
    make_user("clerk-li", "clerk", password=PASSWORD)
    make_user("reviewer-wang", "reviewer", password=PASSWORD)

    # One entry: the household is found by its pinyin initials and picked from the list.
    login("clerk-li", PASSWORD)
    page.goto("/v/jiangba/entries/new")
    scripts_ready(page, "entry")
    page.locator("#household").press_sequentially("zs")
    suggestion = page.locator("ul.suggestions li[role=option]", has_text="张三")
    expect(suggestion).to_have_count(1)
    suggestion.click()
    expect(page.locator("#household")).to_have_value("0001")
    expect(page.locator("#household-chosen")).to_have_text("张三（0001 · 一组）")
    page.locator("#rule").select_option(label="P06 见义勇为、好人好事（+5）")
    expect(page.locator("#points")).to_have_value("5")
    assert _fits_the_screen(page)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("已为 张三 记 +5 分（待审核）")

    # A bulk entry for 一组: both of its households, ticked with 全选.
    page.goto("/v/jiangba/entries/bulk")
    scripts_ready(page, "bulk")
    page.locator("#rule").select_option(label="P03 参加义务劳动、公益活动（+2）")
    page.locator("#household-group").select_option(label="一组")
    expect(page.locator("ul.checklist li:visible")).to_have_count(2)
    page.locator("input[data-bulk-all]").check()
    expect(page.locator(".bulk-bar [data-bulk-count]")).to_have_text("2")
    assert _fits_the_screen(page)
    page.locator(".bulk-bar").get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("已为 2 户记 +2 分（待审核）")

    # Nothing counts before review.
    page.goto("/v/jiangba/households/0001")
    expect(_quarter_score(page)).to_have_text("100")

    # The reviewer, in a browser of their own, approves all three.
    context = browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        reviewer = context.new_page()
        _log_in(reviewer, "reviewer-wang")
        reviewer.goto("/v/jiangba/review")
        scripts_ready(reviewer, "entry")
        rows = reviewer.locator("table.review tbody tr")
        expect(rows).to_have_count(3)
        reviewer.locator("input[data-check-all=ids]").check()
        expect(reviewer.locator("[data-count]")).to_have_text("3")
        reviewer.get_by_role("button", name="通过所选").click()
        expect(reviewer.get_by_role("alert")).to_have_text("已通过 3 条")
        expect(reviewer.locator("table.review")).to_have_count(0)
    finally:
        context.close()

    # Base 100 + 5 + 2 for 张三, 100 + 2 for 李四, untouched 王五.
    page.goto("/v/jiangba/households/0001")
    expect(_quarter_score(page)).to_have_text("107")
    expect(page.locator("table.entries tbody tr")).to_have_count(2)
    assert _fits_the_screen(page)
    page.goto("/v/jiangba/households/0002")
    expect(_quarter_score(page)).to_have_text("102")
    page.goto("/v/jiangba/households/0003")
    expect(_quarter_score(page)).to_have_text("100")


def _quarter_score(page):
    """The quarter score on a household page (the first figure of its points card)."""
    return page.locator("dl.scores dd").first
