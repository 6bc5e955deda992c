"""Publishing from the quarter page takes a second step that says what will be frozen (issue 12)."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Publication

Q4_URL = "/v/jiangba/quarters/2026Q4"
FIRST_OF_DECEMBER = dt.datetime(2026, 12, 1, 9, 0)
NEW_YEAR = dt.datetime(2027, 1, 4, 9, 0)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def quarter(app, web, make_village, make_user, make_household):
    """2026Q4 with two scored households and a village contact on file; log in as rev1 on the day."""
    make_village(require_review=False)
    make_user("rev1", "reviewer")
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        village.objection_contact = "村委会 王主任 13800138000"
        db.session.commit()
    for name, points in (("张三", 8), ("李四", -3)):
        code = make_household(head_name=name, joined_on=dt.date(2020, 1, 1))
        with app.app_context():
            village = villages.get_by_slug("jiangba")
            household = households.get_household(village, code)
            rule = rules.rule_by_code(village, "P06" if points > 0 else "M09")
            ledger.make_entry(None, village, household, rule, dt.date(2026, 11, 5), points, evidence=True,
                              today=dt.date(2026, 11, 30))
            db.session.commit()
    return web


def publications(app) -> int:
    with app.app_context():
        return len(db.session.execute(db.select(Publication)).scalars().all())


def confirm_fields(page: str) -> dict:
    return {
        "notice_days": re.search(r'name="notice_days" value="([^"]*)"', page).group(1),
        "contact": re.search(r'name="contact" value="([^"]*)"', page).group(1),
        "expected": re.search(r'name="expected"[^>]*value="([^"]*)"', page).group(1),
        "confirm": "yes",
    }


def test_first_step_lists_what_will_be_frozen_warns_of_the_days_left_and_publishes_nothing(app, quarter):
    with time_machine.travel(FIRST_OF_DECEMBER, tick=False):
        quarter.login("rev1")
        page = quarter.get(Q4_URL)
        assert 'name="contact"' in text(page) and 'value="村委会 王主任 13800138000"' in text(page)
        page = text(quarter.post(f"{Q4_URL}/publish", {"notice_days": "7", "contact": "村委会 王主任 13800138000"}))
    assert "确认公示蒋坝村2026年第四季度" in page
    assert "本季度还有 30 天才结束，公示后这 30 天不能再记分" in page
    frozen = re.sub(r"<[^>]+>", " ", re.search(r'<dl class="facts frozen">(.*?)</dl>', page, re.S).group(1))
    frozen = re.sub(r"\s+", " ", frozen).strip()
    assert frozen == ("参加排名的农户 2 户 已通过的积分记录 2 条 光荣榜 1 户 臊皮榜 1 户 "
                      "公示期 2026年12月1日 至 2026年12月7日（7 天） 异议联系人及电话 村委会 王主任 13800138000")
    assert "确认公示第1版" in page
    assert publications(app) == 0


def test_second_step_publishes_and_the_board_says_until_when_and_whom_to_ask(app, quarter):
    with time_machine.travel(NEW_YEAR, tick=False):
        quarter.login("rev1")
        page = text(quarter.post(f"{Q4_URL}/publish", {"notice_days": "5", "contact": "村会计 李四 139"}))
        assert "还没有结束" not in page  # the quarter is over: no warning
        page = text(quarter.post(f"{Q4_URL}/publish", confirm_fields(page), follow_redirects=True))
        assert "2026年第四季度已公示（第1版），公示期至 2027年1月8日" in page
        board = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(quarter.get("/board/jiangba"))))
    assert publications(app) == 1
    assert "对公示内容有异议的，请在 2027年1月8日 前（含当天）联系： 村会计 李四 139" in board


def test_numbers_changed_between_the_steps_show_the_confirmation_again(app, quarter):
    with time_machine.travel(NEW_YEAR, tick=False):
        quarter.login("rev1")
        fields = confirm_fields(text(quarter.post(f"{Q4_URL}/publish", {"notice_days": "7", "contact": "村委会"})))
        with app.app_context():
            village = villages.get_by_slug("jiangba")
            household = households.create_household(None, village, households.HouseholdFields(
                head_name="王五", joined_on=dt.date(2020, 1, 1)))
            ledger.make_entry(None, village, household, rules.rule_by_code(village, "P06"), dt.date(2026, 12, 2), 5,
                              evidence=True, today=dt.date(2026, 12, 31))
            db.session.commit()
        page = text(quarter.post(f"{Q4_URL}/publish", fields, follow_redirects=True))
    assert "您核对之后本季度的数字有变化" in page
    assert "参加排名的农户</dt><dd><strong>3</strong> 户" in page
    assert publications(app) == 0


def test_publishing_without_a_contact_is_refused_at_an_error_summary_linked_to_the_field(app, quarter):
    with time_machine.travel(NEW_YEAR, tick=False):
        quarter.login("rev1")
        page = text(quarter.post(f"{Q4_URL}/publish", {"notice_days": "7", "contact": ""}))
        # The confirmation step cannot be skipped around it either.
        forced = text(quarter.post(f"{Q4_URL}/publish", {"notice_days": "7", "contact": "", "confirm": "yes"}))
    summary = re.search(r'<div class="error-summary"(.*?)</div>', page, re.S)
    assert summary, "no error summary on the refused form"
    assert '<a href="#contact">异议联系人及电话：请填写异议联系人及电话' in summary.group(1)
    assert "error-summary" in forced
    assert publications(app) == 0
