"""User accounts: creation, village scoping and throttled authentication."""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional

from . import audit, throttle
from .extensions import db
from .models import ROLES, User, Village

MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """A user account request that breaks a rule; the message is shown to the user."""


class LoginThrottled(AccountError):
    """Too many recent failed logins for this name or address."""


def validate_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要{MIN_PASSWORD_LENGTH}位")


def create_user(
    actor: Optional[User],
    username: str,
    password: str,
    role: str,
    villages: Iterable[Village] = (),
    display_name: str = "",
) -> User:
    """Add a user with a hashed password, scoped to the given villages."""
    username = (username or "").strip()
    if not username:
        raise AccountError("用户名不能为空")
    if len(username) > 50:
        raise AccountError("用户名不能超过50个字符")
    _check_display_name(display_name)
    if role not in ROLES:
        raise AccountError(f"角色“{role}”不存在，可选：{'、'.join(ROLES)}")
    validate_password(password)
    exists = db.session.execute(db.select(User.id).filter_by(username=username)).first()
    if exists:
        raise AccountError(f"用户名“{username}”已被使用")
    user = User(username=username, role=role, display_name=display_name.strip(), active=True)
    user.set_password(password)
    user.villages = list(villages)
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.create",
        target=f"用户 {username}",
        after={"username": username, "role": role, "villages": [v.slug for v in user.villages]},
    )
    return user


def update_user(
    actor: Optional[User],
    user: User,
    *,
    role: str,
    villages: Iterable[Village],
    display_name: str,
    active: bool,
    password: str = "",
) -> None:
    """Change a user's role, scope, name, status and (optionally) password."""
    if role not in ROLES:
        raise AccountError(f"角色“{role}”不存在")
    _check_display_name(display_name)
    if password:
        validate_password(password)
    if actor is not None and actor.id == user.id and (not active or role != "admin") and user.is_admin:
        raise AccountError("不能停用自己或取消自己的管理员角色")
    before = _state(user)
    user.role = role
    user.villages = list(villages)
    user.display_name = display_name.strip()
    user.active = active
    if password:
        user.set_password(password)
    after = _state(user)
    if password:
        after["password"] = "（已重设）"
    old, new = audit.changed(before, after)
    if new:
        audit.record(actor, "user.update", target=f"用户 {user.username}", before=old, after=new)


def change_password(actor: User, current: str, new: str) -> None:
    """Replace the actor's own password, once they prove they know the current one."""
    if not actor.check_password(current or ""):
        raise AccountError("当前密码不正确")
    validate_password(new)
    if new == current:
        raise AccountError("新密码不能与当前密码相同")
    actor.set_password(new)
    audit.record(actor, "user.password", target=f"用户 {actor.username}", summary="本人修改密码")


def _check_display_name(display_name: str) -> None:
    if len((display_name or "").strip()) > 50:
        raise AccountError("显示名不能超过50个字")


def _state(user: User) -> dict:
    return {
        "role": user.role,
        "villages": [v.slug for v in user.villages],
        "display_name": user.display_name,
        "active": user.active,
    }


def authenticate(
    username: str,
    password: str,
    remote_addr: str,
    *,
    max_failures: int = 5,
    window_minutes: int = 15,
    now: Optional[dt.datetime] = None,
) -> Optional[User]:
    """Return the user for a correct name and password, None otherwise.

    Raises LoginThrottled once a name has failed ``max_failures`` times in the window,
    or an address four times as often, whether or not the password is now right, so
    guessing gains nothing. Failures are rows in the database, so every worker counts them.
    """
    username = (username or "").strip()
    try:
        throttle.check("login", username, remote_addr, per_key=max_failures, per_addr=max_failures * 4,
                       window_minutes=window_minutes, now=now)
    except throttle.Throttled as exc:
        raise LoginThrottled(f"登录失败次数过多，请{window_minutes}分钟后再试") from exc
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is not None and user.active and user.check_password(password):
        throttle.clear("login", username)
        return user
    throttle.fail("login", username, remote_addr, now)
    return None
