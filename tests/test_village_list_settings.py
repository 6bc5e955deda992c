"""Each village sets its own red and black list criteria, black-list naming and notice period."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from villagepoints import audit, households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry
from villagepoints.quarters import Quarter

PAST = Quarter.of(dt.date.today()).previous()
SWITCHES = (
    "red_top_enabled", "red_honours_enabled", "black_below_base_enabled", "black_aid_enabled", "black_trigger_enabled",
)


def text(response) -> str:
    return response.get_data(as_text=True)


def settings_form(**changes) -> dict:
    """The settings form as the page posts it (review off, every list switch ticked); False unticks one."""
    data = {"name": "蒋坝村", "base_score": "100", "red_list_size": "3",
            "categories": "一般户、党员户、脱贫户、监测户、低保户、五保户、村干部户",
            "black_naming": "masked", "notice_days": "7", "objection_contact": "",
            "red_list_title": "光荣榜", "black_list_title": "臊皮榜"}
    data.update({key: "y" for key in SWITCHES})
    for key, value in changes.items():
        if value is False:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.fixture
def admin_web(web, make_village, make_user):
    make_village(require_review=False)
    make_user("admin1", "admin")
    web.login("admin1")
    return web


def test_settings_page_offers_the_list_switches_naming_and_notice_period(admin_web):
    page = text(admin_web.get("/v/jiangba/settings"))
    for key in SWITCHES:
        assert re.search(rf'<input checked[^>]*name="{key}"|<input[^>]*name="{key}"[^>]*checked', page), key
    assert "红黑榜与公示" in page
    assert '<option selected value="masked">只显示姓（张*）</option>' in page
    assert re.search(r'name="notice_days"[^>]*value="7"', page)


def test_admin_saves_list_settings_and_the_change_is_audited(app, admin_web):
    page = admin_web.post("/v/jiangba/settings", settings_form(
        red_top_enabled=False, black_aid_enabled=False, black_naming="group", notice_days="5",
        objection_contact="村委会 王主任 13800138000",
    ), follow_redirects=True)
    assert "村设置已保存" in text(page)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        assert (village.red_top_enabled, village.red_honours_enabled, village.black_aid_enabled) == (False, True, False)
        assert (village.black_naming, village.notice_days, village.objection_contact) == (
            "group", 5, "村委会 王主任 13800138000"
        )
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="village.update")).scalar_one()
        assert audit.decode(entry.before) == {
            "red_top_enabled": True, "black_aid_enabled": True, "black_naming": "masked", "notice_days": 7,
            "objection_contact": "",
        }
        assert audit.decode(entry.after)["notice_days"] == 5
    log = text(admin_web.get("/audit"))
    assert "公示天数" in log and "只显示小组" in log


def test_bad_notice_days_are_refused_with_a_message(app, admin_web):
    page = text(admin_web.post("/v/jiangba/settings", settings_form(notice_days="0")))
    assert "公示期应在1到60天之间" in page
    with app.app_context():
        assert villages.get_by_slug("jiangba").notice_days == 7


def test_the_domain_refuses_an_unknown_naming_and_keeps_settings_not_given(ctx):
    village = villages.create_village(None, "蒋坝村", "jiangba")
    common = dict(name="蒋坝村", base_score=100, require_review=True, red_list_size=3, categories=village.categories)
    with pytest.raises(villages.VillageError, match="黑榜显示方式"):
        villages.update_village(None, village, **common, black_naming="everyone")
    with pytest.raises(villages.VillageError, match="异议联系方式不能超过200个字"):
        villages.update_village(None, village, **common, objection_contact="电" * 201)
    villages.update_village(None, village, **common, black_trigger_enabled=False)
    assert (village.black_trigger_enabled, village.notice_days, village.black_naming) == (False, 7, "masked")


def test_switching_criteria_off_changes_the_live_lists(app, admin_web, make_household):
    top = make_household(head_name="甲", joined_on=dt.date(2020, 1, 1))
    low = make_household(head_name="乙", joined_on=dt.date(2020, 1, 1))
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        for code, points, rule in ((top, 6, "P06"), (low, -3, "M09")):
            household = households.get_household(village, code)
            ledger.make_entry(None, village, household, rules.rule_by_code(village, rule),
                              PAST.first_day, points, evidence=True)
        db.session.commit()
    url = f"/v/jiangba/quarters/{PAST}"
    page = text(admin_web.get(url))
    assert "季度积分排名第1" in page and "积分低于基础分（97分）" in page

    admin_web.post("/v/jiangba/settings", settings_form(red_top_enabled=False, black_below_base_enabled=False))
    page = text(admin_web.get(url))
    assert "季度积分排名第1" not in page and "积分低于基础分" not in page
    assert "本季度光荣榜没有农户" in page and "本季度臊皮榜没有农户" in page


def test_publish_form_is_prefilled_from_the_village_settings(admin_web):
    admin_web.post("/v/jiangba/settings", settings_form(notice_days="10", objection_contact="村委会 李会计"))
    page = text(admin_web.get(f"/v/jiangba/quarters/{PAST}"))
    assert re.search(r'name="notice_days"[^>]*value="10"', page)
    assert re.search(r'name="contact"[^>]*value="村委会 李会计"', page)


def test_village_names_its_lists_and_the_names_show_on_pages_board_and_printed_lists(app, admin_web, make_household):
    from villagepoints.exports import lists as list_export
    from villagepoints.exports.quarter_data import quarter_numbers

    admin_web.post("/v/jiangba/settings", settings_form(red_list_title="红榜", black_list_title="曝光台",
                                                        objection_contact="村委会 李会计"))
    page = text(admin_web.get(f"/v/jiangba/quarters/{PAST}"))
    assert "红榜（红榜）" in page and "黑榜（曝光台）" in page and "本季度曝光台没有农户" in page
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        assert (village.red_list_title, village.black_list_title) == ("红榜", "曝光台")
        publication_day = PAST.last_day + dt.timedelta(days=1)
        from villagepoints import publication
        publication.publish(None, village, PAST, today=publication_day)
        db.session.commit()
        assert list_export.title(quarter_numbers(village, PAST)).endswith("红榜·曝光台")
    board = text(admin_web.get("/board/jiangba"))
    assert '<h2 id="black-title" class="black-title">曝光台</h2>' in board
    assert "臊皮榜" not in board


def test_list_titles_are_refused_when_empty_too_long_or_the_same(admin_web):
    page = text(admin_web.post("/v/jiangba/settings", settings_form(black_list_title="")))
    assert "请填写黑榜的公开名称" in page and 'class="error-summary"' in page
    page = text(admin_web.post("/v/jiangba/settings", settings_form(red_list_title="光荣榜", black_list_title="光荣榜")))
    assert "红榜和黑榜的公开名称不能相同" in page
