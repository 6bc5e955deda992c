"""Two townships in the browser: a township viewer sees its villages and their charts on a
phone, opens the numbers behind a chart, and is refused the other township."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

import township_world as world

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def viewport() -> dict:
    return PHONE


@pytest.fixture
def townships_ready(app):
    with app.app_context():
        world.build()
        world.add_user("tv-east", "township_viewer", "dongxiang")


def test_township_viewer_sees_its_villages_and_charts_and_is_refused_the_other_township(
    page, login, townships_ready
):
    login("tv-east", world.PASSWORD)
    expect(page.get_by_role("link", name="东村", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="北村", exact=True)).to_have_count(0)
    page.get_by_role("link", name="东乡镇各村情况").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("东乡镇 · 2026年第四季度")
    page.get_by_label("季度", exact=True).select_option("2026Q3")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026年第三季度")
    table = page.locator("table.township-villages")
    for name in ("东村", "南村", "西村"):
        expect(table.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(table).to_contain_text("第1版")
    # The first chart fits the phone's width, and its numbers open with one tap.
    chart = page.get_by_role("img", name="2026年第三季度各村参与率", exact=False).first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] <= PHONE["width"]
    page.get_by_text("看数字：2026年第三季度各村参与率").click()
    numbers = page.locator("details.chart-numbers").first
    expect(numbers.locator("table")).to_be_visible()
    expect(numbers).to_contain_text("东村")
    # Sorting by a column reorders the table.
    page.get_by_role("link", name="参评户数").click()
    expect(table.locator("tbody tr").first).to_contain_text("东村")
    # A village's quarter page carries its own charts.
    table.get_by_role("link", name="南村", exact=True).click()
    expect(page.get_by_role("img", name="积分分布", exact=False)).to_be_visible()
    # The other township: its dashboard and its villages are refused.
    for url in ("/t/beixiang", "/v/beicun/households", "/v/zhongcun/quarters/2026Q3"):
        response = page.goto(url)
        assert response.status == 403, url
