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
its frozen snapshot, as the village pages do. Scores and participation are read from the
per-quarter sums the database keeps (quarter_points); entries dated in a published quarter
are refused, so participation cannot move after publishing.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional

from sqlalchemy import and_, case, func, literal, or_, select, true

from . import quarter_points
from .extensions import db
from .models import (
    AidSuspension, Entry, Group, Honour, Household, Publication, QuarterPoints, Redemption, Rule, Township, Village,
)
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


def _flag_sets(ids: list[int], quarter: Quarter):
    """The few households the lists read besides scores: honoured, suspended, and with an
    approved trigger-rule entry not reversed; each a small subquery of household ids."""
    first, last = quarter.first_day, quarter.last_day
    honoured = (
        select(Honour.household_id.label("household_id"))
        .where(Honour.village_id.in_(ids), Honour.awarded_on.between(first, last))
        .distinct().subquery("honoured")
    )
    suspended = (
        select(AidSuspension.household_id.label("household_id"))
        .where(AidSuspension.village_id.in_(ids), AidSuspension.starts_on <= last, AidSuspension.ends_on >= first)
        .distinct().subquery("suspended")
    )
    # Sought by rule, as lists._triggers does: trigger rules are few, and their entries fewer.
    reversal = db.aliased(Entry)
    triggered = (
        select(Entry.household_id.label("household_id"))
        .outerjoin(reversal, and_(reversal.reverses_id == Entry.id, reversal.status == "approved"))
        .where(
            Entry.rule_id.in_(select(Rule.id).where(Rule.village_id.in_(ids), Rule.black_list_trigger.is_(True))),
            Entry.status == "approved", Entry.entry_date.between(first, last),
            # Not "reverses_id IS NULL": that draws SQLite to an index holding nearly every entry.
            func.coalesce(Entry.reverses_id, 0) == 0,
            reversal.id.is_(None),
        )
        .distinct().subquery("triggered")
    )
    return honoured, suspended, triggered


def _scored(villages: list[Village], quarter: Quarter, *, shared: bool = False):
    """One row per household in the quarter's tally of any of the villages: score, rank in its
    village, whether it took part, and the flags the red and black lists read.

    ``shared`` makes it a materialized CTE, computed once for a statement that reads it
    several times."""
    first, last = quarter.first_day, quarter.last_day
    ids = [v.id for v in villages]
    kept = quarter_points.points_by_household(quarter, quarter, ids)
    scores = (
        select(
            Household.id.label("household_id"), Household.village_id.label("village_id"),
            (func.coalesce(kept.c.plus, 0) + func.coalesce(kept.c.minus, 0)).label("points"),
            func.coalesce(kept.c.entries, 0).label("entries"),
        )
        .select_from(Household)
        .outerjoin(kept, kept.c.household_id == Household.id)
        .where(
            Household.village_id.in_(ids),
            or_(Household.joined_on.is_(None), Household.joined_on <= last),
            or_(Household.deactivated_on.is_(None), Household.deactivated_on >= first),
        )
        .subquery("scores")
    )
    honoured, suspended, triggered = _flag_sets(ids, quarter)
    score = (Village.base_score + scores.c.points)
    below = score < Village.base_score
    # IN (subquery): SQLite builds each small set once and looks households up in it.
    is_honoured = scores.c.household_id.in_(select(honoured.c.household_id))
    is_suspended = scores.c.household_id.in_(select(suspended.c.household_id))
    is_triggered = scores.c.household_id.in_(select(triggered.c.household_id))
    black_below = and_(Village.black_below_base_enabled.is_(True), below)
    black_aid = and_(Village.black_aid_enabled.is_(True), is_suspended)
    black_trigger = and_(Village.black_trigger_enabled.is_(True), is_triggered)
    rank = func.rank().over(partition_by=scores.c.village_id, order_by=score.desc())
    stmt = (
        select(
            scores.c.household_id, scores.c.village_id, score.label("score"), scores.c.entries,
            rank.label("rank"), Village.base_score.label("base"), Village.red_list_size.label("red_size"),
            Village.red_top_enabled.label("red_top"),
            case((and_(Village.red_honours_enabled.is_(True), is_honoured), 1), else_=0).label("honoured"),
            case((or_(black_below, black_aid, black_trigger), 1), else_=0).label("black"),
            case((black_below, 1), else_=0).label("black_below"),
            case((black_aid, 1), else_=0).label("black_aid"),
            case((black_trigger, 1), else_=0).label("black_trigger"),
        )
        .select_from(scores)
        .join(Village, Village.id == scores.c.village_id)
    )
    return stmt.cte("scored").prefix_with("MATERIALIZED") if shared else stmt.subquery("scored")


