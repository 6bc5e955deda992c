"""The rulebook pages: everyone in the village reads them, only admins change rules."""
import datetime as dt
import re

import pytest

from villagepoints import audit, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, Household

EDIT_P01 = {
    "code": "P01", "kind": "plus", "title": "积极参加村民代表会议", "description": "每次会议记一次",
    "default_points": "3", "min_points": "1", "max_points": "6", "quarter_cap": "",
    "active": "y", "sort_order": "1",
}


@pytest.fixture
def admin_web(web, make_village, make_user):
    make_village()
    make_user("admin", "admin", slugs=())
    web.login("admin")
    return web


def _text(page):
    return page.get_data(as_text=True)


def _rule_id(app, code, slug="jiangba"):
    with app.app_context():
        return rules.rule_by_code(villages.get_by_slug(slug), code).id


def _rule(app, code):
    with app.app_context():
        rule = rules.rule_by_code(villages.get_by_slug("jiangba"), code)
        db.session.expunge(rule)
        return rule


def _rows(html):
    """Return (code, default points) of each rule row, top to bottom."""
    return re.findall(r'<tr id="rule-\d+"[^>]*>\s*<td[^>]*>(?:<a [^>]*>)?(\w+)(?:</a>)?</td>.*?<td class="num points \w+">([+-]\d+)</td>', html, re.S)


def test_the_rulebook_lists_the_twenty_rules_in_order_with_signed_points(app, admin_web):
    html = _text(admin_web.get("/v/jiangba/rules"))
    rows = _rows(html)
    assert [code for code, _ in rows] == [f"P{i:02d}" for i in range(1, 11)] + [f"M{i:02d}" for i in range(1, 11)]
    assert rows[0] == ("P01", "+2") and rows[10] == ("M01", "-3") and rows[-1] == ("M10", "-10")
    assert html.index("加分细则") < html.index("P01") < html.index("扣分细则") < html.index("M01")
    assert "-20 ~ -1" in html and "+1 ~ +4" in html
    assert "新增细则" in html and "/v/jiangba/rules/%d/edit" % _rule_id(app, "P01") in html


def test_admin_edits_p01_title_and_default_and_the_change_is_audited(app, admin_web):
    rule_id = _rule_id(app, "P01")
    form = _text(admin_web.get(f"/v/jiangba/rules/{rule_id}/edit"))
    assert 'value="支持村两委工作、积极参加村民会议"' in form and "扣分细则请填负数，如 -3" in form
    page = admin_web.post(f"/v/jiangba/rules/{rule_id}/edit", EDIT_P01, follow_redirects=True)
    html = _text(page)
    assert "已保存细则 P01 的修改" in html
    assert ("P01", "+3") in _rows(html) and "积极参加村民代表会议" in html and "每次会议记一次" in html
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="rule.update")).scalar_one()
        assert entry.actor == "admin"
        assert audit.decode(entry.before)["title"] == "支持村两委工作、积极参加村民会议"
        assert audit.decode(entry.after)["default_points"] == 3


def test_saving_the_form_unchanged_says_so(app, admin_web):
    rule_id = _rule_id(app, "P01")
    unchanged = dict(EDIT_P01, title="支持村两委工作、积极参加村民会议", description="",
                     default_points="2", max_points="4")
    page = admin_web.post(f"/v/jiangba/rules/{rule_id}/edit", unchanged, follow_redirects=True)
    assert "没有改动，无需保存" in _text(page)


def test_a_minus_rule_with_a_positive_range_is_refused_at_the_field(app, admin_web):
    page = admin_web.post("/v/jiangba/rules/new", {
        "code": "M11", "kind": "minus", "title": "乱停乱放", "default_points": "3",
        "min_points": "1", "max_points": "5", "sort_order": "21",
    })
    html = _text(page)
    assert page.status_code == 200
    # Listed in the error summary at the top of the form, and again under its field.
    assert html.index('class="error-summary"') < html.index("扣分细则的分值应为负数，例如 -3") < html.index('id="code"')
    message = html.index("扣分细则的分值应为负数，例如 -3", html.index('id="max_points"'))
    assert message < html.index('id="quarter_cap"')
    with app.app_context():
        assert rules.rule_by_code(villages.get_by_slug("jiangba"), "M11") is None


