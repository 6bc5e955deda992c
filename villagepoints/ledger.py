"""The points ledger: entering, reviewing, withdrawing and reversing entries.

Every number obeys DESIGN §3: an entry keeps its own signed points and a copy of
the rule's code and title; only approved entries count; an approved entry is never
edited or deleted, only cancelled by a reversal on its own date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from sqlalchemy import Select
from sqlalchemy.orm import aliased

from . import audit
from .extensions import db
from .models import (
    AidSuspension, Entry, Honour, Household, PointsExpiry, QuarterState, Redemption, Rule, User, Village, utcnow,
)
from .quarters import Quarter

LIVE_STATUSES = ("pending", "approved")


class LedgerError(ValueError):
    """An entry or review refused by a rule of the scheme; the message says why in Chinese."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class HouseholdInactive(LedgerError):
    pass


class RuleInactive(LedgerError):
    pass


class PointsOutOfRange(LedgerError):
    pass


class CapExceeded(LedgerError):
    pass


class FutureDate(LedgerError):
    pass


class QuarterLocked(LedgerError):
    pass


class EvidenceRequired(LedgerError):
    pass


class SelfReview(LedgerError):
    pass


class NotPending(LedgerError):
    pass


class NotAllowed(LedgerError):
    pass


class ReversalRefused(LedgerError):
    pass


class EntryChanged(LedgerError):
    """An entry changed after the reviewer's page showed it; the reviewer must look again."""


class DuplicateSubmission(LedgerError):
    """The form's token was used already: ``entries`` are what that submission made."""

    def __init__(self, entries: list) -> None:
        super().__init__(f"这次记分已经保存过（{len(entries)} 条），没有重复记分")
        self.entries = entries


def check_token(token: Optional[str]) -> None:
    """Refuse a token that already made entries; call it after taking the households' locks."""
    if not token:
        return
    made = list(db.session.execute(
        db.select(Entry).where(Entry.submit_token == token).order_by(Entry.id)
    ).scalars())
    if made:
        raise DuplicateSubmission(made)


def household_label(household: Household) -> str:
    """Name a household in messages and the audit log: code and head's name."""
    return f"{household.code} {household.head_name}"


def _target(entry: Entry) -> str:
    return f"积分记录 #{entry.id} {household_label(entry.household)}"


def entry_state(entry: Entry) -> dict:
    """Return an entry's fields for the audit log."""
    return {
        "household": entry.household.code,
        "rule": entry.rule_code,
        "points": entry.points,
        "entry_date": entry.entry_date,
        "note": entry.note,
        "status": entry.status,
        "reverses": entry.reverses_id,
    }


def quarter_status(village: Village, quarter: Quarter) -> str:
    """Return open, published or closed for a village's quarter."""
    status = db.session.execute(
        db.select(QuarterState.status).filter_by(village_id=village.id, quarter=str(quarter))
    ).scalar_one_or_none()
    return status or "open"


def check_quarter_open(village: Village, day: dt.date) -> None:
    """Refuse a date in a published or closed quarter, naming the quarter."""
    quarter = Quarter.of(day)
    status = quarter_status(village, quarter)
    if status == "published":
        raise QuarterLocked(f"{quarter.label}已公示，不能再录入或更改该季度的积分", "entry_date")
    if status == "closed":
        raise QuarterLocked(f"{quarter.label}已结束，不能再录入或更改该季度的积分", "entry_date")


def lock_rows(model, ids: Iterable[int], *, reload: bool = False) -> list:
    """Take rows' locks (PostgreSQL) in id order, so that two actions cannot deadlock; return them.

    Every state-changing action locks before it checks. On SQLite every write transaction
    already holds the database write lock (BEGIN IMMEDIATE). ``reload`` also refreshes the
    loaded objects from the locked rows (the ORM refreshes an object only as its row is
    read), so a household deactivated or an entry approved by another user a moment ago
    is seen as it now is. Without ``reload`` the ids are returned.
    """
    ids = sorted(set(ids))
    if not ids:
        return []
    stmt = db.select(model if reload else model.id).where(model.id.in_(ids))
    stmt = stmt.order_by(model.id).with_for_update()
    if reload:
        stmt = stmt.execution_options(populate_existing=True)
    return list(db.session.execute(stmt).scalars())


