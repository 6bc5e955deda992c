from villagepoints.extensions import db
from villagepoints.models import AuditEntry


def test_login_with_right_password_opens_the_village(web, make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")
    page = web.login("clerk1")
    assert page.status_code == 200
    assert "蒋坝村" in page.get_data(as_text=True)


def test_login_refused_without_csrf_token(web, make_village, make_user):
    make_user("clerk1", "clerk", slugs=())
    web.get("/login")
    page = web.client.post("/login", data={"username": "clerk1", "password": "correct-horse-9"})
    assert page.status_code == 400
    assert "页面已过期" in page.get_data(as_text=True)


def test_repeated_failures_lock_the_name_even_for_the_right_password(web, make_user):
    make_user("clerk1", "clerk", slugs=())
    for _ in range(5):
        page = web.login("clerk1", "wrong-password")
        assert "用户名或密码错误" in page.get_data(as_text=True)
    page = web.login("clerk1")
    assert page.status_code == 429
    assert "登录失败次数过多" in page.get_data(as_text=True)


def test_pages_need_login(web):
    page = web.get("/")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]


def test_open_redirect_after_login_is_refused(web, make_user):
    make_user("clerk1", "clerk", slugs=())
    web.get("/login")
    page = web.post("/login?next=https://evil.example/", {"username": "clerk1", "password": "correct-horse-9"})
    assert page.headers["Location"] == "/"


def test_village_outside_scope_is_forbidden(web, make_village, make_user):
    make_village()
    make_village("新村", "xincun")
    make_user("clerk1", "clerk", slugs=("xincun",))
    web.login("clerk1")
    assert web.get("/v/jiangba/households").status_code == 403
    assert web.get("/v/xincun/households").status_code == 200


def test_creating_a_user_is_audited_without_the_password(app, make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).filter_by(action="user.create")).scalar_one()
        assert "clerk1" in entry.after and "correct-horse" not in entry.after


def test_behind_a_proxy_failures_are_counted_per_resident_address(database_url, tmp_path, make_user):
    from conftest import _make_app

    make_user("clerk1", "clerk", slugs=())
    proxied = _make_app(database_url, tmp_path / "proxied", TRUSTED_PROXIES=1)
    client = proxied.test_client()
    token = _token(client)
    for _ in range(20):
        client.post("/login", data={"username": "nobody", "password": "x", "csrf_token": token},
                    headers={"X-Forwarded-For": "10.0.0.7"})
    # Another resident behind the same proxy is not locked out by the first one's guesses.
    page = client.post("/login", data={"username": "clerk1", "password": "correct-horse-9", "csrf_token": token},
                       headers={"X-Forwarded-For": "10.0.0.8"})
    assert page.status_code == 302
    with proxied.app_context():
        db.engine.dispose()


def _token(client):
    import re

    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
