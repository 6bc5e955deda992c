"""Publishing a quarter (公示): frozen snapshots, versions, objections, reopening, closing.

DESIGN §5: open → published (snapshot frozen, notice period, objections) → closed.
Reopening keeps the old snapshot as superseded; publishing again makes the next version.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Optional

from . import applications, audit
from .extensions import db
from .lists import quarter_lists
from .models import Entry, Household, Objection, Publication, QuarterState, User, Village, utcnow
from .quarters import Quarter
from .tally import group_summaries, quarter_tally


class PublicationError(ValueError):
    """A publication step refused by the quarter's state; the message says why in Chinese."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def quarter_state(village: Village, quarter: Quarter, *, create: bool = False) -> Optional[QuarterState]:
    """Return the village's state row for a quarter (made on demand when ``create``)."""
    state = db.session.execute(
        db.select(QuarterState).filter_by(village_id=village.id, quarter=str(quarter)).with_for_update()
    ).scalar_one_or_none()
    if state is None and create:
        state = QuarterState(village_id=village.id, quarter=str(quarter), status="open", version=0)
        db.session.add(state)
        db.session.flush()
    return state


def current_publication(village: Village, quarter: Quarter) -> Optional[Publication]:
    """Return the quarter's publication in force (not superseded), if any."""
    return db.session.execute(
        db.select(Publication).filter_by(village_id=village.id, quarter=str(quarter), status="current")
    ).scalar_one_or_none()


