"""A household card in a real browser at phone width: the household opens its page from the
card's address, applies for points; a clerk accepts it, a reviewer approves it, and the
household's page then counts it."""
from __future__ import annotations

import io
import re

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect

from villagepoints import cards, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Household

from .conftest import TIMEOUT_MS, scripts_ready

pytestmark = pytest.mark.browser

PASSWORD = "browser-pass-42"
PHONE = {"width": 375, "height": 800}


@pytest.fixture
def viewport() -> dict:
    return PHONE


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _other_phone(browser, live_server, keep, username: str):
    context = browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    other = context.new_page()
    keep(other)
    other.goto("/login")
    other.get_by_label("用户名").fill(username)
    other.get_by_label("密码").fill(PASSWORD)
    other.get_by_role("button", name="登录").click()
    other.wait_for_load_state()
    assert not other.url.endswith("/login"), f"{username} 登录失败"
    return other


def test_household_applies_clerk_accepts_reviewer_approves_and_the_card_page_counts_it(
    app, page, browser, live_server, keep_pages, make_village, make_user, make_household
):
    make_village()
    make_household(head_name="张三", group="一组", code="0001", id_number=None)
    make_user("clerk-li", "clerk", password=PASSWORD)
    make_user("reviewer-wang", "reviewer", password=PASSWORD)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        rules.rule_by_code(village, "P03").open_to_applications = True
        token = cards.reissue(None, db.session.execute(db.select(Household).filter_by(code="0001")).scalar_one()).token
        db.session.commit()

    # The household scans its card: no login, its own page.
    page.goto(f"/h/{token}")
    expect(page.get_by_role("heading", name="张三户")).to_be_visible()
    expect(page.locator("dd.balance")).to_have_text("0")
    assert _fits_the_screen(page)
    page.get_by_label("申请哪一项加分").select_option(label="参加义务劳动、公益活动（+2分）")
    page.get_by_label("做了什么").fill("周六参加清理村口水沟")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("alert")).to_contain_text("已提交申请")
    expect(page.locator("table.own-entries tbody tr").first).to_contain_text("申请待核实")
    assert _fits_the_screen(page)

    # The clerk checks it on a phone and turns it into an entry.
    clerk = _other_phone(browser, live_server, keep_pages, "clerk-li")
    clerk.goto("/v/jiangba/applications")
    expect(clerk.locator(".application")).to_contain_text("周六参加清理村口水沟")
    assert _fits_the_screen(clerk)
    clerk.get_by_role("button", name="核实属实，转为积分记录").click()
    expect(clerk.get_by_role("alert")).to_contain_text("转为积分记录")
    expect(clerk.get_by_text("没有待核实的申请")).to_be_visible()

    page.reload()
    expect(page.locator("table.own-entries tbody tr").first).to_contain_text("待审核")
    expect(page.locator("dd.balance")).to_have_text("0")

    # The reviewer approves it.
    reviewer = _other_phone(browser, live_server, keep_pages, "reviewer-wang")
    reviewer.goto("/v/jiangba/review")
    rows = reviewer.locator("table.review tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("clerk-li")
    rows.first.locator("input[name=ids]").check()
    reviewer.get_by_role("button", name="通过所选").click()
    expect(reviewer.get_by_role("alert")).to_have_text("已通过 1 条")

    # Counted: the household's page shows the points in its score and balance.
    page.reload()
    expect(page.locator("table.own-entries tbody tr").first).to_contain_text("已通过")
    expect(page.locator("dd.balance")).to_have_text("2")
    expect(page.locator("dd.live-score")).to_have_text(re.compile(r"^102$"))
    assert _fits_the_screen(page)


# Chromium on Linux has no BarcodeDetector; the test gives the page one that "sees" the
# card's address, and a camera that films a blank canvas, so scan.js runs its real path.
FAKE_CAMERA = """
window.BarcodeDetector = function () {};
window.BarcodeDetector.prototype.detect = function () {
  return Promise.resolve(window.__cardSeen ? [{ rawValue: window.__cardSeen }] : []);
};
navigator.mediaDevices.getUserMedia = function () {
  var canvas = document.createElement("canvas");
  canvas.width = 16; canvas.height = 16;
  canvas.getContext("2d").fillRect(0, 0, 16, 16);
  return Promise.resolve(canvas.captureStream(5));
};
"""


def test_the_store_counter_picks_a_household_by_scanning_its_card(
    app, page, live_server, login, make_village, make_user, make_household
):
    make_village()
    make_household(head_name="张三", group="一组", code="0001")
    make_user("keeper-zhao", "storekeeper", password=PASSWORD)
    with app.app_context():
        token = cards.reissue(None, db.session.execute(db.select(Household).filter_by(code="0001")).scalar_one()).token
        db.session.commit()
    login("keeper-zhao", PASSWORD)

    page.goto("/v/jiangba/store/redeem")
    scripts_ready(page, "scan")
    expect(page.get_by_role("button", name="扫户码")).to_be_hidden()
    expect(page.get_by_label("拍户码")).to_be_visible()

    page.add_init_script(FAKE_CAMERA)
    page.goto("/v/jiangba/store/redeem")
    scripts_ready(page, "scan")
    page.evaluate(f"window.__cardSeen = {live_server + '/h/' + token!r}")
    # The browser scans by itself: the photo input would only be in the way.
    expect(page.get_by_label("拍户码")).to_be_hidden()
    with page.expect_navigation():
        page.get_by_role("button", name="扫户码").click()
    expect(page.locator(".counter-household h2")).to_contain_text("张三")
    assert _fits_the_screen(page)


NO_DETECTOR = "delete window.BarcodeDetector;"


def _card_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _issue(app, code: str) -> str:
    with app.app_context():
        token = cards.reissue(None, db.session.execute(db.select(Household).filter_by(code=code)).scalar_one()).token
        db.session.commit()
        return token


def test_a_phone_that_cannot_scan_picks_the_household_by_a_photo_of_its_card_on_the_entry_form(
    app, page, live_server, login, make_village, make_user, make_household
):
    make_village(require_review=False)
    make_household(head_name="李四", group="二组", code="0007")
    make_household(head_name="张三", group="一组", code="0001")
    make_user("clerk-wang", "clerk", password=PASSWORD)
    token = _issue(app, "0001")
    page.add_init_script(NO_DETECTOR)
    login("clerk-wang", PASSWORD)

    page.goto("/v/jiangba/entries/new")
    scripts_ready(page, "entry", "scan")
    assert page.evaluate("'BarcodeDetector' in window") is False
    expect(page.get_by_role("button", name="扫户码")).to_be_hidden()
    # With the script the photo goes as soon as it is taken: no second button to press.
    expect(page.get_by_role("button", name="识别户码")).to_be_hidden()
    assert _fits_the_screen(page)
    page.get_by_label("拍户码").set_input_files(
        {"name": "card.png", "mimeType": "image/png", "buffer": _card_png(f"{live_server}/h/{token}")}
    )
    expect(page.locator("#household-chosen")).to_have_text("张三（0001 · 一组）")
    expect(page.locator("#household")).to_have_value("0001")

    page.locator("#rule").select_option(label="P03 参加义务劳动、公益活动（+2）")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash.success")).to_contain_text("已为 张三 记")

    # A photo with no card in it: the page says so and picks nobody.
    page.get_by_label("拍户码").set_input_files(
        {"name": "blank.png", "mimeType": "image/png", "buffer": _blank_png()}
    )
    expect(page.locator("#household-chosen")).to_contain_text("没有识别到二维码")


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (240, 240, 240)).save(out, format="PNG")
    return out.getvalue()


def test_at_the_store_counter_a_photo_of_the_card_opens_the_household(
    app, page, live_server, login, make_village, make_user, make_household
):
    make_village()
    make_household(head_name="张三", group="一组", code="0001")
    make_user("keeper-zhao", "storekeeper", password=PASSWORD)
    token = _issue(app, "0001")
    page.add_init_script(NO_DETECTOR)
    login("keeper-zhao", PASSWORD)

    page.goto("/v/jiangba/store/redeem")
    scripts_ready(page, "scan")
    with page.expect_navigation():
        page.get_by_label("拍户码").set_input_files(
            {"name": "card.png", "mimeType": "image/png", "buffer": _card_png(f"{live_server}/h/{token}")}
        )
    expect(page.locator(".counter-household h2")).to_contain_text("张三")
    assert _fits_the_screen(page)