def lock_households(household_ids: Iterable[int], *, reload: bool = False) -> None:
    """Take the households' row locks, so that cap checks and balances see a settled state; see lock_rows."""
    lock_rows(Household, household_ids, reload=reload)


def lock_household(household: Household, *, reload: bool = False) -> None:
    """Take one household's row lock; see lock_rows."""
    lock_households([household.id], reload=reload)


def lock_entries(entries: Iterable[Entry]) -> list[Entry]:
    """Lock entries in id order and reload them, before any check of their status; see lock_rows.

    Entries are locked before their households wherever both are taken.
    """
    entries = list(entries)
    lock_rows(Entry, [e.id for e in entries], reload=True)
    return entries


def rule_net_in_quarter(household_id: int, rule_id: int, quarter: Quarter, exclude_id: Optional[int] = None) -> int:
    """Return the net points of live (pending or approved) entries from one rule in one quarter."""
    stmt = db.select(db.func.coalesce(db.func.sum(Entry.points), 0)).where(
        Entry.household_id == household_id,
        Entry.rule_id == rule_id,
        Entry.status.in_(LIVE_STATUSES),
        Entry.entry_date.between(quarter.first_day, quarter.last_day),
    )
    if exclude_id is not None:
        stmt = stmt.where(Entry.id != exclude_id)
    return int(db.session.execute(stmt).scalar_one())


def check_entry(
    village: Village,
    household: Household,
    rule: Rule,
    day: dt.date,
    points: int,
    *,
    today: dt.date,
    evidence: bool,
    exclude_id: Optional[int] = None,
    net_before: Optional[int] = None,
    check_quarter: bool = True,
) -> None:
    """Refuse an entry that breaks a rule of the scheme, naming the household and rule.

    ``net_before`` is the rule's live net for the household in the quarter when the
    caller already knows it (a batch counts its own earlier rows); otherwise it is queried.
    """
    name = household_label(household)
    if household.village_id != village.id or rule.village_id != village.id:
        raise NotAllowed("农户或细则不属于本村")
    if not household.is_active:
        raise HouseholdInactive(f"农户 {name} 已注销，不能再记分", "household")
    if not rule.active:
        raise RuleInactive(f"细则 {rule.code}“{rule.title}”已停用，不能再使用", "rule")
    if day is None:
        raise LedgerError("请填写日期", "entry_date")
    if day > today:
        raise FutureDate(f"日期 {day} 在今天之后，不能提前记分", "entry_date")
    if household.joined_on and day < household.joined_on:
        raise LedgerError(f"日期 {day} 早于农户 {name} 的登记日期 {household.joined_on}", "entry_date")
    if check_quarter:
        check_quarter_open(village, day)
    if rule.is_plus and points <= 0:
        raise PointsOutOfRange(f"细则 {rule.code} 是加分项，分值应为正数（给 {name}）", "points")
    if not rule.is_plus and points >= 0:
        raise PointsOutOfRange(f"细则 {rule.code} 是扣分项，分值应为负数，例如 {rule.default_points}（给 {name}）", "points")
    if not rule.min_points <= points <= rule.max_points:
        raise PointsOutOfRange(
            f"细则 {rule.code} 的分值应在 {rule.min_points} 到 {rule.max_points} 之间，这里是 {points}（给 {name}）",
            "points",
        )
    if rule.requires_evidence and not evidence:
        raise EvidenceRequired(f"细则 {rule.code}“{rule.title}”需要上传照片作为依据（给 {name}）", "photos")
    if rule.quarter_cap is not None:
        quarter = Quarter.of(day)
        net = net_before
        if net is None:
            net = rule_net_in_quarter(household.id, rule.id, quarter, exclude_id)
        if abs(net + points) > rule.quarter_cap:
            raise CapExceeded(
                f"农户 {name} 在{quarter.label}已有细则 {rule.code} 的积分 {net:+d}，"
                f"再记 {points:+d} 将超过每季度上限 {rule.quarter_cap} 分",
                "points",
            )


