"""Claims on confirmed uploads: each upload is imported exactly once, however often it is confirmed.

A claim row, unique per upload token, is inserted at the start of the import's own
transaction. A second confirm of the same upload either finds the committed claim or
waits on the unique token (PostgreSQL) until the first import commits, then fails to
claim it; either way it is told the first import's outcome and writes nothing. If the
first import is refused or fails, its claim rolls back with it and the upload can be
confirmed again.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import ImportClaim, User, Village, utcnow

# How long a claim is kept. Its upload is deleted when the import commits (and an abandoned one
# after a day), so a later confirm of the token finds no file anyway; the claim only lets it
# show the earlier import's outcome instead of "file gone".
KEEP_DAYS = 90


class AlreadyImported(Exception):
    """The upload was imported already; ``outcome`` is what that import reported."""

    def __init__(self, outcome: dict) -> None:
        super().__init__("这个文件已经导入过，没有重复导入")
        self.outcome = outcome


class ClaimedElsewhere(Exception):
    """The token belongs to another village's or another kind of import."""


def find(token: str) -> Optional[ImportClaim]:
    """Return the committed claim on an upload token, if any."""
    return db.session.execute(db.select(ImportClaim).where(ImportClaim.token == token)).scalar_one_or_none()


def claim(actor: Optional[User], village: Village, kind: str, token: str) -> ImportClaim:
    """Claim an upload for the caller's transaction (flush, never commit); call it before reading the file.

    Raises AlreadyImported with the earlier outcome when another import holds the token.
    Set the returned claim's ``outcome`` before committing, so repeats can show it.
    """
    _refuse_if_claimed(village, kind, token)
    made = ImportClaim(token=token, village_id=village.id, kind=kind, created_by_id=actor.id if actor else None)
    try:
        # A savepoint: losing the race leaves the caller's transaction usable for the look-up
        # (the claim, added inside it, leaves the session with it).
        with db.session.begin_nested():
            db.session.add(made)
            db.session.flush()
    except IntegrityError:
        _refuse_if_claimed(village, kind, token)
        raise
    return made


def _refuse_if_claimed(village: Village, kind: str, token: str) -> None:
    found = find(token)
    if found is None:
        return
    if found.village_id != village.id or found.kind != kind:
        raise ClaimedElsewhere(token)
    raise AlreadyImported(dict(found.outcome or {}))


def purge(*, now: Optional[dt.datetime] = None, keep_days: int = KEEP_DAYS) -> int:
    """Delete claims made more than ``keep_days`` ago; return how many.

    A confirm repeated within ``keep_days`` is still told the upload was imported.
    """
    cutoff = (now or utcnow()) - dt.timedelta(days=keep_days)
    return db.session.execute(
        db.delete(ImportClaim).where(ImportClaim.created_at < cutoff), execution_options={"synchronize_session": False}
    ).rowcount
