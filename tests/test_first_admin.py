"""The first admin's password note lives only as long as that password works."""
from __future__ import annotations

from pathlib import Path

from villagepoints.extensions import db
from villagepoints.models import User


def _note(app) -> Path:
    return Path(app.instance_path) / "first-admin.txt"


def _first_password(app) -> str:
    lines = dict(line.split(": ", 1) for line in _note(app).read_text(encoding="utf-8").splitlines())
    assert lines["用户名"] == "admin"
    return lines["密码"]


def test_init_db_writes_the_note_and_says_where_to_change_the_password(app, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert _note(app).stat().st_mode & 0o777 == 0o600
    assert f"密码 {_first_password(app)}" in result.output
    assert "登录后点页面右上角自己的名字，在“修改密码”页修改" in result.output
    # Unchanged password: the note stays for the next start.
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0 and _note(app).exists()


def test_changing_the_first_password_on_the_web_removes_the_note(app, runner, web):
    runner.invoke(args=["init-db"])
    first = _first_password(app)
    assert "退出" in web.login("admin", first).get_data(as_text=True)
    changed = web.post("/account/password", {"current": first, "password": "新的管理员密码123",
                                             "confirm": "新的管理员密码123"})
    assert changed.status_code == 302, changed.get_data(as_text=True)
    assert not _note(app).exists()
    assert "已删除" not in runner.invoke(args=["init-db"]).output


def test_init_db_removes_a_note_whose_password_was_changed_elsewhere(app, runner):
    runner.invoke(args=["init-db"])
    with app.app_context():
        admin = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        admin.set_password("另一个管理员重设的密码")
        db.session.commit()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "首个管理员已改过初始密码，first-admin.txt 已删除" in result.output
    assert not _note(app).exists()
