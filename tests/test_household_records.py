"""A household's ledger panel, honours (荣誉) and aid suspensions (歇帮)."""
from __future__ import annotations

import datetime as dt

from flask import render_template_string
from flask_login import login_user
from sqlalchemy import event

# The shared fixtures (scheme) are used by name.
from test_entry_pages import TODAY, scheme, text  # noqa: F401
from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import AidSuspension, AuditEntry, Honour, User
from villagepoints.quarters import Quarter
from villagepoints.web.household_records import PANEL_ENTRIES, ledger_panel_context


def scores(page) -> list[str]:
    """Return the three figures of the panel: quarter score, year score, balance."""
    block = text(page).split('<dl class="scores">')[1].split("</dl>")[0]
    return [part.split("</dd>")[0] for part in block.split("<dd>")[1:]]


def test_panel_shows_score_and_balance_only_after_approval(scheme):
    entry_id = scheme.make("张三", "P06")
    url = f"/v/jiangba/households/{scheme.codes['张三']}/ledger"
    scheme.login("viewer1")
    before = scheme.web.get(url)
    assert scores(before) == ["100", "100", "0"]
    assert Quarter.of(TODAY).label in text(before)
    assert "待审核" in text(before) and "clerk1" in text(before)

    scheme.login("reviewer1")
    approve = scheme.web.post("/v/jiangba/review/approve", {"ids": str(entry_id), **scheme.versions([entry_id])})
    assert approve.status_code == 302

    after = scheme.web.get(url)
    assert scores(after) == ["105", "105", "5"]
    assert "已通过" in text(after) and "reviewer1" in text(after)
    assert f"/v/jiangba/entries/{entry_id}" in text(after)


def test_clerk_records_an_honour(scheme, app):
    code = scheme.codes["张三"]
    scheme.login("clerk1")
    response = scheme.web.post(f"/v/jiangba/households/{code}/honours", {
        "title": "文明家庭", "awarded_on": "2026-05-01", "granted_by": "镇党委", "note": "",
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/v/jiangba/households/{code}#ledger-panel")

    page = text(scheme.web.get(f"/v/jiangba/households/{code}/ledger"))
    assert "已为 张三 记录荣誉“文明家庭”" in page
    assert "文明家庭" in page and "2026-05-01" in page and "镇党委授予" in page
    with app.app_context():
        honour = db.session.execute(db.select(Honour)).scalar_one()
        assert (honour.title, honour.awarded_on, honour.household.head_name) == ("文明家庭", dt.date(2026, 5, 1), "张三")
        assert db.session.execute(db.select(AuditEntry).filter_by(action="honour.create")).scalar_one().actor == "clerk1"


def test_clerk_records_an_aid_suspension(scheme, app):
    code = scheme.codes["李四"]
    scheme.login("clerk1")
    page = text(scheme.web.post(f"/v/jiangba/households/{code}/aid-suspensions", {
        "starts_on": "2026-04-01", "ends_on": "2026-06-30", "reason": "拒不参加公益劳动",
    }, follow_redirects=True))
    assert "已为 李四 记录歇帮 2026-04-01 至 2026-06-30" in page
    panel = text(scheme.web.get(f"/v/jiangba/households/{code}/ledger"))
    assert "2026-04-01 至 2026-06-30" in panel and "拒不参加公益劳动" in panel


def test_aid_suspension_ending_before_it_starts_is_refused_and_kept_on_screen(scheme, app):
    code = scheme.codes["李四"]
    scheme.login("clerk1")
    page = text(scheme.web.post(f"/v/jiangba/households/{code}/aid-suspensions", {
        "starts_on": "2026-06-30", "ends_on": "2026-04-01", "reason": "拒不参加公益劳动",
    }))
    assert "歇帮结束日期不能早于开始日期" in page
    assert "拒不参加公益劳动" in page  # what was typed is kept
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(AidSuspension.id))).scalar_one() == 0


def test_honour_without_a_title_is_refused(scheme, app):
    scheme.login("clerk1")
    page = text(scheme.web.post(f"/v/jiangba/households/{scheme.codes['张三']}/honours", {
        "title": "", "awarded_on": "2026-05-01",
    }))
    assert "请填写荣誉名称" in page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Honour.id))).scalar_one() == 0


def test_add_forms_are_offered_to_clerks_only(scheme):
    url = f"/v/jiangba/households/{scheme.codes['张三']}/ledger"
    scheme.login("clerk1")
    assert "添加荣誉" in text(scheme.web.get(url)) and "添加歇帮" in text(scheme.web.get(url))
    scheme.login("viewer1")
    assert "添加荣誉" not in text(scheme.web.get(url))


def _many_entries(app, code: str, count: int) -> None:
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        village.require_review = False
        household = households.get_household(village, code)
        p01 = rules.rule_by_code(village, "P01")
        for i in range(count):
            ledger.make_entry(None, village, household, p01, TODAY - dt.timedelta(days=i % 60), 1)
        db.session.commit()


def test_panel_lists_the_latest_entries_with_a_link_to_all_of_them(scheme, app):
    code = scheme.codes["张三"]
    _many_entries(app, code, PANEL_ENTRIES + 5)
    scheme.login("viewer1")
    page = text(scheme.web.get(f"/v/jiangba/households/{code}/ledger"))
    assert f"积分记录（{PANEL_ENTRIES + 5} 条）" in page
    assert page.count('<tr class="entry-approved">') == PANEL_ENTRIES
    assert f"查看全部 {PANEL_ENTRIES + 5} 条" in page
    assert f"/v/jiangba/entries?household={code}" in page


def test_panel_costs_the_same_queries_for_few_or_many_entries(scheme, app):
    few, many = scheme.codes["张三"], scheme.codes["李四"]
    _many_entries(app, few, 3)
    _many_entries(app, many, 300)
    scheme.login("viewer1")

    def statements(code: str) -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert scheme.web.get(f"/v/jiangba/households/{code}/ledger").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    # One COUNT more once the list is cut at PANEL_ENTRIES, and never a query per row.
    assert statements(many) <= statements(few) + 1


def test_panel_renders_from_ledger_panel_context_as_the_household_page_includes_it(scheme, app):
    scheme.make("张三", "P06", approve_by="reviewer1")
    with app.test_request_context("/v/jiangba/households"):
        village = villages.get_by_slug("jiangba")
        household = households.get_household(village, scheme.codes["张三"])
        login_user(db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one())
        html = render_template_string(
            '{% include "household_records/_ledger_panel.html" %}',
            village=village, household=household, **ledger_panel_context(household),
        )
        db.session.rollback()
    assert 'id="ledger-panel"' in html
    assert "<dd>105</dd>" in html and "<dd>5</dd>" in html
    assert "添加荣誉" in html