def _village_sums(s, *, tagged: bool = False):
    """Per village of the scored households ``s``: households, total score, below base,
    participating, red and black, in that order after the village id. ``tagged`` adds a 0
    before the village id and after it, to stand beside dashboard's named households."""
    red = and_(
        s.c.black == 0,
        or_(s.c.honoured == 1, and_(s.c.red_top.is_(True), s.c.rank <= s.c.red_size, s.c.score > s.c.base)),
    )
    village = (literal(0), s.c.village_id, literal(0)) if tagged else (s.c.village_id,)
    return select(
        *village, func.count(), func.sum(s.c.score),
        func.sum(case((s.c.score < s.c.base, 1), else_=0)),
        func.sum(case((s.c.entries > 0, 1), else_=0)),
        func.sum(case((red, 1), else_=0)),
        func.sum(s.c.black),
    ).group_by(s.c.village_id)


def _numbers(n, total, below, part, red, black) -> dict:
    return {"households": int(n), "total": int(total or 0), "below_base": int(below or 0),
            "participating": int(part or 0), "red": int(red or 0), "black": int(black or 0)}


def _live_numbers(villages: list[Village], quarter: Quarter) -> dict[int, dict]:
    """Aggregate the scored households per village in one statement."""
    if not villages:
        return {}
    return {vid: _numbers(*sums) for vid, *sums in db.session.execute(_village_sums(_scored(villages, quarter)))}


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
    return _assemble(villages, quarter, _live_numbers(villages, quarter), _publications(ids, quarter))


def _assemble(villages: list[Village], quarter: Quarter, live: dict[int, dict],
              publications: dict[int, Publication]) -> list[VillageRow]:
    ids = [v.id for v in villages]
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


@dataclass
class _Listed:
    """A household the dashboard names: in the township's top or on a black list."""

    village_id: int
    household_id: int
    score: int
    trank: int
    black: int
    black_below: int
    black_aid: int
    black_trigger: int
    code: str = ""
    head_name: str = ""
    group_name: str = ""


def dashboard(villages: list[Village], quarter: Quarter, top: int = 10):
    """Return the roll-up rows, the township's top households and its black list.

    One statement: the scored households are computed once (a materialized CTE), summed per
    village, and the few households the dashboard names (the township's top ``top``, ties
    included, and the black-listed) come back beside the sums; only those are then read in
    full. This beats window aggregates or sending 100,000 rows to Python on both databases.
    """
    ids = [v.id for v in villages]
    if not ids:
        return [], [], []
    publications = _publications(ids, quarter)
    s = _scored(villages, quarter, shared=True)
    frozen = list(publications)
    ranked = s.c.village_id.not_in(frozen) if frozen else true()
    # The township's top-th score: households scoring at least this are in the top (ties included).
    threshold = select(s.c.score).where(ranked).order_by(s.c.score.desc()).limit(1).offset(top - 1).scalar_subquery()
    sums = _village_sums(s, tagged=True)
    named = select(
        literal(1), s.c.village_id, s.c.household_id, s.c.score, s.c.black, s.c.black_below, s.c.black_aid,
        s.c.black_trigger, literal(0),
    ).where(ranked, or_(s.c.black == 1, s.c.score >= func.coalesce(threshold, s.c.score)))
    live: dict[int, dict] = {}
    listed: list[_Listed] = []
    for kind, vid, hid, a, b, c, d, e, f in db.session.execute(sums.union_all(named)):
        if kind == 0:
            live[vid] = _numbers(a, b, c, d, e, f)
        else:
            listed.append(_Listed(vid, hid, int(a), 0, int(b), int(c), int(d), int(e)))
    # Competition ranking across the township; every household scoring more than a named one
    # is itself named, so the places count among the named. Black-listed households below
    # the top are placed after it.
    listed.sort(key=lambda r: -r.score)
    for index, row in enumerate(listed):
        same = index and row.score == listed[index - 1].score
        row.trank = listed[index - 1].trank if same else index + 1
    _read_names(listed)
    rows = _assemble(villages, quarter, live, publications)
    best, black = _ranking(villages, publications, listed, top)
    return rows, best, black


