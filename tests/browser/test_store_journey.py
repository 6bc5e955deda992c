"""The points store in a real browser: a storekeeper at a tablet redeems two items for a
household, prints the receipt and voids it; the counter also fits a phone."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from store_world import earn, item, store_rules
from villagepoints import households, ledger, villages
from villagepoints.extensions import db
from villagepoints.models import Item

from .conftest import scripts_ready

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def viewport() -> dict:
    """The counter runs on a tablet."""
    return TABLET


@pytest.fixture
def shop(app, make_village, make_user, make_household):
    make_village()
    make_user("keeper-zhao", "storekeeper", password=PASSWORD)
    make_household(head_name="张三", group="一组", joined_on=dt.date(2020, 1, 1))
    make_household(head_name="李四", group="二组", joined_on=dt.date(2020, 1, 1))
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        store_rules(village)
        zhang = households.get_household(village, "0001")
        earn(village, zhang, 100, dt.date.today())
        ids = {
            "zhang": zhang.id,
            "rice": item(village, "大米", 20, stock=5).id,
            "oil": item(village, "食用油", 35, stock=2, unit="瓶").id,
            "soap": item(village, "肥皂", 3, stock=10, unit="块").id,
        }
        db.session.commit()
    return ids


def _check(app, ids) -> tuple[int, int, int]:
    with app.app_context():
        return (
            ledger.balance(ids["zhang"]),
            db.session.get(Item, ids["rice"]).stock,
            db.session.get(Item, ids["oil"]).stock,
        )


def _row(page, name: str):
    return page.locator("table.counter-items tr[data-item]", has_text=name)


def test_storekeeper_redeems_two_items_prints_the_receipt_and_voids_it(page, login, app, shop):
    login("keeper-zhao", PASSWORD)
    page.goto("/v/jiangba/households")
    page.get_by_role("link", name="积分超市").click()
    page.get_by_role("link", name="兑换", exact=True).click()

    # Picking the household from the search list loads its balance at once.
    scripts_ready(page, "entry", "store")
    page.get_by_label("农户").press_sequentially("zs")
    suggestion = page.locator("ul.suggestions li[role=option]", has_text="张三")
    expect(suggestion).to_have_count(1)
    suggestion.click()
    expect(page.locator(".counter-household h2")).to_contain_text("张三")
    scripts_ready(page, "entry", "store")
    sums = page.locator("dl.counter-sums")
    expect(sums.locator("dd").first).to_have_text("100")
    confirm = page.get_by_role("button", name="确认兑换")
    expect(confirm).to_be_disabled()
    expect(page.get_by_role("button", name="核对合计")).to_be_hidden()

    # Two bags of rice with the + button, one bottle of oil typed in: the total and what remains follow.
    _row(page, "大米").get_by_role("button", name="增加大米").click()
    _row(page, "大米").get_by_role("button", name="增加大米").click()
    _row(page, "食用油").locator("input").fill("1")
    expect(page.locator("[data-total]")).to_have_text("75")
    expect(page.locator("[data-remaining]")).to_have_text("25")
    expect(page.locator("[data-live]")).to_have_text("共 3 件，75 分，兑换后剩余 25 分")

    # Too much is caught before it reaches the server, with how much is missing.
    _row(page, "肥皂").locator("input").fill("9")
    expect(page.locator("[data-short-note]")).to_have_text("可用积分不够，还差 2 分")
    expect(confirm).to_be_disabled()
    _row(page, "肥皂").locator("input").fill("")
    expect(confirm).to_be_enabled()

    confirm.click()
    expect(page.get_by_role("alert")).to_contain_text("兑换成功")
    receipt = page.locator("article.receipt")
    year = dt.date.today().year
    expect(receipt).to_contain_text(f"DH{year}-000001")
    expect(receipt.locator("table.receipt-lines tbody tr")).to_have_count(2)
    expect(receipt).to_contain_text("张三（0001 · 一组）")
    expect(receipt.locator("tfoot")).to_contain_text("75")
    expect(receipt).to_contain_text("25 分")
    expect(receipt).to_contain_text("keeper-zhao")
    assert _check(app, shop) == (25, 3, 1)

    # Printing opens the browser's print dialog; here window.print is stubbed to count calls.
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="打印小票").click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("button", name="打印小票")).to_be_hidden()
    expect(receipt).to_be_visible()
    page.emulate_media(media="screen")

    # The void returns points and stock, and the receipt stays, marked.
    page.get_by_text("作废此兑换单").click()
    page.get_by_label("作废原因").fill("农户要求换货")
    page.get_by_role("button", name="确认作废").click()
    expect(page.get_by_role("alert")).to_contain_text("已作废兑换单")
    expect(page.locator(".void-mark")).to_have_text("已作废")
    expect(receipt).to_contain_text("农户要求换货")
    expect(page.get_by_text("作废此兑换单")).to_have_count(0)
    assert _check(app, shop) == (100, 5, 2)

    # The household page lists the redemption as voided.
    page.goto("/v/jiangba/households/0001")
    history = page.locator("#store-history")
    expect(history).to_contain_text(f"DH{year}-000001")
    expect(history.locator(".badge.voided")).to_have_text("已作废")


@pytest.mark.parametrize("viewport", [{"width": 375, "height": 800}])
def test_the_counter_fits_a_phone(page, login, shop):
    login("keeper-zhao", PASSWORD)
    page.goto("/v/jiangba/store/redeem?household=0001")
    scripts_ready(page, "entry", "store")
    _row(page, "大米").get_by_role("button", name="增加大米").click()
    expect(page.locator("[data-total]")).to_have_text("20")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_role("button", name="确认兑换")).to_be_in_viewport()
