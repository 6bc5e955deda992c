import re

import pytest

from conftest import PASSWORD
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, User


@pytest.fixture
def admin_web(web, make_user):
    make_user("admin", "admin", slugs=())
    web.login("admin")
    return web


def _text(page):
    return page.get_data(as_text=True)


def _village_id(app, slug):
    from villagepoints import villages

    with app.app_context():
        return villages.get_by_slug(slug).id


def _user(app, username):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        return user.role, [v.slug for v in user.villages], user.active, user.display_name


def test_user_list_shows_role_label_villages_and_status(admin_web, make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")
    page = _text(admin_web.get("/users"))
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if "clerk1" in r)
    assert "录入员" in row and "蒋坝村" in row and "启用" in row
    assert "全部村" in next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if ">admin<" in r)


def test_new_user_form_offers_villages_as_checkboxes(admin_web, make_village):
    make_village()
    page = _text(admin_web.get("/users/new"))
    assert re.search(r'<input[^>]*type="checkbox"[^>]*>\s*蒋坝村', page)


def test_admin_creates_a_scoped_user_who_sees_only_that_village(app, admin_web, web, make_village):
    make_village()
    make_village("新村", "xincun")
    page = admin_web.post("/users/new", {
        "username": "wang", "display_name": "王会计", "role": "clerk",
        "villages": str(_village_id(app, "xincun")),
        "password": "wang-password-1", "confirm": "wang-password-1",
    }, follow_redirects=True)
    assert "已新建用户 wang" in _text(page)
    assert _user(app, "wang") == ("clerk", ["xincun"], True, "王会计")

    admin_web.post("/logout")
    page = web.login("wang", "wang-password-1")
    assert "王会计" in _text(page)
    home = web.get("/")
    assert home.headers["Location"].endswith("/v/xincun/households")
    assert web.get("/v/jiangba/households").status_code == 403


def test_new_user_password_must_be_long_enough_and_confirmed(app, admin_web):
    page = admin_web.post("/users/new", {"username": "wang", "role": "clerk", "password": "short", "confirm": "short"})
    assert "密码至少需要8位" in _text(page)
    page = admin_web.post("/users/new", {"username": "wang", "role": "clerk",
                                         "password": "long-enough-1", "confirm": "long-enough-2"})
    assert "两次输入的密码不一致" in _text(page)
    with app.app_context():
        assert db.session.execute(db.select(User).filter_by(username="wang")).first() is None


def test_a_taken_username_is_refused(admin_web, make_user):
    make_user("clerk1", "clerk", slugs=())
    page = admin_web.post("/users/new", {"username": "clerk1", "role": "viewer",
                                         "password": PASSWORD, "confirm": PASSWORD})
    assert "用户名“clerk1”已被使用" in _text(page)


def test_admin_edits_role_villages_and_disables_a_user(app, admin_web, web, make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")
    user_id = _user_id(app, "clerk1")
    page = admin_web.post(f"/users/{user_id}/edit", {"display_name": "李四", "role": "viewer"},
                          follow_redirects=True)
    assert "用户 clerk1 已保存" in _text(page)
    assert _user(app, "clerk1") == ("viewer", [], False, "李四")
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="user.update")).scalar_one()
        assert entry.actor == "admin" and '"active": false' in entry.after

    admin_web.post("/logout")
    page = web.login("clerk1")
    assert "用户名或密码错误" in _text(page)


def test_edit_form_shows_the_current_values(app, admin_web, make_village, make_user):
    make_village()
    make_user("clerk1", "reviewer")
    page = _text(admin_web.get(f"/users/{_user_id(app, 'clerk1')}/edit"))
    assert re.search(r'<option selected value="reviewer">', page)
    assert re.search(r'<input checked[^>]*name="villages"', page)
    assert re.search(r'<input checked[^>]*name="active"', page)


def test_admin_resets_a_password_and_the_user_logs_in_with_it(app, admin_web, web, make_user):
    make_user("clerk1", "clerk", slugs=())
    user_id = _user_id(app, "clerk1")
    admin_web.post(f"/users/{user_id}/edit", {"role": "clerk", "active": "y",
                                               "password": "reset-password-1", "confirm": "reset-password-1"})
    admin_web.post("/logout")
    assert "用户名或密码错误" in _text(web.login("clerk1"))
    assert ">clerk1</a>" in _text(web.login("clerk1", "reset-password-1"))


def test_admin_cannot_remove_their_own_admin_role(app, admin_web):
    page = admin_web.post(f"/users/{_user_id(app, 'admin')}/edit", {"role": "clerk", "active": "y"})
    assert "不能停用自己或取消自己的管理员角色" in _text(page)
    assert _user(app, "admin")[0] == "admin"


def test_unknown_user_is_not_found(admin_web):
    assert admin_web.get("/users/9999/edit").status_code == 404


@pytest.mark.parametrize("role", ["clerk", "reviewer", "storekeeper", "viewer"])
def test_user_pages_are_forbidden_to_other_roles(app, web, make_village, make_user, role):
    make_village()
    make_user("someone", role)
    web.login("someone")
    assert web.get("/users").status_code == 403
    assert web.get("/users/new").status_code == 403
    assert web.get(f"/users/{_user_id(app, 'someone')}/edit").status_code == 403


def test_any_user_changes_their_own_password(app, web, make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")
    web.login("clerk1")
    page = web.post("/account/password", {"current": PASSWORD, "password": "brand-new-pass", "confirm": "brand-new-pass"},
                    follow_redirects=True)
    assert "密码已修改" in _text(page)
    web.post("/logout")
    assert "用户名或密码错误" in _text(web.login("clerk1"))
    assert ">clerk1</a>" in _text(web.login("clerk1", "brand-new-pass"))
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="user.password")).scalar_one()
        assert entry.actor == "clerk1"


def test_own_password_change_needs_the_right_current_password(app, web, make_user):
    make_user("clerk1", "clerk", slugs=())
    web.login("clerk1")
    page = web.post("/account/password", {"current": "wrong-password", "password": "brand-new-pass",
                                          "confirm": "brand-new-pass"})
    assert "当前密码不正确" in _text(page)
    page = web.post("/account/password", {"current": PASSWORD, "password": "brand-new-pass", "confirm": "other-new-pass"})
    assert "两次输入的密码不一致" in _text(page)
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="clerk1")).scalar_one()
        assert user.check_password(PASSWORD)


def test_header_name_links_to_the_password_page(web, make_user):
    make_user("clerk1", "clerk", slugs=())
    page = _text(web.login("clerk1"))
    assert re.search(r'<a href="/account/password"[^>]*>clerk1</a>', page)


def test_password_page_needs_login(web):
    assert "/login" in web.get("/account/password").headers["Location"]


def _user_id(app, username):
    with app.app_context():
        return db.session.execute(db.select(User.id).filter_by(username=username)).scalar_one()
