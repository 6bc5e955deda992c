"""The township roll-up: one row of numbers per village for a quarter, in a few SQL aggregates.

Every village of the township is computed at once (GROUP BY village), never by calling
the per-village tally in a loop. The numbers obey the same rules as the village pages:

- ``households``: households in the quarter's tally (tally.in_period);
- ``participating``: those with at least one approved entry dated in the quarter;
- ``average_score``: mean quarter score, 2 decimals; ``below_base``: score below the base;
- ``red`` / ``black``: the sizes of the quarter's lists under the village's own settings
  (lists.py: top N above the base and honours; below base, aid suspension, trigger rule
  not reversed; black outranks red);
- ``pending``: entries dated in the quarter awaiting review;
- ``published``: the version in force, or None;
- ``redeemed_points``: points of redemptions dated in the quarter and not voided.

A published (or closed) quarter takes households, average, below base, red and black from
its frozen snapshot, as the village pages do. Participation is counted from the entries:
entries dated in a published quarter are refused, so it cannot move after publishing.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Optional

from sqlalchemy import and_, case, exists, func, literal, or_, select

from .extensions import db
from .models import AidSuspension, Entry, Group, Honour, Household, Publication, Redemption, Rule, Township, Village
from .personal_data import mask_name
from .quarters import Quarter

FIELDS = (
    "village", "name", "households", "participating", "participation_rate", "average_score",
    "below_base", "red", "black", "pending", "published", "redeemed_points",
)
FIELD_LABELS = {
    "village": "村代码", "name": "村", "households": "参评户数", "participating": "参与户数",
    "participation_rate": "参与率", "average_score": "平均分", "below_base": "低于基础分",
    "red": "红榜", "black": "黑榜", "pending": "待审核", "published": "公示版本",
    "redeemed_points": "兑换积分",
}


@dataclass
class VillageRow:
    village: str
    name: str
    households: int
    participating: int
    participation_rate: float
    average_score: float
    below_base: int
    red: int
    black: int
    pending: int
    published: Optional[int]
    redeemed_points: int
    rank: int = 0

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k in FIELDS}


@dataclass
class RankedHousehold:
    village: str
    village_name: str
    code: str
    head_name: str
    group: str
    score: int
    rank: int = 0
    reasons: list[str] = field(default_factory=list)


def _scored(villages: list[Village], quarter: Quarter):
    """One row per household in the quarter's tally of any of the villages: score, rank in its
    village, whether it took part, and the flags the red and black lists read."""
    first, last = quarter.first_day, quarter.last_day
    ids = [v.id for v in villages]
    points = func.coalesce(func.sum(Entry.points), 0)
    scores = (
        select(
            Household.id.label("household_id"), Household.village_id.label("village_id"),
            (Village.base_score + points).label("score"),
            func.count(Entry.id).label("entries"),
        )
        .select_from(Household)
        .join(Village, Village.id == Household.village_id)
        .outerjoin(Entry, and_(
            Entry.household_id == Household.id, Entry.status == "approved",
            Entry.entry_date >= first, Entry.entry_date <= last,
        ))
        .where(
            Household.village_id.in_(ids),
            or_(Household.joined_on.is_(None), Household.joined_on <= last),
            or_(Household.deactivated_on.is_(None), Household.deactivated_on >= first),
        )
        .group_by(Household.id, Household.village_id, Village.base_score)
        .cte("scores")
    )
    honoured = exists().where(
        Honour.household_id == scores.c.household_id, Honour.awarded_on.between(first, last)
    )
    suspended = exists().where(
        AidSuspension.household_id == scores.c.household_id,
        AidSuspension.starts_on <= last, AidSuspension.ends_on >= first,
    )
    reversal = db.aliased(Entry)
    triggered = exists().where(
        Entry.household_id == scores.c.household_id,
        Entry.status == "approved", Entry.entry_date.between(first, last), Entry.reverses_id.is_(None),
        Entry.rule_id.in_(select(Rule.id).where(Rule.village_id.in_(ids), Rule.black_list_trigger.is_(True))),
        ~exists().where(reversal.reverses_id == Entry.id, reversal.status == "approved"),
    )
    rank = func.rank().over(partition_by=scores.c.village_id, order_by=scores.c.score.desc())
    below = scores.c.score < Village.base_score
    black = or_(
        and_(Village.black_below_base_enabled.is_(True), below),
        and_(Village.black_aid_enabled.is_(True), suspended),
        and_(Village.black_trigger_enabled.is_(True), triggered),
    )
    return (
        select(
            scores.c.household_id, scores.c.village_id, scores.c.score, scores.c.entries,
            rank.label("rank"), Village.base_score.label("base"), Village.red_list_size.label("red_size"),
            Village.red_top_enabled.label("red_top"),
            case((and_(Village.red_honours_enabled.is_(True), honoured), 1), else_=0).label("honoured"),
            case((black, 1), else_=0).label("black"),
            case((and_(Village.black_below_base_enabled.is_(True), below), 1), else_=0).label("black_below"),
            case((and_(Village.black_aid_enabled.is_(True), suspended), 1), else_=0).label("black_aid"),
            case((and_(Village.black_trigger_enabled.is_(True), triggered), 1), else_=0).label("black_trigger"),
        )
        .join(Village, Village.id == scores.c.village_id)
        .subquery("scored")
    )


def _live_numbers(villages: list[Village], quarter: Quarter) -> dict[int, dict]:
    """Aggregate the scored households per village in one statement."""
    if not villages:
        return {}
    s = _scored(villages, quarter)
    red = and_(
        s.c.black == 0,
        or_(s.c.honoured == 1, and_(s.c.red_top.is_(True), s.c.rank <= s.c.red_size, s.c.score > s.c.base)),
    )
    stmt = (
        select(
            s.c.village_id, func.count(), func.sum(s.c.score),
            func.sum(case((s.c.score < s.c.base, 1), else_=0)),
            func.sum(case((s.c.entries > 0, 1), else_=0)),
            func.sum(case((red, 1), else_=0)),
            func.sum(s.c.black),
        )
        .group_by(s.c.village_id)
    )
    return {
        vid: {"households": int(n), "total": int(total or 0), "below_base": int(below or 0),
              "participating": int(part or 0), "red": int(r or 0), "black": int(b or 0)}
        for vid, n, total, below, part, r, b in db.session.execute(stmt)
    }


def _pending(ids: list[int], quarter: Quarter) -> dict[int, int]:
    rows = db.session.execute(
        select(Entry.village_id, func.count(Entry.id))
        .where(Entry.village_id.in_(ids), Entry.status == "pending",
               Entry.entry_date.between(quarter.first_day, quarter.last_day))
        .group_by(Entry.village_id)
    )
    return {vid: int(n) for vid, n in rows}


def _redeemed(ids: list[int], quarter: Quarter) -> dict[int, int]:
    rows = db.session.execute(
        select(Redemption.village_id, func.coalesce(func.sum(Redemption.total_points), 0))
        .where(Redemption.village_id.in_(ids), Redemption.voided_at.is_(None),
               Redemption.redeemed_on.between(quarter.first_day, quarter.last_day))
        .group_by(Redemption.village_id)
    )
    return {vid: int(n) for vid, n in rows}


def _publications(ids: list[int], quarter: Quarter) -> dict[int, Publication]:
    rows = db.session.execute(
        select(Publication).where(
            Publication.village_id.in_(ids), Publication.quarter == str(quarter), Publication.status == "current"
        )
    ).scalars()
    return {p.village_id: p for p in rows}


def _frozen(snapshot: dict) -> dict:
    tally = snapshot["tally"]
    base = snapshot["base"]
    return {
        "households": len(tally), "total": sum(r["score"] for r in tally),
        "below_base": sum(1 for r in tally if r["score"] < base),
        "red": len(snapshot["red"]), "black": len(snapshot["black"]),
    }


def village_rows(villages: list[Village], quarter: Quarter) -> list[VillageRow]:
    """Return the roll-up row of every village, ranked by average score (competition ranking)."""
    ids = [v.id for v in villages]
    if not ids:
        return []
    publications = _publications(ids, quarter)
    live = _live_numbers(villages, quarter)
    pending = _pending(ids, quarter)
    redeemed = _redeemed(ids, quarter)
    rows = []
    for village in villages:
        numbers = dict(live.get(village.id) or {"households": 0, "total": 0, "below_base": 0,
                                                "participating": 0, "red": 0, "black": 0})
        publication = publications.get(village.id)
        if publication is not None:
            numbers.update(_frozen(json.loads(publication.snapshot)))
        n = numbers["households"]
        rows.append(VillageRow(
            village=village.slug, name=village.name, households=n,
            participating=numbers["participating"],
            participation_rate=round(numbers["participating"] / n, 4) if n else 0.0,
            average_score=round(numbers["total"] / n, 2) if n else 0.0,
            below_base=numbers["below_base"], red=numbers["red"], black=numbers["black"],
            pending=pending.get(village.id, 0),
            published=publication.version if publication is not None else None,
            redeemed_points=redeemed.get(village.id, 0),
        ))
    ordered = sorted(rows, key=lambda r: (-r.average_score, r.village))
    for index, row in enumerate(ordered):
        same = index and row.average_score == ordered[index - 1].average_score
        row.rank = ordered[index - 1].rank if same else index + 1
    return rows


def township_rows(township: Township, quarter: Quarter) -> list[VillageRow]:
    """Return the roll-up rows of the township's villages, in creation order."""
    villages = list(db.session.execute(
        select(Village).where(Village.township_id == township.id).order_by(Village.id)
    ).scalars())
    return village_rows(villages, quarter)


