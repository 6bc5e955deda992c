"""Applications for points (积分申请): a household asks from its card page, a clerk checks.

An application is an entry with status ``applied`` (申请待核实) and source
``application``: it counts nowhere. A clerk either accepts it, which makes it an
ordinary pending entry in the clerk's name (then the usual review, so the clerk who
vouched for it cannot approve it too), or declines it with a reason the household
sees on its page. The same checks as any entry apply when it is made and again
when it is accepted (ledger.check_entry: caps, quarter locks, dates).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional, Sequence

from . import audit, evidence, ledger
from .extensions import db
from .ledger import LedgerError, check_entry, household_label, lock_entries, lock_households
from .models import Entry, Household, Rule, User, Village, utcnow
from .quarters import Quarter

# How many applications one household may make within a rolling 24 hours.
PER_DAY = 3
NOTE_MAX = 200
SOURCE = "application"


class ApplicationError(LedgerError):
    """An application refused by a rule; the message says why in Chinese."""


class TooManyApplications(ApplicationError):
    pass


class NotAnApplication(ApplicationError):
    pass


def applicant_label(household: Household) -> str:
    """Name the household as the author of its own application (audit log, entry)."""
    return f"{household.head_name}户（户码申请）"


def open_rules(village: Village) -> list[Rule]:
    """Return the village's active plus rules that households may apply for, in rulebook order."""
    return list(db.session.execute(
        db.select(Rule).where(
            Rule.village_id == village.id, Rule.active.is_(True), Rule.kind == "plus",
            Rule.open_to_applications.is_(True),
        ).order_by(Rule.sort_order, Rule.code)
    ).scalars())


def applications_in_last_day(household: Household, now: Optional[dt.datetime] = None) -> int:
    """Count the household's applications made in the 24 hours before now."""
    since = (now or utcnow()) - dt.timedelta(hours=24)
    return int(db.session.execute(
        db.select(db.func.count(Entry.id)).where(
            Entry.household_id == household.id, Entry.source == SOURCE, Entry.created_at >= since,
        )
    ).scalar_one())


