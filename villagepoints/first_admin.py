"""The note that hands the first administrator's password to whoever installed the app.

`init-db` writes ``instance/first-admin.txt`` when it creates the first admin, and
`scripts/run.sh` prints it at each start. Once that password no longer opens the account
(changed on the web, reset by another admin, or from the command line) the note is
removed, so nobody is shown a stale password as if it were current.
"""
from __future__ import annotations

from pathlib import Path

from .extensions import db
from .models import User

NOTE_NAME = "first-admin.txt"
# Where the password is changed, said the same way by init-db, run.sh and the README.
WHERE_TO_CHANGE = "登录后点页面右上角自己的名字，在“修改密码”页修改"


def note_path(instance_path: str) -> Path:
    return Path(instance_path) / NOTE_NAME


def write_note(instance_path: str, username: str, password: str) -> Path:
    """Write the note readable by its owner alone; return its path."""
    path = note_path(instance_path)
    path.write_text(f"用户名: {username}\n密码: {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _read_note(path: Path) -> tuple[str, str]:
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields.get("用户名", ""), fields.get("密码", "")


def retire_if_stale(instance_path: str) -> bool:
    """Remove the note when its password no longer opens its account; say whether it did."""
    path = note_path(instance_path)
    if not path.is_file():
        return False
    username, password = _read_note(path)
    user = db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None and password and user.check_password(password):
        return False
    path.unlink()
    return True
