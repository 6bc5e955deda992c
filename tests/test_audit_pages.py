import datetime as dt
import re

import pytest

from villagepoints import accounts, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, User
from villagepoints.web.audit_log import action_label, changes, china_time


@pytest.fixture
def admin_web(web, make_user):
    make_user("admin", "admin", slugs=())
    web.login("admin")
    return web


@pytest.fixture
def history(app, admin_web, make_village, make_user, make_household):
    """Two villages, a clerk, households and a settings change by the admin."""
    make_village()
    make_village("新村", "xincun", groups=("一组",))
    make_user("clerk1", "clerk", slugs=("jiangba", "xincun"))
    make_household(head_name="张三")
    make_household("xincun", head_name="李四")
    with app.app_context():
        admin = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        village = villages.get_by_slug("jiangba")
        villages.update_village(admin, village, name="蒋坝村", base_score=90, require_review=True,
                                red_list_size=3, categories=village.categories)
        db.session.commit()


def _rows(page):
    html = page.get_data(as_text=True)
    return re.findall(r"<tr>\s*<td>.*?</tr>", html, re.S)


def test_log_lists_changes_newest_first_with_chinese_action_names(admin_web, history):
    rows = _rows(admin_web.get("/audit"))
    assert "修改村设置" in rows[0]
    assert "基础分" in rows[0] and "100 → 90" in rows[0]
    assert any("新增农户" in r and "张三" in r for r in rows)
    assert any("新增用户" in r for r in rows)


def test_a_creation_lists_only_the_fields_that_were_filled(admin_web, history):
    rows = _rows(admin_web.get("/audit?action=household.create&q=张三"))
    assert len(rows) == 1
    assert "户主：</span>张三" in rows[0] and "状态：</span>在册" in rows[0]
    assert "（空）" not in rows[0] and "→" not in rows[0]


def test_filter_by_village_shows_only_its_rows(app, admin_web, history):
    village_id = _id(app, "xincun")
    rows = _rows(admin_web.get(f"/audit?village={village_id}"))
    assert rows and all("新村" in r for r in rows)
    assert any("李四" in r for r in rows)


def test_filter_by_actor_and_action(app, admin_web, history):
    with app.app_context():
        admin_id = db.session.execute(db.select(User.id).filter_by(username="admin")).scalar_one()
    rows = _rows(admin_web.get(f"/audit?actor={admin_id}"))
    assert len(rows) == 1 and "修改村设置" in rows[0]
    rows = _rows(admin_web.get("/audit?actor=cli&action=household.create"))
    assert len(rows) == 2 and all("新增农户" in r for r in rows)


def test_action_filter_offers_the_actions_in_the_log(admin_web, history):
    html = admin_web.get("/audit").get_data(as_text=True)
    assert '<option value="village.update">修改村设置</option>' in html
    assert 'value="quarter.publish"' not in html


def test_free_text_searches_target_and_summary(admin_web, history):
    rows = _rows(admin_web.get("/audit?q=李四"))
    assert len(rows) == 1 and "农户" in rows[0]
    assert _rows(admin_web.get("/audit?q=100%")) == []


def test_date_filter_uses_china_days(app, admin_web, history):
    with app.app_context():
        # 2026-03-01 23:30 in China is 15:30 UTC the same day; 00:30 China is the UTC evening before.
        db.session.add(AuditEntry(at=dt.datetime(2026, 3, 1, 15, 30), actor="admin", action="x.late", target="深夜"))
        db.session.add(AuditEntry(at=dt.datetime(2026, 2, 28, 16, 30), actor="admin", action="x.early", target="凌晨"))
        db.session.add(AuditEntry(at=dt.datetime(2026, 2, 28, 15, 30), actor="admin", action="x.before", target="前一天"))
        db.session.commit()
    rows = _rows(admin_web.get("/audit?date_from=2026-03-01&date_to=2026-03-01"))
    assert [("深夜" in r, "凌晨" in r) for r in rows] == [(True, False), (False, True)]
    assert "2026-03-01 23:30" in rows[0] and "2026-03-01 00:30" in rows[1]
    assert "x.late" in rows[0]


def test_a_bad_date_is_reported_and_ignored(admin_web, history):
    page = admin_web.get("/audit?date_from=not-a-date")
    assert "不是有效的日期值" in page.get_data(as_text=True)
    assert len(_rows(page)) > 1


def test_log_is_paginated_and_keeps_the_filters(app, admin_web):
    with app.app_context():
        for n in range(app.config["PER_PAGE"] + 5):
            db.session.add(AuditEntry(actor="admin", action="household.update", target=f"农户 {n:04d}"))
        db.session.commit()
    page = admin_web.get("/audit?action=household.update")
    html = page.get_data(as_text=True)
    assert len(_rows(page)) == app.config["PER_PAGE"]
    assert "共 55 条" in html
    assert "/audit?page=2&amp;action=household.update" in html or "/audit?action=household.update&amp;page=2" in html
    assert len(_rows(admin_web.get("/audit?action=household.update&page=2"))) == 5