def test_a_duplicate_code_is_refused_and_nothing_is_saved(app, admin_web):
    page = admin_web.post("/v/jiangba/rules/new", {
        "code": "p01", "kind": "plus", "title": "重复的编号", "default_points": "2",
        "min_points": "1", "max_points": "4", "sort_order": "21",
    })
    html = _text(page)
    assert '<a href="#code">细则编号：细则编号“P01”已存在' in html  # in the error summary, linked to its field
    under = html.index("细则编号“P01”已存在", html.index('id="code"'))
    assert under < html.index('id="kind"')
    assert _rule(app, "P01").title == "支持村两委工作、积极参加村民会议"


def test_a_new_minus_rule_form_asks_for_a_photo_and_the_rule_joins_the_end(app, admin_web):
    form = _text(admin_web.get("/v/jiangba/rules/new?kind=minus"))
    assert re.search(r'<option selected value="minus">|<option value="minus" selected', form)
    assert re.search(r'<input[^>]*checked[^>]*id="requires_evidence"|<input[^>]*id="requires_evidence"[^>]*checked', form)
    assert 'value="21"' in form
    page = admin_web.post("/v/jiangba/rules/new", {
        "code": "m11", "kind": "minus", "title": "乱停乱放", "default_points": "-2",
        "min_points": "-4", "max_points": "-1", "quarter_cap": "6", "requires_evidence": "y",
        "active": "y", "sort_order": "21",
    }, follow_redirects=True)
    html = _text(page)
    assert "已新增细则 M11 乱停乱放" in html
    assert _rows(html)[-1] == ("M11", "-2") and "6 分" in html
    assert _rule(app, "M11").requires_evidence


def test_deactivating_a_rule_keeps_old_entries_unchanged(app, admin_web, make_household):
    code = make_household(joined_on=dt.date(2020, 1, 1))
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        home = db.session.execute(db.select(Household).filter_by(code=code)).scalar_one()
        ledger.make_entry(None, village, home, rules.rule_by_code(village, "P01"), dt.date.today())
        db.session.commit()
    rule_id = _rule_id(app, "P01")
    assert "已有 1 条积分记录用过此细则" in _text(admin_web.get(f"/v/jiangba/rules/{rule_id}/edit"))
    deactivated = {k: v for k, v in EDIT_P01.items() if k != "active"}
    page = admin_web.post(f"/v/jiangba/rules/{rule_id}/edit", deactivated, follow_redirects=True)
    html = _text(page)
    assert "细则 P01 已停用" in html
    row = re.search(rf'<tr id="rule-{rule_id}" class="inactive">.*?</tr>', html, re.S).group(0)
    assert "停用" in row
    with app.app_context():
        entry = db.session.execute(db.select(Entry)).scalar_one()
        assert (entry.rule_code, entry.rule_title, entry.points) == ("P01", "支持村两委工作、积极参加村民会议", 2)
        assert rules.rule_by_code(villages.get_by_slug("jiangba"), "P01").active is False


def test_a_clerk_reads_the_rulebook_but_may_not_change_it(app, web, make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")
    web.login("clerk1")
    html = _text(web.get("/v/jiangba/rules"))
    assert len(_rows(html)) == 20 and "积分细则" in html
    assert "新增细则" not in html and "/edit" not in html
    rule_id = _rule_id(app, "P01")
    assert web.get("/v/jiangba/rules/new").status_code == 403
    assert web.get(f"/v/jiangba/rules/{rule_id}/edit").status_code == 403
    assert web.post(f"/v/jiangba/rules/{rule_id}/edit", EDIT_P01).status_code == 403
    assert _rule(app, "P01").title == "支持村两委工作、积极参加村民会议"


def test_a_user_of_another_village_is_refused(app, web, make_village, make_user):
    make_village()
    make_village("新村", "xincun")
    make_user("clerk2", "clerk", slugs=("xincun",))
    web.login("clerk2")
    assert web.get("/v/jiangba/rules").status_code == 403
    assert web.get("/v/xincun/rules").status_code == 200


def test_a_rule_of_another_village_is_not_found_under_this_one(app, admin_web, make_village):
    make_village("新村", "xincun")
    other_id = _rule_id(app, "P01", "xincun")
    assert admin_web.get(f"/v/jiangba/rules/{other_id}/edit").status_code == 404
    assert admin_web.post(f"/v/jiangba/rules/{other_id}/edit", EDIT_P01).status_code == 404
    assert admin_web.get("/v/jiangba/rules/999999/edit").status_code == 404


def test_the_village_menu_links_to_the_rulebook(admin_web):
    assert 'href="/v/jiangba/rules"' in _text(admin_web.get("/v/jiangba/households"))
