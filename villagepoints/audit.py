"""The audit log: every write records who, when, what, and the before and after."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional

from .extensions import db
from .models import AuditEntry, User, utcnow

# Written as the actor of changes made from the command line.
CLI_ACTOR = "命令行"


def _iso(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# One encoder for every state: json.dumps with options builds a new encoder per call,
# and an import logs one state per household or entry.
_STATE_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_iso)


def actor_name(actor: Optional[User]) -> str:
    """Name who acted as people know them: the display name (示范录入员), else the login name; 命令行 for the CLI.

    The name is copied into the records it signs (录入人, 审核人, 经手人, "由…发布", the audit log),
    so a later rename never rewrites history.
    """
    return actor.label if actor is not None else CLI_ACTOR


def dump_state(state: Optional[dict]) -> Optional[str]:
    """Return a before/after state as the JSON text the log stores: keys sorted, dates as ISO text."""
    if state is None:
        return None
    return _STATE_ENCODER.encode(state)


def record(
    actor: Optional[User],
    action: str,
    *,
    village_id: Optional[int] = None,
    household_id: Optional[int] = None,
    target: str = "",
    summary: str = "",
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    actor_label: Optional[str] = None,
) -> AuditEntry:
    """Add an audit entry to the session; the caller's transaction commits it with the change.

    ``actor_label`` names an actor who is no user (a household writing from its card page).
    """
    values = row(
        actor, action, village_id=village_id, household_id=household_id,
        target=target, summary=summary, before=before, after=after,
    )
    if actor_label:
        values["actor"] = actor_label[:50]
    entry = AuditEntry(**values)
    db.session.add(entry)
    return entry


def row(
    actor: Optional[User],
    action: str,
    *,
    village_id: Optional[int] = None,
    household_id: Optional[int] = None,
    target: str = "",
    summary: str = "",
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    at: Optional[dt.datetime] = None,
) -> dict:
    """Return an audit entry as the plain column values record() stores, for a bulk insert."""
    return {
        "at": at or utcnow(),
        "user_id": actor.id if actor is not None else None,
        "actor": actor_name(actor),
        "village_id": village_id,
        "household_id": household_id,
        "action": action,
        "target": target,
        "summary": summary,
        "before": dump_state(before),
        "after": dump_state(after),
    }


class RowBuilder:
    """Build many audit rows of one actor, action and time for a bulk insert, each as row() builds it.

    The actor's columns are worked out once and each state is encoded in one pass
    (dates as ISO text, keys sorted), the JSON text dump_state gives: an import writes
    one such row per household or entry.
    """

    def __init__(self, actor: Optional[User], action: str, *, village_id: Optional[int], at: dt.datetime) -> None:
        self.base = {
            "at": at, "user_id": actor.id if actor is not None else None, "actor": actor_name(actor),
            "village_id": village_id, "action": action, "summary": "", "before": None,
        }

    def __call__(self, household_id: Optional[int], target: str, after: dict) -> dict:
        """Return the row logging ``after`` for one household (``target`` as record() takes it)."""
        return {**self.base, "household_id": household_id, "target": target, "after": dump_state(after)}


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep only the keys whose values differ, so the log shows what really changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def decode(text: Optional[str]) -> dict:
    """Parse a stored before/after state for display."""
    return json.loads(text) if text else {}