def apply(
    household: Household,
    rule: Rule,
    day: dt.date,
    note: str,
    photos: Sequence[evidence.PhotoUpload] = (),
    *,
    storage_root: Path,
    today: Optional[dt.date] = None,
) -> Entry:
    """Record a household's application for a plus rule open to applications.

    At most PER_DAY in 24 hours per household, counted under the household's row lock
    so that two phones submitting at once cannot both pass the count.
    """
    today = today or dt.date.today()
    village = db.session.get(Village, household.village_id)
    note = (note or "").strip()
    if rule is None or rule.village_id != village.id or not rule.is_plus or not rule.open_to_applications:
        raise ApplicationError("请选择本村开放申请的加分项", "rule")
    if not note:
        raise ApplicationError("请简单写明做了什么（谁、在哪里、做了什么）", "note")
    if len(note) > NOTE_MAX:
        raise ApplicationError(f"说明不超过{NOTE_MAX}个字，这里有{len(note)}个字", "note")
    lock_households([household.id], reload=True)
    if applications_in_last_day(household) >= PER_DAY:
        raise TooManyApplications(f"每户24小时内最多申请{PER_DAY}次，请明天再来申请", "rule")
    checked = evidence.check_uploads(photos)
    check_entry(village, household, rule, day, rule.default_points, today=today, evidence=bool(checked))
    entry = Entry(
        village_id=village.id, household_id=household.id, household=household, rule_id=rule.id, rule=rule,
        rule_code=rule.code, rule_title=rule.title, kind=rule.kind, points=rule.default_points, entry_date=day,
        note=note, status="applied", source=SOURCE, created_by_name=applicant_label(household)[:50],
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    if checked:
        evidence.attach_photos(entry, [upload for upload, _ext, _type in checked], storage_root)
    audit.record(
        None, "application.create", village_id=village.id, household_id=household.id,
        target=f"积分申请 #{entry.id} {household_label(household)}", actor_label=applicant_label(household),
        after=ledger.entry_state(entry),
    )
    return entry


def _waiting_query(village: Village, quarter: Optional[Quarter]):
    stmt = db.select(Entry).where(Entry.village_id == village.id, Entry.status == "applied")
    if quarter is not None:
        stmt = stmt.where(Entry.entry_date.between(quarter.first_day, quarter.last_day))
    return stmt


def queue(village: Village, quarter: Optional[Quarter] = None) -> list[Entry]:
    """Return the village's applications waiting for a clerk (only those dated in ``quarter`` if given), oldest first."""
    return list(db.session.execute(_waiting_query(village, quarter).order_by(Entry.created_at, Entry.id)).scalars())


def waiting_in_quarter(village: Village, quarter: Quarter) -> int:
    """Count the applications dated in the quarter still waiting for a clerk.

    Once the quarter is published they can no longer be accepted (its entries are frozen),
    only declined; publishing warns with this count.
    """
    stmt = _waiting_query(village, quarter).with_only_columns(db.func.count(Entry.id))
    return int(db.session.execute(stmt).scalar_one())


def waiting_warning(quarter: Quarter, count: int) -> str:
    """Say in words what publishing costs the quarter's waiting applications, or nothing when none wait."""
    if not count:
        return ""
    return (f"{quarter.label}还有 {count} 条农户积分申请待核实（申请日期在本季度内）。"
            "公示后这些申请不能再转为积分记录，只能不通过")


def get_application(village: Village, entry_id: int) -> Optional[Entry]:
    """Return one of the village's applications (any status), or None."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.village_id != village.id or entry.source != SOURCE:
        return None
    return entry


def _waiting(entry: Entry) -> None:
    if entry.status != "applied":
        raise NotAnApplication(f"积分申请 #{entry.id} 已处理过（{'已转为记录' if entry.status != 'declined' else '未通过'}）")


def accept(
    actor: User, entry: Entry, points: Optional[int] = None, note: Optional[str] = None,
    *, today: Optional[dt.date] = None,
) -> Entry:
    """Turn a checked application into an entry in the clerk's name, pending review where required.

    Locks as the review actions do: the entry first (reloaded, so an application declined
    a moment ago is seen as declined), then its household for the cap checks.
    """
    lock_entries([entry])
    _waiting(entry)
    lock_households([entry.household_id], reload=True)
    village = db.session.get(Village, entry.village_id)
    rule = db.session.get(Rule, entry.rule_id)
    points = rule.default_points if points is None else int(points)
    check_entry(village, entry.household, rule, entry.entry_date, points, today=today or dt.date.today(),
                evidence=bool(entry.photos))
    entry.points = points
    if note is not None and note.strip():
        entry.note = note.strip()
    entry.status = "approved" if not village.require_review else "pending"
    entry.created_by_id = actor.id
    entry.created_by_name = audit.actor_name(actor)
    if entry.status == "approved":
        entry.reviewed_by_name = "（本村无需审核）"
        entry.reviewed_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "application.accept", village_id=entry.village_id, household_id=entry.household_id,
        target=f"积分申请 #{entry.id} {household_label(entry.household)}",
        before={"status": "applied"}, after={"status": entry.status, "points": points},
    )
    return entry


def decline(actor: User, entry: Entry, reason: str) -> Entry:
    """Decline an application with a reason the household reads on its page."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请写明不通过的理由，农户会在本户页面上看到", "reason")
    lock_entries([entry])  # entry first, then household: the order every action on entries keeps
    _waiting(entry)
    lock_households([entry.household_id])
    entry.status = "declined"
    entry.review_note = reason
    entry.reviewed_by_id = actor.id
    entry.reviewed_by_name = audit.actor_name(actor)
    entry.reviewed_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "application.decline", village_id=entry.village_id, household_id=entry.household_id,
        target=f"积分申请 #{entry.id} {household_label(entry.household)}", summary=reason,
        before={"status": "applied"}, after={"status": "declined", "review_note": reason},
    )
    return entry