def _read_names(rows: list[_Listed]) -> None:
    """Fill in the code, head's name and group of the few households the dashboard names."""
    by_id = {r.household_id: r for r in rows}
    ids = sorted(by_id)
    for start in range(0, len(ids), 5000):  # well under either database's limit of bound values
        for hid, code, name, group in db.session.execute(
            select(Household.id, Household.code, Household.head_name, Group.name)
            .outerjoin(Group, Group.id == Household.group_id)
            .where(Household.id.in_(ids[start:start + 5000]))
        ):
            row = by_id[hid]
            row.code, row.head_name, row.group_name = code, name, group or ""


def township_rows(township: Township, quarter: Quarter) -> list[VillageRow]:
    """Return the roll-up rows of the township's villages, in creation order."""
    villages = list(db.session.execute(
        select(Village).where(Village.township_id == township.id).order_by(Village.id)
    ).scalars())
    return village_rows(villages, quarter)


def participation_history(villages: list[Village], quarters: list[Quarter]) -> dict[str, list[float]]:
    """Return each village's participation rate (0–1) over the given quarters, by village slug.

    One pass over the villages' households, each joined to its kept row of every quarter
    by key: per quarter, the households in its tally and those of them with an approved
    entry in it.
    """
    out = {v.slug: [0.0] * len(quarters) for v in villages}
    if not villages or not quarters:
        return out
    slugs = {v.id: v.slug for v in villages}
    counts = []
    stmt = select(Household.village_id).where(Household.village_id.in_(list(slugs)))
    for i, q in enumerate(quarters):
        kept = db.aliased(QuarterPoints, name=f"kept{i}")
        stmt = stmt.outerjoin(kept, and_(
            kept.household_id == Household.id, kept.year == q.year, kept.quarter == q.number,
        ))
        counted = and_(
            or_(Household.joined_on.is_(None), Household.joined_on <= q.last_day),
            or_(Household.deactivated_on.is_(None), Household.deactivated_on >= q.first_day),
        )
        counts += [func.sum(case((counted, 1), else_=0)),
                   func.sum(case((and_(counted, kept.entries > 0), 1), else_=0))]
    stmt = stmt.add_columns(*counts).group_by(Household.village_id)
    for vid, *ns in db.session.execute(stmt):
        pairs = zip(ns[0::2], ns[1::2])
        out[slugs[vid]] = [round(int(part or 0) / int(n), 4) if n else 0.0 for n, part in pairs]
    return out


def _mask(village: Village, row: RankedHousehold) -> None:
    """Name a black-listed household as its village's policy says; hide its code unless in full."""
    if village.black_naming == "full":
        return
    row.head_name = f"{row.group or '未分组'}某户" if village.black_naming == "group" else mask_name(row.head_name)
    row.code = ""


def _ranking(villages: list[Village], publications: dict[int, Publication], found, top: int):
    by_id = {v.id: v for v in villages}
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
    for r in found:
        village = by_id[r.village_id]
        score, group = int(r.score), r.group_name or ""
        if r.trank <= top:
            candidates.append((RankedHousehold(village.slug, village.name, r.code, r.head_name, group, score),
                               bool(r.black)))
        if r.black:
            reasons = []
            if r.black_below:
                reasons.append(f"积分低于基础分（{score}分）")
            if r.black_aid:
                reasons.append("被歇帮")
            if r.black_trigger:
                reasons.append("有黑榜事项")
            blacks.append(RankedHousehold(village.slug, village.name, r.code, r.head_name, group, score,
                                          reasons=reasons))
    by_slug = {v.slug: v for v in villages}
    candidates.sort(key=lambda c: (-c[0].score, c[0].village, c[0].code))
    best: list[RankedHousehold] = []
    for index, (row, black) in enumerate(candidates):
        row.rank = best[-1].rank if best and row.score == best[-1].score else index + 1
        if row.rank > top:
            break
        if black:
            _mask(by_slug[row.village], row)
        best.append(row)
    blacks.sort(key=lambda r: (r.score, r.village, r.code))
    for row in blacks:
        _mask(by_slug[row.village], row)
    return best, blacks