def initial_status(village: Village, approve: bool) -> str:
    """Return the status a new entry starts in: approved with --approve or where no review is required, else pending."""
    return "approved" if (approve or not village.require_review) else "pending"


def _new_entry(
    actor: Optional[User], village: Village, household: Household, rule: Rule, day: dt.date,
    points: int, note: str, source: str, status: str, reviewer_name: str,
) -> Entry:
    now = utcnow()
    entry = Entry(
        village_id=village.id, household_id=household.id, household=household, rule_id=rule.id, rule=rule,
        rule_code=rule.code, rule_title=rule.title, kind=rule.kind, points=points, entry_date=day,
        note=(note or "").strip(), status=status, source=source,
        created_by_id=actor.id if actor else None,
        created_by_name=audit.actor_name(actor),
        created_at=now,
    )
    if status == "approved":
        entry.reviewed_by_name = reviewer_name
        entry.reviewed_at = now
    db.session.add(entry)
    return entry


def reviewer_name(village: Village, approve: bool) -> str:
    """Return the reviewer's name an entry approved at creation carries (命令行, or 本村无需审核)."""
    if approve:
        return audit.CLI_ACTOR
    return "（本村无需审核）" if not village.require_review else ""


def make_entry(
    actor: Optional[User],
    village: Village,
    household: Household,
    rule: Rule,
    day: dt.date,
    points: Optional[int] = None,
    note: str = "",
    *,
    source: str = "web",
    evidence: bool = False,
    approve: bool = False,
    today: Optional[dt.date] = None,
    token: Optional[str] = None,
    resubmits: Optional[Entry] = None,
) -> Entry:
    """Record one award or deduction; pending until reviewed where the village requires review.

    ``points`` defaults to the rule's default. ``evidence`` says whether photos come
    with the entry. ``approve`` (the CLI's --approve) records it as approved at once.
    ``resubmits`` is the clerk's own rejected entry this one corrects.
    """
    points = rule.default_points if points is None else int(points)
    lock_households([household.id])
    check_token(token)
    if resubmits is not None:
        # Locked after the household (the order every entry path takes), so that two taps on
        # 改正后重新提交 cannot both pass the "not yet resubmitted" check.
        db.session.execute(
            db.select(Entry).where(Entry.id == resubmits.id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        check_resubmittable(actor, resubmits)
    check_entry(village, household, rule, day, points, today=today or dt.date.today(), evidence=evidence)
    entry = record_checked(
        actor, village, [(household, rule, day, points, note)], source=source, approve=approve, token=token
    )[0]
    if resubmits is not None:
        entry.resubmits_id = resubmits.id
    return entry


class NotResubmittable(LedgerError):
    """A rejected entry that cannot be corrected by this clerk (not theirs, not rejected, already resubmitted)."""


def check_resubmittable(actor: Optional[User], entry: Entry) -> None:
    """Refuse to resubmit an entry that is not the actor's own, not rejected, or already resubmitted."""
    if entry.status != "rejected":
        raise NotResubmittable(f"积分记录 #{entry.id} 不是被驳回的记录，不用重新提交")
    if actor is None or entry.created_by_id != actor.id:
        raise NotResubmittable(f"积分记录 #{entry.id} 不是您录入的，只有录入人可以改正后重新提交")
    again = db.session.execute(
        db.select(Entry.id).where(Entry.resubmits_id == entry.id, Entry.status != "withdrawn").limit(1)
    ).scalar_one_or_none()
    if again is not None:
        raise NotResubmittable(f"积分记录 #{entry.id} 已经重新提交过（积分记录 #{again}）")
    if entry.dismissed_at is not None:
        raise NotResubmittable(f"积分记录 #{entry.id} 已标记为不再提交")


def dismiss_rejected(actor: User, entry: Entry) -> None:
    """The clerk will not correct their rejected entry (不再提交): it leaves their "被驳回" count.

    The entry row is locked, after its household (the order every entry path takes, and the
    audit row names the household), as a resubmission locks it, so that 不再提交 and
    改正后重新提交 at once cannot both pass the check.
    """
    lock_households([entry.household_id])
    db.session.execute(
        db.select(Entry).where(Entry.id == entry.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    check_resubmittable(actor, entry)
    entry.dismissed_at = utcnow()
    audit.record(actor, "entry.dismiss", village_id=entry.village_id, household_id=entry.household_id,
                 target=_target(entry), summary="驳回后不再提交")


def rejected_to_correct(actor: User, village: Village) -> Select:
    """Select the actor's rejected entries in the village not yet resubmitted, newest first.

    A resubmission that was later withdrawn does not count: the rejection is still open.
    """
    again = aliased(Entry)
    return (
        db.select(Entry)
        .where(
            Entry.village_id == village.id, Entry.created_by_id == actor.id, Entry.status == "rejected",
            Entry.dismissed_at.is_(None),
            ~db.select(again.id).where(again.resubmits_id == Entry.id, again.status != "withdrawn").exists(),
        )
        .order_by(Entry.reviewed_at.desc(), Entry.id.desc())
    )


def rejected_count(actor: User, village: Village) -> int:
    """Count the actor's rejected entries in the village still waiting to be corrected."""
    stmt = rejected_to_correct(actor, village).order_by(None)
    return int(db.session.execute(db.select(db.func.count()).select_from(stmt.subquery())).scalar_one())


def record_checked(
    actor: Optional[User],
    village: Village,
    items: Sequence[tuple[Household, Rule, dt.date, int, str]],
    *,
    source: str,
    approve: bool = False,
    audit_each: bool = True,
    token: Optional[str] = None,
) -> list[Entry]:
    """Add entries that have passed check_entry, in one flush, each logged as entry.create.

    The caller holds the households' locks (lock_households) from before its checks.
    ``audit_each=False`` is for a caller that logs the batch as one entry instead.
    """
    status = initial_status(village, approve)
    reviewer = reviewer_name(village, approve)
    made = [
        _new_entry(actor, village, household, rule, day, points, note, source, status, reviewer)
        for household, rule, day, points, note in items
    ]
    for entry in made:
        entry.submit_token = token
    db.session.flush()
    if audit_each:
        for entry in made:
            audit.record(
                actor, "entry.create", village_id=village.id, household_id=entry.household_id,
                target=_target(entry), after=entry_state(entry),
            )
    return made


def bulk_entry(
    actor: Optional[User],
    village: Village,
    households: Sequence[Household],
    rule: Rule,
    day: dt.date,
    points: Optional[int] = None,
    note: str = "",
    *,
    evidence: bool = False,
    today: Optional[dt.date] = None,
    token: Optional[str] = None,
) -> list[Entry]:
    """Record the same rule and date for many households at once: all of them or none.

    Caps are checked with one grouped query, so 500 households cost a handful of statements.
    """
    if not households:
        raise LedgerError("请至少选择一户", "households")
    if len({h.id for h in households}) != len(households):
        raise LedgerError("同一户被选了两次", "households")
    points = rule.default_points if points is None else int(points)
    today = today or dt.date.today()
    lock_households([h.id for h in households])
    check_token(token)
    nets: dict[int, int] = {}
    if rule.quarter_cap is not None and day is not None:
        quarter = Quarter.of(day)
        rows = db.session.execute(
            db.select(Entry.household_id, db.func.sum(Entry.points))
            .where(
                Entry.household_id.in_([h.id for h in households]),
                Entry.rule_id == rule.id,
                Entry.status.in_(LIVE_STATUSES),
                Entry.entry_date.between(quarter.first_day, quarter.last_day),
            )
            .group_by(Entry.household_id)
        )
        nets = {hid: int(total) for hid, total in rows}
    if day is not None:
        check_quarter_open(village, day)
    for household in households:
        check_entry(
            village, household, rule, day, points, today=today, evidence=evidence,
            net_before=nets.get(household.id, 0), check_quarter=False,
        )
    made = record_checked(
        actor, village, [(h, rule, day, points, note) for h in households], source="bulk", audit_each=False,
        token=token,
    )
    audit.record(
        actor, "entry.bulk", village_id=village.id, target=f"细则 {rule.code} {rule.title}",
        summary=f"批量记分 {len(made)} 户，每户 {points:+d} 分，日期 {day}",
        after={"households": [h.code for h in households], "rule": rule.code, "points": points, "entry_date": day},
    )
    return made


def _own_pending(actor: Optional[User], entry: Entry) -> None:
    if entry.status != "pending":
        raise NotPending(f"积分记录 #{entry.id} 已{_status_word(entry)}，不能再修改")
    if actor is None or entry.created_by_id != actor.id:
        raise NotAllowed("只有录入人本人可以修改或撤回待审核的记录")


def _status_word(entry: Entry) -> str:
    return {"approved": "通过审核", "rejected": "被驳回", "withdrawn": "撤回", "pending": "在待审核"}[entry.status]


def edit_pending(
    actor: User, entry: Entry, rule: Rule, day: dt.date, points: int, note: str,
    *, evidence: bool = False, today: Optional[dt.date] = None,
) -> None:
    """Let the author change a pending entry; the same checks as a new entry apply."""
    lock_entries([entry])
    _own_pending(actor, entry)
    village = db.session.get(Village, entry.village_id)
    before = entry_state(entry)
    check_quarter_open(village, entry.entry_date)
    lock_household(entry.household)
    check_entry(
        village, entry.household, rule, day, int(points), today=today or dt.date.today(),
        evidence=evidence or bool(entry.photos), exclude_id=entry.id,
    )
    entry.rule_id, entry.rule = rule.id, rule
    entry.rule_code, entry.rule_title, entry.kind = rule.code, rule.title, rule.kind
    entry.entry_date, entry.points, entry.note = day, int(points), (note or "").strip()
    old, new = audit.changed(before, entry_state(entry))
    if new:
        audit.record(actor, "entry.update", village_id=entry.village_id, household_id=entry.household_id, target=_target(entry), before=old, after=new)


def withdraw(actor: User, entry: Entry) -> None:
    """Let the author take back a pending entry; it stays in the ledger as withdrawn."""
    lock_entries([entry])
    _own_pending(actor, entry)
    entry.status = "withdrawn"
    audit.record(actor, "entry.withdraw", village_id=entry.village_id, household_id=entry.household_id, target=_target(entry),
                 before={"status": "pending"}, after={"status": "withdrawn"})


def _review(
    actor: Optional[User], entries: Iterable[Entry], status: str, note: str, versions: Optional[Mapping[int, int]],
) -> list[Entry]:
    entries = sorted(entries, key=lambda e: e.id)
    if not entries:
        raise LedgerError("请至少选择一条记录")
    lock_entries(entries)
    for entry in entries:
        if entry.status != "pending":
            raise NotPending(f"积分记录 #{entry.id}（{household_label(entry.household)}）已{_status_word(entry)}")
        if actor is not None and entry.created_by_id == actor.id:
            raise SelfReview(f"积分记录 #{entry.id}（{household_label(entry.household)}）是您本人录入的，不能自己审核")
        if versions is not None and versions.get(entry.id) != entry.version:
            raise EntryChanged(
                f"积分记录 #{entry.id}（{household_label(entry.household)}）在您打开页面后已被修改，"
                "请重新查看后再审核"
            )
        village = db.session.get(Village, entry.village_id)
        check_quarter_open(village, entry.entry_date)
    if status == "approved":
        # Approving adds to the households' quarter sums (quarter_points): their rows are taken
        # in household order behind the households' locks, as every other approved write takes
        # them, so two reviewers approving entries of the same households cannot deadlock.
        lock_households({e.household_id for e in entries})
    now = utcnow()
    for entry in entries:
        entry.status = status
        entry.reviewed_by_id = actor.id if actor else None
        entry.reviewed_by_name = audit.actor_name(actor)
        entry.reviewed_at = now
        entry.review_note = (note or "").strip()
    action = f"entry.{'approve' if status == 'approved' else 'reject'}"
    noted = {"review_note": (note or "").strip()} if (note or "").strip() else {}
    if len(entries) == 1:
        entry = entries[0]
        audit.record(
            actor, action, village_id=entry.village_id, household_id=entry.household_id, target=_target(entry),
            before={"status": "pending"}, after={"status": status, **noted},
        )
    else:
        # One action, one row: the entries it covered are listed inside it.
        audit.record(
            actor, action, village_id=entries[0].village_id, target=f"{len(entries)} 条积分记录",
            summary=f"{'通过' if status == 'approved' else '驳回'} {len(entries)} 条",
            before={"status": "pending"},
            after={"status": status, **noted, "entries": [_target(e) for e in entries]},
        )
    db.session.flush()
    return entries


def approve(
    actor: Optional[User], entries: Iterable[Entry], versions: Optional[Mapping[int, int]] = None
) -> list[Entry]:
    """Approve pending entries; nobody approves their own.

    The entries are locked and reloaded first, so of two reviewers at once one approves and
    the other is told it is done. ``versions`` ({entry id: version the page showed}, as the
    review form sends them) refuses an entry changed since the reviewer's page was opened.
    """
    return _review(actor, entries, "approved", "", versions)


def reject(
    actor: Optional[User], entries: Iterable[Entry], reason: str, versions: Optional[Mapping[int, int]] = None
) -> list[Entry]:
    """Reject pending entries with a reason; nobody rejects their own; see approve."""
    if not (reason or "").strip():
        raise LedgerError("驳回时请写明理由", "reason")
    return _review(actor, entries, "rejected", reason, versions)


def reversal_of(entry: Entry) -> Optional[Entry]:
    """Return the live (pending or approved) reversal of an entry, if any."""
    return db.session.execute(
        db.select(Entry).where(Entry.reverses_id == entry.id, Entry.status.in_(LIVE_STATUSES))
    ).scalars().first()


def reverse(actor: Optional[User], entry: Entry, reason: str) -> Entry:
    """Cancel an approved entry exactly with a reversal (冲正) on the original's date."""
    if not (reason or "").strip():
        raise ReversalRefused("冲正时请写明理由", "reason")
    lock_entries([entry])
    if entry.is_reversal:
        raise ReversalRefused(f"积分记录 #{entry.id} 本身是冲正记录，不能再冲正")
    if entry.status != "approved":
        raise ReversalRefused(f"积分记录 #{entry.id} 尚未通过审核，不需要冲正；待审核的记录可由录入人撤回")
    lock_household(entry.household)
    existing = reversal_of(entry)
    if existing is not None:
        raise ReversalRefused(f"积分记录 #{entry.id} 已有冲正记录 #{existing.id}，不能重复冲正")
    village = db.session.get(Village, entry.village_id)
    check_quarter_open(village, entry.entry_date)
    now = utcnow()
    status = initial_status(village, False)
    reversal = Entry(
        village_id=entry.village_id, household_id=entry.household_id, household=entry.household,
        rule_id=entry.rule_id, rule_code=entry.rule_code, rule_title=entry.rule_title, kind=entry.kind,
        points=-entry.points, entry_date=entry.entry_date, note=f"冲正：{reason.strip()}",
        status=status, source="reversal", reverses_id=entry.id, reverses=entry,
        created_by_id=actor.id if actor else None,
        created_by_name=audit.actor_name(actor), created_at=now,
    )
    if status == "approved":
        reversal.reviewed_by_name = reviewer_name(village, False)
        reversal.reviewed_at = now
    db.session.add(reversal)
    db.session.flush()
    audit.record(
        actor, "entry.reverse", village_id=entry.village_id, household_id=entry.household_id, target=_target(entry),
        summary=reason.strip(), after=entry_state(reversal),
    )
    return reversal


@dataclass
class HouseholdScores:
    quarter: Quarter
    quarter_score: int
    year_score: int
    balance: int
    base: int


def approved_sum_query(household_id: int, first: Optional[dt.date] = None, last: Optional[dt.date] = None):
    """Select the sum of a household's approved entries, optionally between two dates (inclusive)."""
    stmt = db.select(db.func.coalesce(db.func.sum(Entry.points), 0)).where(
        Entry.household_id == household_id, Entry.status == "approved"
    )
    if first is not None:
        stmt = stmt.where(Entry.entry_date >= first)
    if last is not None:
        stmt = stmt.where(Entry.entry_date <= last)
    return stmt


def approved_sum(household_id: int, first: Optional[dt.date] = None, last: Optional[dt.date] = None) -> int:
    """Sum a household's approved entries, optionally between two dates (inclusive)."""
    return int(db.session.execute(approved_sum_query(household_id, first, last)).scalar_one())


def balance(household_id: int) -> int:
    """Return the points a household can still spend (DESIGN §3), in one statement.

    Balance = every approved entry ever − points of redemptions not voided − points
    written off as expired; each term is a sum of records, none is stored.
    """
    earned = approved_sum_query(household_id)
    spent = db.select(db.func.coalesce(db.func.sum(Redemption.total_points), 0)).where(
        Redemption.household_id == household_id, Redemption.voided_at.is_(None)
    )
    expired = db.select(db.func.coalesce(db.func.sum(PointsExpiry.points), 0)).where(
        PointsExpiry.household_id == household_id
    )
    stmt = db.select(earned.scalar_subquery() - spent.scalar_subquery() - expired.scalar_subquery())
    return int(db.session.execute(stmt).scalar_one())


def scores_for(household: Household, on: Optional[dt.date] = None) -> HouseholdScores:
    """Return a household's quarter and year score and its spendable balance.

    Quarter score = base + approved entries dated in the quarter; the year score the
    same over the year. Redeeming never changes a score. Balance = all approved entries
    ever − redemptions not voided − expired points (the base is not spendable).
    """
    on = on or dt.date.today()
    quarter = Quarter.of(on)
    base = household.village.base_score
    return HouseholdScores(
        quarter=quarter,
        quarter_score=base + approved_sum(household.id, quarter.first_day, quarter.last_day),
        year_score=base + approved_sum(household.id, dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)),
        balance=balance(household.id),
        base=base,
    )


def add_honour(
    actor: Optional[User], household: Household, title: str, awarded_on: dt.date, granted_by: str = "", note: str = ""
) -> Honour:
    """Record a title a household received (荣誉)."""
    if not (title or "").strip():
        raise LedgerError("请填写荣誉名称", "title")
    if awarded_on is None:
        raise LedgerError("请填写获评日期", "awarded_on")
    honour = Honour(
        village_id=household.village_id, household_id=household.id, household=household,
        title=title.strip(), awarded_on=awarded_on, granted_by=(granted_by or "").strip(),
        note=(note or "").strip(), created_by_id=actor.id if actor else None,
    )
    db.session.add(honour)
    db.session.flush()
    audit.record(
        actor, "honour.create", village_id=household.village_id, household_id=household.id, target=f"农户 {household_label(household)}",
        after={"title": honour.title, "awarded_on": awarded_on, "granted_by": honour.granted_by},
    )
    return honour


def add_aid_suspension(
    actor: Optional[User], household: Household, starts_on: dt.date, ends_on: dt.date, reason: str
) -> AidSuspension:
    """Record a period in which a household's aid is suspended (歇帮)."""
    if starts_on is None or ends_on is None:
        raise LedgerError("请填写歇帮的起止日期", "starts_on")
    if ends_on < starts_on:
        raise LedgerError("歇帮结束日期不能早于开始日期", "ends_on")
    if not (reason or "").strip():
        raise LedgerError("请写明歇帮原因", "reason")
    suspension = AidSuspension(
        village_id=household.village_id, household_id=household.id, household=household,
        starts_on=starts_on, ends_on=ends_on, reason=reason.strip(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(suspension)
    db.session.flush()
    audit.record(
        actor, "aid_suspension.create", village_id=household.village_id, household_id=household.id,
        target=f"农户 {household_label(household)}",
        after={"starts_on": starts_on, "ends_on": ends_on, "reason": suspension.reason},
    )
    return suspension