def test_password_changes_are_logged_without_the_password(app, admin_web, web, make_user):
    make_user("clerk1", "clerk", slugs=())
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
        accounts.change_password(user, "correct-horse-9", "brand-new-pass")
        db.session.commit()
    html = admin_web.get("/audit?action=user.password").get_data(as_text=True)
    assert "修改密码" in html and "brand-new-pass" not in html


@pytest.mark.parametrize("role", ["clerk", "reviewer", "storekeeper", "viewer"])
def test_log_is_forbidden_to_other_roles(web, make_village, make_user, role):
    make_village()
    make_user("someone", role)
    web.login("someone")
    assert web.get("/audit").status_code == 403


def test_unknown_actions_are_shown_as_stored():
    assert action_label("household.create") == "新增农户"
    assert action_label("something.new") == "something.new"


def test_changes_show_labels_and_cope_with_any_logged_value():
    entry = AuditEntry(
        action="x.update",
        before='{"role": "clerk", "active": true, "extra": {"a": 1}}',
        after='{"role": "viewer", "active": false, "extra": [{"a": 2}]}',
    )
    assert changes(entry) == [
        ("角色", "录入员", "只读用户"),
        ("启用", "是", "否"),
        ("extra", "a 1", "a 2"),
    ]


def test_times_are_shown_in_china_time():
    assert china_time(dt.datetime(2026, 12, 31, 16, 5)) == "2027-01-01 00:05"


def _id(app, slug):
    with app.app_context():
        return villages.get_by_slug(slug).id


def _logged_keys() -> set[str]:
    """Every field name the code writes into an audit row's before/after (literal dicts and *_state helpers)."""
    import ast
    from pathlib import Path

    import villagepoints

    keys: set[str] = set()
    for path in Path(villagepoints.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            dicts = []
            if isinstance(node, ast.Call):
                dicts = [kw.value for kw in node.keywords if kw.arg in ("before", "after")]
            elif isinstance(node, ast.FunctionDef) and (node.name.endswith("_state") or node.name == "settings_of"):
                dicts = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
            for d in dicts:
                if isinstance(d, ast.Dict):
                    keys |= {k.value for k in d.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return keys


def test_every_field_the_code_logs_has_a_chinese_name():
    from villagepoints.web.audit_log import FIELD_LABELS

    keys = _logged_keys()
    assert {"households", "added", "status", "entries"} <= keys  # the scan finds what it should
    assert sorted(keys - set(FIELD_LABELS)) == []


def test_statuses_use_the_words_of_the_pages():
    approved = AuditEntry(action="entry.approve", before='{"status": "pending"}', after='{"status": "approved"}')
    published = AuditEntry(action="quarter.reopen", before='{"status": "published"}', after='{"status": "open"}')
    answered = AuditEntry(action="objection.answer", before='{"status": "open"}', after='{"status": "upheld"}')
    assert changes(approved) == [("状态", "待审核", "已通过")]
    assert changes(published) == [("状态", "公示中", "未公示")]
    assert changes(answered) == [("状态", "待答复", "成立")]


def test_reviewing_many_entries_is_one_row_that_opens_to_its_entries(app, admin_web, make_village, make_user,
                                                                      make_household):
    from villagepoints import households, ledger, rules

    make_village()
    make_user("clerk1", "clerk")
    codes = [make_household(head_name=f"农户{n}", joined_on=dt.date(2020, 1, 1)) for n in range(5)]
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        clerk, admin = (db.session.execute(db.select(User).filter_by(username=u)).scalar_one()
                        for u in ("clerk1", "admin"))
        made = [ledger.make_entry(clerk, village, households.get_household(village, c),
                                  rules.rule_by_code(village, "P03"), dt.date(2026, 6, 1), evidence=True)
                for c in codes]
        ledger.reject(admin, made, "照片不清楚")
        db.session.commit()
        rows = db.session.execute(db.select(AuditEntry).filter_by(action="entry.reject")).scalars().all()
        assert len(rows) == 1
    page = admin_web.get("/audit?action=entry.reject").get_data(as_text=True)
    assert "驳回积分" in page and "5 条积分记录" in page
    assert "驳回理由：</span>照片不清楚</li>" in page
    assert '<details class="audit-items"><summary>共 5 项</summary>' in page
    assert "积分记录 #" in page and "农户4" in page
    assert "review_note" not in page and "entries" not in page.split("<main>")[1]
