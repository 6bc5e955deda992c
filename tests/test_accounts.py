import pytest

from conftest import PASSWORD
from villagepoints import accounts, audit, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry


@pytest.fixture
def admin(ctx):
    return accounts.create_user(None, "admin", PASSWORD, "admin")


def test_passwords_are_stored_hashed(ctx):
    user = accounts.create_user(None, "clerk1", PASSWORD, "clerk")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "username, password, role, words",
    [
        ("", PASSWORD, "clerk", "用户名不能为空"),
        ("clerk1", "short", "clerk", "至少需要8位"),
        ("clerk1", PASSWORD, "boss", "角色"),
        ("x" * 51, PASSWORD, "clerk", "50个字符"),
    ],
)
def test_bad_new_users_are_refused(ctx, username, password, role, words):
    with pytest.raises(accounts.AccountError, match=words):
        accounts.create_user(None, username, password, role)


def test_usernames_are_unique(ctx):
    accounts.create_user(None, "clerk1", PASSWORD, "clerk")
    with pytest.raises(accounts.AccountError, match="已被使用"):
        accounts.create_user(None, "clerk1", PASSWORD, "viewer")


def test_update_changes_scope_and_audits_only_what_changed(ctx, admin):
    jiangba = villages.create_village(None, "蒋坝村", "jiangba")
    user = accounts.create_user(None, "clerk1", PASSWORD, "clerk")
    accounts.update_user(admin, user, role="reviewer", villages=[jiangba], display_name="", active=True)
    assert user.role == "reviewer" and user.can_access(jiangba)
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="user.update")).scalar_one()
    assert entry.actor == "admin"
    assert audit.decode(entry.before) == {"role": "clerk", "villages": []}
    assert audit.decode(entry.after) == {"role": "reviewer", "villages": ["jiangba"]}


def test_a_reset_password_is_logged_without_the_password(ctx, admin):
    user = accounts.create_user(None, "clerk1", PASSWORD, "clerk")
    accounts.update_user(admin, user, role="clerk", villages=[], display_name="", active=True,
                         password="another-pass-1")
    assert user.check_password("another-pass-1")
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="user.update")).scalar_one()
    assert "another-pass" not in entry.after


def test_a_short_reset_password_changes_nothing(ctx, admin):
    user = accounts.create_user(None, "clerk1", PASSWORD, "clerk")
    with pytest.raises(accounts.AccountError, match="至少需要8位"):
        accounts.update_user(admin, user, role="viewer", villages=[], display_name="", active=True,
                             password="short")
    assert user.role == "clerk"


def test_an_admin_cannot_disable_or_demote_themselves(ctx, admin):
    with pytest.raises(accounts.AccountError, match="不能停用自己"):
        accounts.update_user(admin, admin, role="admin", villages=[], display_name="", active=False)
    with pytest.raises(accounts.AccountError, match="管理员角色"):
        accounts.update_user(admin, admin, role="clerk", villages=[], display_name="", active=True)


def test_changing_own_password_needs_the_current_one(ctx):
    user = accounts.create_user(None, "clerk1", PASSWORD, "clerk")
    with pytest.raises(accounts.AccountError, match="当前密码不正确"):
        accounts.change_password(user, "wrong-password", "new-password-1")
    with pytest.raises(accounts.AccountError, match="至少需要8位"):
        accounts.change_password(user, PASSWORD, "short")
    accounts.change_password(user, PASSWORD, "new-password-1")
    assert user.check_password("new-password-1")
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="user.password")).scalar_one()
    assert entry.actor == "clerk1" and entry.after is None
