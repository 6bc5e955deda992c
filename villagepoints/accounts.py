"""User accounts: creation, village scoping and throttled authentication."""
from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Iterable, Optional

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, throttle
from .extensions import db
from .models import ROLE_LABELS, ROLES, TOWNSHIP_ROLES, Township, User, Village, utcnow

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
    township: Optional[Township] = None,
) -> User:
    """Add a user with a hashed password, scoped to the given villages (or, for a
    township role, to every village of the township)."""
    username = (username or "").strip()
    if not username:
        raise AccountError("用户名不能为空")
    if len(username) > 50:
        raise AccountError("用户名不能超过50个字符")
    _check_display_name(display_name)
    if role not in ROLES:
        raise AccountError(f"角色“{role}”不存在，可选：{'、'.join(ROLES)}")
    validate_password(password)
    villages = list(villages)
    township = _check_scope(actor, role, villages, township)
    exists = db.session.execute(db.select(User.id).filter_by(username=username)).first()
    if exists:
        raise AccountError(f"用户名“{username}”已被使用")
    user = User(username=username, role=role, display_name=display_name.strip(), active=True)
    user.set_password(password)
    user.villages = villages
    user.township_id = township.id if township else None
    user.township = township
    db.session.add(user)
    db.session.flush()
    after = {"username": username, "role": role, "villages": [v.slug for v in user.villages]}
    if township is not None:
        after["township"] = township.slug
    audit.record(actor, "user.create", target=f"用户 {username}", after=after)
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
    township: Optional[Township] = None,
) -> None:
    """Change a user's role, scope, name, status and (optionally) password."""
    if role not in ROLES:
        raise AccountError(f"角色“{role}”不存在")
    if actor is not None and not can_manage(actor, user):
        raise AccountError(f"用户“{user.username}”不在您管理的村里，不能修改")
    _check_display_name(display_name)
    villages = list(villages)
    if township is None and role in TOWNSHIP_ROLES and role == user.role:
        township = user.township
    township = _check_scope(actor, role, villages, township, current_role=user.role)
    if password:
        validate_password(password)
    if actor is not None and actor.id == user.id and (not active or role != "admin") and user.is_admin:
        raise AccountError("不能停用自己或取消自己的管理员角色")
    before = _state(user)
    user.role = role
    user.villages = villages
    user.township_id = township.id if township else None
    user.township = township
    user.display_name = display_name.strip()
    user.active = active
    if password:
        user.set_password(password)
        user.end_sessions()
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
    actor.end_sessions()
    audit.record(actor, "user.password", target=f"用户 {actor.username}", summary="本人修改密码")


def can_manage(actor: User, user: User) -> bool:
    """Admins manage everyone; a township admin manages its township's viewers, itself, and
    users whose villages all lie in its township."""
    if actor.is_admin:
        return True
    if actor.role != "township_admin" or actor.township_id is None or user.is_admin:
        return False
    if user.is_township_user:
        return user.township_id == actor.township_id
    return bool(user.villages) and all(v.township_id == actor.township_id for v in user.villages)


def roles_for(actor: Optional[User]) -> list[str]:
    """Return the roles an actor may hand out: a township admin only those below its own."""
    if actor is None or actor.is_admin:
        return list(ROLES)
    if actor.role == "township_admin":
        return [r for r in ROLES if r not in ("admin", "township_admin")]
    return []


def _check_scope(
    actor: Optional[User], role: str, villages: list[Village], township: Optional[Township],
    current_role: Optional[str] = None,
) -> Optional[Township]:
    """Refuse a scope that does not fit the role or lies outside the actor's township."""
    label = ROLE_LABELS[role]
    if role in TOWNSHIP_ROLES:
        if actor is not None and actor.role == "township_admin":
            township = actor.township
        if township is None:
            raise AccountError(f"{label}要指定所属乡镇")
        if villages:
            raise AccountError(f"{label}看得到乡镇的全部村，不用再勾选村")
    else:
        township = None
    if actor is not None and not actor.is_admin:
        if role not in roles_for(actor) and role != current_role:
            raise AccountError(f"您不能设置“{label}”角色")
        outside = [v.name for v in villages if v.township_id is None or v.township_id != actor.township_id]
        if outside:
            raise AccountError(f"{'、'.join(outside)}不属于您的乡镇，不能分配")
    return township


def _check_display_name(display_name: str) -> None:
    if len((display_name or "").strip()) > 50:
        raise AccountError("显示名不能超过50个字")


def _state(user: User) -> dict:
    return {
        "role": user.role,
        "villages": [v.slug for v in user.villages],
        "township": user.township.slug if user.township else None,
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

    Guessing is slowed three ways, counted over the last ``window_minutes`` (15):

    - an address that failed ``max_failures * 4`` times (20), whatever the names, is
      refused until its failures age out;
    - once a name has failed ``max_failures`` times (5) from anywhere, each address must
      wait after its own failures on that name, 2^n seconds after its n-th (5th: 32 s,
      7th: about 2 minutes, 10th: the whole window). An address that has not failed on
      the name is not held up, so someone guessing elsewhere cannot lock the right
      password out;
    - a name never blocks its own right password from a fresh address.

    Raises LoginThrottled, whether or not the password is now right, so waiting is the
    only way on. Failures are rows, counted under a lock, so every worker counts them
    and attempts at the same moment are counted one after the other. An unknown name
    costs a password hash as a known one does, so timing does not tell names apart.
    """
    username = (username or "").strip()
    now = now or utcnow()
    since = now - dt.timedelta(minutes=window_minutes)
    try:
        throttle.lock("login", [username, throttle.addr_key(remote_addr)])
    except throttle.Throttled as exc:
        raise LoginThrottled(str(exc)) from exc
    by_addr, _ = throttle.failures("login", since=since, remote_addr=remote_addr)
    if by_addr >= max_failures * 4:
        raise LoginThrottled(f"这台设备登录失败次数过多，请{window_minutes}分钟后再试")
    by_name, _ = throttle.failures("login", since=since, key=username)
    if by_name >= max_failures:
        mine, latest = throttle.failures("login", since=since, key=username, remote_addr=remote_addr)
        if mine:
            wait = min(2**mine, window_minutes * 60)
            left = math.ceil(wait - (now - latest).total_seconds())
            if left > 0:
                raise LoginThrottled(f"该账号登录失败次数过多，请{_duration(left)}后再试")
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    right = user.check_password(password or "") if user is not None else _spend_a_hash(password or "")
    if right and user.active:
        throttle.clear("login", username, remote_addr)
        return user
    throttle.fail("login", username, remote_addr, now)
    return None


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    return f"{math.ceil(seconds / 60)}分钟"


_DUMMY_HASHES: dict[str, str] = {}


def _spend_a_hash(password: str) -> bool:
    """Check a password against a hash nobody has, taking as long as a real check; always False."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    check_password_hash(_DUMMY_HASHES[method], password)
    return False