def latest_publication(village: Village) -> Optional[Publication]:
    """Return the village's most recent publication in force, for the public board."""
    return db.session.execute(
        db.select(Publication)
        .filter_by(village_id=village.id, status="current")
        .order_by(Publication.quarter.desc(), Publication.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def publications_of(village: Village, quarter: Quarter) -> list[Publication]:
    """Return every version of a quarter's publication, newest first."""
    return list(db.session.execute(
        db.select(Publication).filter_by(village_id=village.id, quarter=str(quarter))
        .order_by(Publication.version.desc())
    ).scalars())


def snapshot_of(publication: Publication) -> dict:
    """Return a publication's frozen tally and lists."""
    return json.loads(publication.snapshot)


def build_snapshot(village: Village, quarter: Quarter) -> dict:
    """Compute the quarter's tally, lists and group summary as plain data."""
    tally = quarter_tally(village, quarter)
    lists = quarter_lists(village, quarter, tally)
    red_ids = {r.household_id for r in lists.red}
    black_ids = {r.household_id for r in lists.black}
    groups = group_summaries(tally, village.base_score, red_ids, black_ids)
    return {
        "village": village.name,
        "quarter": str(quarter),
        "label": quarter.label,
        "base": village.base_score,
        "tally": [r.as_dict() for r in tally],
        "red": [r.as_dict() for r in lists.red],
        "black": [r.as_dict() for r in lists.black],
        "groups": [g.__dict__ for g in groups],
    }


def shown_numbers(village: Village, quarter: Quarter) -> tuple[dict, Optional[Publication]]:
    """Return the numbers to show for a quarter and the publication they come from.

    A published or closed quarter shows its snapshot in force, so later changes never
    alter it; an open quarter (never published, or reopened) is computed live (None).
    """
    publication = current_publication(village, quarter)
    if publication is not None:
        return snapshot_of(publication), publication
    return build_snapshot(village, quarter), None


def pending_count(village: Village, quarter: Quarter) -> int:
    """Count entries in the quarter still waiting for review."""
    return int(db.session.execute(
        db.select(db.func.count(Entry.id)).where(
            Entry.village_id == village.id, Entry.status == "pending",
            Entry.entry_date.between(quarter.first_day, quarter.last_day),
        )
    ).scalar_one())


@dataclass(frozen=True)
class PublishPreview:
    """What publishing a quarter now would freeze, for the confirmation step."""

    quarter: Quarter
    version: int
    households: int
    entries: int
    red: int
    black: int
    days_left: int  # days of the quarter still to come after today; 0 once it has ended
    applications: int = 0  # households' applications dated in the quarter still waiting for a clerk

    @property
    def warning(self) -> str:
        """Say in words what publishing early costs, or nothing once the quarter is over."""
        if self.days_left <= 0:
            return ""
        return f"本季度还有 {self.days_left} 天才结束，公示后这 {self.days_left} 天不能再记分"

    @property
    def applications_warning(self) -> str:
        """Say in words that waiting applications can only be declined once published, or nothing."""
        return applications.waiting_warning(self.quarter, self.applications)


def approved_count(village: Village, quarter: Quarter) -> int:
    """Count the approved entries dated in the quarter, the ones a publication freezes."""
    return int(db.session.execute(
        db.select(db.func.count(Entry.id)).where(
            Entry.village_id == village.id, Entry.status == "approved",
            Entry.entry_date.between(quarter.first_day, quarter.last_day),
        )
    ).scalar_one())


def check_can_publish(village: Village, quarter: Quarter, today: dt.date) -> None:
    """Refuse, with the reason in words, a quarter that cannot be published today."""
    if quarter.first_day > today:
        raise PublicationError(f"{quarter.label}还没有开始，不能公示")
    state = quarter_state(village, quarter)
    if state is not None and state.status == "published":
        raise PublicationError(f"{quarter.label}已在公示中（第{state.version}版）")
    if state is not None and state.status == "closed":
        raise PublicationError(f"{quarter.label}已结束，不能再公示")
    waiting = pending_count(village, quarter)
    if waiting:
        raise PublicationError(f"{quarter.label}还有 {waiting} 条积分记录待审核，请审核完再公示")


def publish_preview(village: Village, quarter: Quarter, *, today: dt.date) -> PublishPreview:
    """Say what publishing the quarter today would freeze; refuses as ``publish`` would."""
    check_can_publish(village, quarter, today)
    state = quarter_state(village, quarter)
    snapshot = build_snapshot(village, quarter)
    return PublishPreview(
        quarter=quarter, version=(state.version if state else 0) + 1, households=len(snapshot["tally"]),
        entries=approved_count(village, quarter), red=len(snapshot["red"]), black=len(snapshot["black"]),
        days_left=max(0, (quarter.last_day - today).days),
        applications=applications.waiting_in_quarter(village, quarter),
    )


def publish(
    actor: Optional[User],
    village: Village,
    quarter: Quarter,
    *,
    notice_days: Optional[int] = None,
    contact: Optional[str] = None,
    today: Optional[dt.date] = None,
) -> Publication:
    """Freeze the quarter's tally and lists as the next version and open the notice period.

    A notice must say whom to ask: the objection contact is required (the village's by default).
    """
    today = today or dt.date.today()
    # The state row is locked (and made) first, so two reviewers publishing at once get one version.
    state = quarter_state(village, quarter, create=True)
    check_can_publish(village, quarter, today)
    days = village.notice_days if notice_days is None else int(notice_days)
    if not 1 <= days <= 60:
        raise PublicationError("公示期应在1到60天之间", "notice_days")
    contact = (village.objection_contact if contact is None else contact).strip()
    if not contact:
        raise PublicationError("请填写异议联系人及电话，公示上要写明村民对公示有异议时找谁", "contact")
    state.version += 1
    state.status = "published"
    publication = Publication(
        village_id=village.id, quarter=str(quarter), version=state.version, status="current",
        published_at=utcnow(), published_by_name=audit.actor_name(actor),
        notice_starts_on=today, notice_ends_on=today + dt.timedelta(days=days - 1),
        contact=contact, snapshot=json.dumps(build_snapshot(village, quarter), ensure_ascii=False),
    )
    db.session.add(publication)
    db.session.flush()
    audit.record(
        actor, "quarter.publish", village_id=village.id, target=f"{quarter.label} 第{state.version}版",
        after={"quarter": str(quarter), "version": state.version, "notice_ends_on": publication.notice_ends_on,
               "contact": contact},
    )
    return publication


def reopen(actor: Optional[User], village: Village, quarter: Quarter, reason: str) -> None:
    """Reopen a published quarter; its snapshot stays, marked superseded, with the reason."""
    if not (reason or "").strip():
        raise PublicationError("重新开放时请写明理由", "reason")
    state = quarter_state(village, quarter)
    if state is None or state.status != "published":
        raise PublicationError(f"{quarter.label}不在公示中，无需重新开放")
    publication = current_publication(village, quarter)
    publication.status = "superseded"
    publication.superseded_at = utcnow()
    publication.superseded_reason = reason.strip()
    state.status = "open"
    audit.record(
        actor, "quarter.reopen", village_id=village.id, target=f"{quarter.label} 第{publication.version}版",
        summary=reason.strip(), before={"status": "published"}, after={"status": "open"},
    )


def close(actor: Optional[User], village: Village, quarter: Quarter, *, today: Optional[dt.date] = None) -> None:
    """End a quarter after its notice period, once every objection has an answer."""
    today = today or dt.date.today()
    state = quarter_state(village, quarter)
    if state is None or state.status != "published":
        raise PublicationError(f"{quarter.label}不在公示中，不能结束")
    publication = current_publication(village, quarter)
    if today <= publication.notice_ends_on:
        raise PublicationError(f"公示期到 {publication.notice_ends_on} 才结束，之后才能结束本季度")
    open_count = int(db.session.execute(
        db.select(db.func.count(Objection.id)).where(
            Objection.village_id == village.id, Objection.status == "open",
            Objection.publication_id.in_(
                db.select(Publication.id).filter_by(village_id=village.id, quarter=str(quarter))
            ),
        )
    ).scalar_one())
    if open_count:
        raise PublicationError(f"还有 {open_count} 条异议没有答复，请先答复")
    state.status = "closed"
    audit.record(
        actor, "quarter.close", village_id=village.id, target=quarter.label,
        before={"status": "published"}, after={"status": "closed"},
    )


def raise_objection(
    actor: Optional[User],
    village: Village,
    quarter: Quarter,
    household: Household,
    raised_by: str,
    content: str,
    *,
    today: Optional[dt.date] = None,
) -> Objection:
    """Record a resident's objection to the quarter's publication during its notice period."""
    today = today or dt.date.today()
    publication = current_publication(village, quarter)
    if publication is None:
        raise PublicationError(f"{quarter.label}没有在公示，不能登记异议")
    if not publication.notice_starts_on <= today <= publication.notice_ends_on:
        raise PublicationError(
            f"公示期为 {publication.notice_starts_on} 至 {publication.notice_ends_on}，今天不在公示期内"
        )
    if household.village_id != village.id:
        raise PublicationError("农户不属于本村", "household")
    if not (raised_by or "").strip():
        raise PublicationError("请填写提出异议的人", "raised_by")
    if not (content or "").strip():
        raise PublicationError("请填写异议内容", "content")
    objection = Objection(
        village_id=village.id, publication_id=publication.id, household_id=household.id, household=household,
        raised_by=raised_by.strip(), raised_on=today, content=content.strip(),
        recorded_by_name=audit.actor_name(actor), status="open",
    )
    db.session.add(objection)
    db.session.flush()
    audit.record(
        actor, "objection.create", village_id=village.id, household_id=household.id,
        target=f"{quarter.label} 异议 #{objection.id}",
        after={"household": household.code, "raised_by": objection.raised_by, "content": objection.content},
    )
    return objection


def answer_objection(
    actor: Optional[User],
    objection: Objection,
    upheld: bool,
    answer: str,
    correcting_entry: Optional[Entry] = None,
) -> None:
    """Answer an objection; an upheld one names the entry (reversal or new entry) that corrects it."""
    if objection.status != "open":
        raise PublicationError(f"异议 #{objection.id} 已经答复过")
    if not (answer or "").strip():
        raise PublicationError("请填写答复内容", "answer")
    quarter = Quarter.parse(objection.publication.quarter)
    if upheld:
        if correcting_entry is None:
            raise PublicationError("异议成立时，请选择更正它的积分记录（冲正或新录入的记录）", "correcting_entry")
        if correcting_entry.household_id != objection.household_id:
            raise PublicationError("更正记录不是这一户的", "correcting_entry")
        if not quarter.first_day <= correcting_entry.entry_date <= quarter.last_day:
            raise PublicationError(f"更正记录的日期不在{quarter.label}内", "correcting_entry")
    objection.status = "upheld" if upheld else "dismissed"
    objection.answer = answer.strip()
    objection.answered_by_name = audit.actor_name(actor)
    objection.answered_at = utcnow()
    objection.correcting_entry_id = correcting_entry.id if (upheld and correcting_entry) else None
    audit.record(
        actor, "objection.answer", village_id=objection.village_id, household_id=objection.household_id,
        target=f"{quarter.label} 异议 #{objection.id}", before={"status": "open"},
        after={"status": objection.status, "answer": objection.answer,
               "correcting_entry": objection.correcting_entry_id},
    )