def participation_history(villages: list[Village], quarters: list[Quarter]) -> dict[str, list[float]]:
    """Return each village's participation rate (0–1) over the given quarters, by village slug.

    One statement per quarter over all villages: households in the tally and those with
    an approved entry.
    """
    out = {v.slug: [] for v in villages}
    if not villages:
        return out
    slugs = {v.id: v.slug for v in villages}
    for quarter in quarters:
        first, last = quarter.first_day, quarter.last_day
        took_part = exists().where(
            Entry.household_id == Household.id, Entry.status == "approved", Entry.entry_date.between(first, last)
        )
        rows = dict(
            (vid, (int(n), int(p or 0))) for vid, n, p in db.session.execute(
                select(Household.village_id, func.count(), func.sum(case((took_part, 1), else_=0)))
                .where(
                    Household.village_id.in_(list(slugs)),
                    or_(Household.joined_on.is_(None), Household.joined_on <= last),
                    or_(Household.deactivated_on.is_(None), Household.deactivated_on >= first),
                )
                .group_by(Household.village_id)
            )
        )
        for vid, slug in slugs.items():
            n, p = rows.get(vid, (0, 0))
            out[slug].append(round(p / n, 4) if n else 0.0)
    return out


def _named(village: Village, head_name: str, group: str, black: bool) -> tuple[str, str]:
    """Name a household as its village's black-list policy says, when it is on the black list."""
    if not black or village.black_naming == "full":
        return head_name, ""
    if village.black_naming == "group":
        return f"{group or '未分组'}某户", ""
    return mask_name(head_name), ""


