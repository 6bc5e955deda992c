"""The resident's phone (issue 12): the board opens with 查询本户积分 in the first screen, the
ranking folds by group, printing gives the lists, and a negative balance reads plainly."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from villagepoints import households, ledger, publication, rules, villages
from villagepoints.extensions import db
from villagepoints.personal_data import id_check_char
from villagepoints.quarters import Quarter

pytestmark = pytest.mark.browser

Q2 = Quarter(2026, 2)
ID_FIRST17 = "52273119881111074"


@pytest.fixture
def viewport() -> dict:
    return {"width": 375, "height": 667}


@pytest.fixture
def published(app, make_village, make_household) -> None:
    """2026Q2 published with sixty households in three groups; 0001 ends below zero."""
    make_village(require_review=False)
    for n in range(60):
        make_household(head_name=f"村民{n:02d}", group=("一组", "二组", "三组")[n % 3], joined_on=dt.date(2020, 1, 1),
                       id_number=ID_FIRST17 + id_check_char(ID_FIRST17) if n == 0 else None)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        village.objection_contact = "村委会 王主任 13800138000"
        household = households.get_household(village, "0001")
        ledger.make_entry(None, village, household, rules.rule_by_code(village, "M09"), dt.date(2026, 5, 1), -5,
                          evidence=True, today=dt.date(2026, 6, 30))
        publication.publish(None, village, Q2, today=dt.date(2026, 7, 3))
        db.session.commit()


def test_resident_finds_the_lookup_in_the_first_screen_and_reads_a_negative_balance(page, published):
    page.goto("/board/jiangba")
    lookup = page.get_by_role("link", name="查询本户积分")
    box = lookup.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 667, f"查询本户积分 is below the first screen: {box}"
    # The ranking is folded by group: three summaries, no long table until one is opened.
    groups = page.locator("details.ranking-group")
    expect(groups).to_have_count(3)
    expect(page.locator("table.ranking").first).to_be_hidden()
    groups.nth(1).locator("summary").click()
    expect(groups.nth(1).locator("table.ranking tbody tr")).to_have_count(20)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # Printing gives the lists, not the ranking.
    page.emulate_media(media="print")
    expect(page.locator("#red-title")).to_be_visible()
    expect(page.locator(".board-ranking")).to_be_hidden()
    expect(lookup).to_be_hidden()
    page.emulate_media(media="screen")

    lookup.click()
    expect(page.locator(".no-id-hint")).to_contain_text("请到村委会")
    page.get_by_label("户编号").fill("0001")
    page.get_by_label("户主身份证号后4位").fill((ID_FIRST17 + id_check_char(ID_FIRST17))[-4:])
    page.get_by_role("button", name="查询").click()
    balance = page.locator("dd.balance")
    expect(balance).to_contain_text("-5 分")
    expect(balance).to_contain_text("欠 5 分")
    # Not the green of a healthy balance.
    assert balance.evaluate("dd => getComputedStyle(dd).color") == "rgb(0, 0, 0)"
