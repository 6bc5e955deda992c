import re

import pytest

from villagepoints import audit, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry


@pytest.fixture
def admin_web(web, make_user):
    make_user("admin", "admin", slugs=())
    web.login("admin")
    return web


def _text(page):
    return page.get_data(as_text=True)


def _row(html, words):
    """Return the table row that contains the words."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if words in row)


def test_admin_creates_a_village_with_groups_typed_in_one_line(app, admin_web):
    page = admin_web.post(
        "/villages/new", {"name": "蒋坝村", "slug": "JiangBa", "groups": "一组,二组，三组、四组"},
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert "已新建蒋坝村，共4个小组" in _text(page)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        assert [g.name for g in village.groups] == ["一组", "二组", "三组", "四组"]
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="village.create")).scalar_one()
        assert entry.actor == "admin"


def test_a_taken_slug_is_refused_with_a_message_and_nothing_is_saved(app, admin_web, make_village):
    make_village()
    page = admin_web.post("/villages/new", {"name": "另一个村", "slug": "jiangba", "groups": "一组"})
    assert "村代码“jiangba”已被使用" in _text(page)
    with app.app_context():
        assert villages.get_by_slug("jiangba").name == "蒋坝村"


def test_a_bad_slug_is_explained_in_chinese(admin_web):
    page = admin_web.post("/villages/new", {"name": "蒋坝村", "slug": "蒋坝", "groups": ""})
    assert "村代码只能用小写字母" in _text(page)


def test_village_list_shows_group_and_household_counts(admin_web, make_village, make_household):
    make_village()
    make_village("新村", "xincun", groups=())
    make_household(head_name="张三")
    make_household(head_name="李四", group="二组")
    page = _text(admin_web.get("/villages"))
    assert "蒋坝村" in page and "新村" in page
    cells = re.findall(r'<td class="num">(\d+)</td>', _row(page, "蒋坝村"))
    assert cells == ["3", "2"]
    assert re.findall(r'<td class="num">(\d+)</td>', _row(page, "新村")) == ["0", "0"]


def test_settings_change_is_saved_and_audited_with_before_and_after(app, admin_web, make_village):
    make_village()
    page = admin_web.post(
        "/v/jiangba/settings",
        {"name": "蒋坝村", "base_score": "80", "red_list_size": "5", "categories": "一般户、党员户,脱贫户",
         "notice_days": "7"},
        follow_redirects=True,
    )
    assert "村设置已保存" in _text(page)
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        assert (village.base_score, village.require_review, village.red_list_size) == (80, False, 5)
        assert village.categories == ["一般户", "党员户", "脱贫户"]
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="village.update")).scalar_one()
        assert audit.decode(entry.before)["base_score"] == 100
        assert audit.decode(entry.after)["base_score"] == 80
        assert audit.decode(entry.after)["require_review"] is False


def test_settings_page_shows_current_values(admin_web, make_village):
    make_village(base_score=90)
    page = _text(admin_web.get("/v/jiangba/settings"))
    assert 'value="90"' in page
    assert "一般户、党员户" in page
    assert re.search(r'<input checked[^>]*name="require_review"', page)


def test_bad_settings_show_chinese_errors_and_change_nothing(app, admin_web, make_village):
    make_village()
    page = admin_web.post("/v/jiangba/settings", {"name": "蒋坝村", "base_score": "很多", "red_list_size": "0",
                                                  "categories": "一般户"})
    text = _text(page)
    assert "不是有效的整数" in text
    assert "红榜名额应在1到100之间" in text
    with app.app_context():
        assert villages.get_by_slug("jiangba").base_score == 100


def test_dropping_a_category_in_use_is_refused_on_the_page(app, admin_web, make_village, make_household):
    make_village()
    make_household(categories=["低保户"])
    page = admin_web.post("/v/jiangba/settings", {"name": "蒋坝村", "base_score": "100", "red_list_size": "3",
                                                  "require_review": "y", "categories": "一般户", "notice_days": "7"})
    assert "还有农户在用，不能删除" in _text(page)
    with app.app_context():
        assert "低保户" in villages.get_by_slug("jiangba").categories


def test_admin_adds_renames_and_reorders_groups(app, admin_web, make_village, make_household):
    make_village()
    make_household(group="二组")
    page = admin_web.post("/v/jiangba/groups", {"name": "四组"}, follow_redirects=True)
    assert "已添加小组“四组”" in _text(page)
    with app.app_context():
        group_id = villages.find_group(villages.get_by_slug("jiangba"), "二组").id
    page = admin_web.post(f"/v/jiangba/groups/{group_id}/rename", {"name": "河东组"}, follow_redirects=True)
    assert "小组“二组”已改名为“河东组”" in _text(page)
    admin_web.post(f"/v/jiangba/groups/{group_id}/move", {"direction": "up"})
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        assert [g.name for g in village.groups] == ["河东组", "一组", "三组", "四组"]
        assert villages.group_household_counts(village)[group_id] == 1
        actions = db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert actions[-3:] == ["group.create", "group.update", "group.move"]


def test_settings_page_lists_groups_with_household_counts(admin_web, make_village, make_household):
    make_village()
    make_household(group="二组")
    make_household(head_name="李四", group="二组")
    page = _text(admin_web.get("/v/jiangba/settings"))
    assert '<td class="num">2</td>' in _row(page, 'value="二组"')
    assert '<td class="num">0</td>' in _row(page, 'value="一组"')


def test_a_duplicate_group_name_is_refused(app, admin_web, make_village):
    make_village()
    page = admin_web.post("/v/jiangba/groups", {"name": "一组"}, follow_redirects=True)
    assert "小组“一组”已存在" in _text(page)


def test_a_group_of_another_village_cannot_be_renamed_through_this_one(app, admin_web, make_village):
    make_village()
    make_village("新村", "xincun", groups=("一组",))
    with app.app_context():
        other = villages.find_group(villages.get_by_slug("xincun"), "一组").id
    assert admin_web.post(f"/v/jiangba/groups/{other}/rename", {"name": "五组"}).status_code == 404


@pytest.mark.parametrize("role", ["clerk", "reviewer", "storekeeper", "viewer"])
def test_village_admin_pages_are_forbidden_to_other_roles(web, make_village, make_user, role):
    make_village()
    make_user("someone", role)
    web.login("someone")
    for url in ("/villages", "/villages/new", "/v/jiangba/settings"):
        assert web.get(url).status_code == 403
    assert web.post("/v/jiangba/groups", {"name": "五组"}).status_code == 403


def test_group_forms_need_the_csrf_token(admin_web, make_village):
    make_village()
    assert admin_web.client.post("/v/jiangba/groups", data={"name": "五组"}).status_code == 400
