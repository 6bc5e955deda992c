"""Throttling of guessable secrets (passwords, a resident's ID digits) by recorded failures."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from .extensions import db
from .models import LoginFailure, utcnow


class Throttled(ValueError):
    """Too many recent failures for this key or address; the message says how long to wait."""


def check(
    kind: str, key: str, remote_addr: str, *, per_key: int, per_addr: int, window_minutes: int,
    now: Optional[dt.datetime] = None,
) -> None:
    """Refuse when the key or the address has failed too often within the window."""
    since = (now or utcnow()) - dt.timedelta(minutes=window_minutes)
    recent = db.select(db.func.count(LoginFailure.id)).where(LoginFailure.kind == kind, LoginFailure.at >= since)
    by_key = db.session.execute(recent.where(LoginFailure.username == key[:50])).scalar_one()
    by_addr = db.session.execute(recent.where(LoginFailure.remote_addr == remote_addr[:64])).scalar_one()
    if by_key >= per_key or by_addr >= per_addr:
        raise Throttled(f"尝试次数过多，请{window_minutes}分钟后再试")


def fail(kind: str, key: str, remote_addr: str, now: Optional[dt.datetime] = None) -> None:
    """Record one failure."""
    db.session.add(LoginFailure(kind=kind, username=key[:50], remote_addr=remote_addr[:64], at=now or utcnow()))


def clear(kind: str, key: str) -> None:
    """Forget a key's failures after a success."""
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.username == key[:50]))