def household_ranking(villages: list[Village], quarter: Quarter, top: int = 10) -> tuple[list[RankedHousehold], list[RankedHousehold]]:
    """Return the township's top ``top`` households by quarter score (ties with the last one
    included) and its black list, across villages; black-listed households are named as
    their own village's policy says (full name, 张*, or the group only), codes hidden unless full."""
    by_id = {v.id: v for v in villages}
    if not villages:
        return [], []
    publications = _publications(list(by_id), quarter)
    candidates: list[tuple[RankedHousehold, bool]] = []
    blacks: list[RankedHousehold] = []
    for vid, publication in publications.items():
        village = by_id[vid]
        snap = json.loads(publication.snapshot)
        black_ids = {r["household_id"] for r in snap["black"]}
        for r in snap["tally"]:
            candidates.append((RankedHousehold(village.slug, village.name, r["code"], r["head_name"], r["group"],
                                               r["score"]), r["household_id"] in black_ids))
        for r in snap["black"]:
            blacks.append(RankedHousehold(village.slug, village.name, r["code"], r["head_name"], r["group"],
                                          r["score"], reasons=list(r["reasons"])))
    live = [v for v in villages if v.id not in publications]
    if live:
        s = _scored(live, quarter)
        township_rank = func.rank().over(order_by=s.c.score.desc())
        ranked = select(s, township_rank.label("trank")).subquery()
        stmt = (
            select(ranked.c.village_id, ranked.c.score, ranked.c.black, ranked.c.black_below, ranked.c.black_aid,
                   ranked.c.black_trigger, Household.code, Household.head_name, Group.name)
            .join(Household, Household.id == ranked.c.household_id)
            .outerjoin(Group, Group.id == Household.group_id)
            .where(or_(ranked.c.trank <= top, ranked.c.black == 1))
        )
        for vid, score, black, below, aid, trigger, code, name, group in db.session.execute(stmt):
            village = by_id[vid]
            row = RankedHousehold(village.slug, village.name, code, name, group or "", int(score))
            candidates.append((row, bool(black)))
            if black:
                reasons = []
                if below:
                    reasons.append(f"积分低于基础分（{int(score)}分）")
                if aid:
                    reasons.append("被歇帮")
                if trigger:
                    reasons.append("有黑榜事项")
                blacks.append(RankedHousehold(village.slug, village.name, code, name, group or "", int(score),
                                              reasons=reasons))
    candidates.sort(key=lambda c: (-c[0].score, c[0].village, c[0].code))
    best: list[RankedHousehold] = []
    for index, (row, black) in enumerate(candidates):
        row.rank = best[-1].rank if best and row.score == best[-1].score else index + 1
        if row.rank > top:
            break
        village = next(v for v in villages if v.slug == row.village)
        row.head_name, hidden = _named(village, row.head_name, row.group, black)
        if black and village.black_naming != "full":
            row.code = ""
        best.append(row)
    blacks.sort(key=lambda r: (r.score, r.village, r.code))
    for row in blacks:
        village = next(v for v in villages if v.slug == row.village)
        row.head_name, _ = _named(village, row.head_name, row.group, True)
        if village.black_naming != "full":
            row.code = ""
    return best, blacks
