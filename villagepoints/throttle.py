"""Throttling of guessable secrets (passwords, a resident's ID digits) by recorded failures.

Counting and recording happen under a lock on the key's and the address's rows
(``throttle_keys``), held until the request commits: thirty guesses fired at the same
moment are counted one after the other, so the limit holds on PostgreSQL as on SQLite
(where a writing request holds the database's write lock from its first statement).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional

from sqlalchemy import exists, literal, or_
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import LoginFailure, ThrottleKey, utcnow

KEY_LENGTH = 50
ADDR_LENGTH = 64
# Every window is minutes long (15 at most): a failure a day old is never counted again.
KEEP_HOURS = 24
# A key row purged between its insert and its lock is made again; twice is already unheard of.
LOCK_ATTEMPTS = 3


class Throttled(ValueError):
    """Too many recent failures for this key or address; the message says how long to wait."""


def lock(kind: str, keys: Iterable[str]) -> None:
    """Lock the throttle rows of these keys (made on first use) in id order, until commit.

    ``purge`` may delete an idle key's row between the insert here and the lock; then the
    lock finds fewer rows than keys, and the row is made again and locked.
    """
    keys = sorted({k[:120] for k in keys})
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    for _ in range(LOCK_ATTEMPTS):
        db.session.execute(
            insert(ThrottleKey).values([{"kind": kind, "key": k} for k in keys]).on_conflict_do_nothing()
        )
        locked = db.session.execute(
            db.select(ThrottleKey.id).where(ThrottleKey.kind == kind, ThrottleKey.key.in_(keys))
            .order_by(ThrottleKey.id).with_for_update()
        ).all()
        if len(locked) == len(keys):
            return
    # Counting without the lock is the race the lock exists to stop: refuse instead.
    raise Throttled("系统正忙，请稍后再试")


def addr_key(remote_addr: str) -> str:
    """The throttle key of an address, apart from any name."""
    return "@" + remote_addr[:ADDR_LENGTH]


def failures(
    kind: str, *, since: dt.datetime, key: Optional[str] = None, remote_addr: Optional[str] = None,
) -> tuple[int, Optional[dt.datetime]]:
    """Count the failures since a time, by key, by address or both; and the latest one's time."""
    stmt = db.select(db.func.count(LoginFailure.id), db.func.max(LoginFailure.at)).where(
        LoginFailure.kind == kind, LoginFailure.at >= since
    )
    if key is not None:
        stmt = stmt.where(LoginFailure.username == key[:KEY_LENGTH])
    if remote_addr is not None:
        stmt = stmt.where(LoginFailure.remote_addr == remote_addr[:ADDR_LENGTH])
    count, latest = db.session.execute(stmt).one()
    return count, latest


def check(
    kind: str, key: str, remote_addr: str, *, per_key: int, per_addr: int, window_minutes: int,
    now: Optional[dt.datetime] = None,
) -> None:
    """Lock the key and the address, then refuse when either has failed too often within the window."""
    lock(kind, [key, addr_key(remote_addr)])
    since = (now or utcnow()) - dt.timedelta(minutes=window_minutes)
    by_key, _ = failures(kind, since=since, key=key)
    by_addr, _ = failures(kind, since=since, remote_addr=remote_addr)
    if by_key >= per_key or by_addr >= per_addr:
        raise Throttled(f"尝试次数过多，请{window_minutes}分钟后再试")


def spend(
    kind: str, key: str, remote_addr: str, *, limit: int, window_minutes: int, now: Optional[dt.datetime] = None,
) -> int:
    """Count one use of a per-user allowance (searches by digits, card photos) under the key's lock.

    Returns 0 when the use is allowed and recorded; when ``limit`` uses were made within the
    window already, records nothing and returns how many, for the caller's refusal.
    """
    lock(kind, [key])
    used, _ = failures(kind, since=(now or utcnow()) - dt.timedelta(minutes=window_minutes), key=key)
    if used >= limit:
        return used
    fail(kind, key, remote_addr, now)
    return 0


def fail(kind: str, key: str, remote_addr: str, now: Optional[dt.datetime] = None) -> None:
    """Record one failure."""
    db.session.add(LoginFailure(kind=kind, username=key[:KEY_LENGTH], remote_addr=remote_addr[:ADDR_LENGTH],
                                at=now or utcnow()))
    db.session.flush()


def clear(kind: str, key: str, remote_addr: Optional[str] = None) -> None:
    """Forget a key's failures after a success (only those from this address, if given)."""
    stmt = db.delete(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.username == key[:KEY_LENGTH])
    if remote_addr is not None:
        stmt = stmt.where(LoginFailure.remote_addr == remote_addr[:ADDR_LENGTH])
    db.session.execute(stmt)


def purge(*, now: Optional[dt.datetime] = None, keep_hours: int = KEEP_HOURS) -> tuple[int, int]:
    """Delete failures older than ``keep_hours`` and the key rows no remaining failure names.

    Returns (failures, keys) deleted. Every throttle window is minutes long, so a failure
    older than a day limits nobody; a key row is only something to lock, and ``lock``
    makes it again on the key's next use. Recent failures and their keys stay, so a
    throttle in force stays in force.
    """
    cutoff = (now or utcnow()) - dt.timedelta(hours=keep_hours)
    failures_deleted = db.session.execute(
        db.delete(LoginFailure).where(LoginFailure.at < cutoff), execution_options={"synchronize_session": False}
    ).rowcount
    named = db.select(LoginFailure.id).where(
        LoginFailure.kind == ThrottleKey.kind,
        or_(LoginFailure.username == db.func.substr(ThrottleKey.key, 1, KEY_LENGTH),
            (literal("@") + LoginFailure.remote_addr) == ThrottleKey.key),
    )
    keys_deleted = db.session.execute(
        db.delete(ThrottleKey).where(~exists(named)), execution_options={"synchronize_session": False}
    ).rowcount
    return failures_deleted, keys_deleted
