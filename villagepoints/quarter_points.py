"""Each household's approved points per quarter, as the database keeps them (quarter_points).

Triggers on ``entries`` (migration 0013) add an entry's points to its household's row for
the entry's quarter when it is written approved or becomes approved, and take them out if
it stops being approved, in the writing transaction. Live tallies, the township roll-up
and participation read these rows: a quarter of 2,000 households is 2,000 rows however
many entries it holds.

``drift`` recomputes the rows from the entries and lists every difference (the tests run
it after every kind of write); ``rebuild`` rewrites them from the entries (the
``check-tallies --repair`` command), for a database changed behind the triggers' back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import and_, case, func, select

from .extensions import db
from .models import Entry, QuarterPoints
from .quarters import Quarter


@dataclass(frozen=True)
class Drift:
    household_id: int
    year: int
    quarter: int
    kept: tuple[int, int, int]
    recomputed: tuple[int, int, int]

    def line(self) -> str:
        return (f"农户 #{self.household_id} {self.year}Q{self.quarter}：累计为 加{self.kept[0]} 减{self.kept[1]} "
                f"{self.kept[2]}条，按记录重算为 加{self.recomputed[0]} 减{self.recomputed[1]} {self.recomputed[2]}条")


def _ordinal(year, quarter):
    return year * 4 + quarter


def span(first: Quarter, last: Quarter):
    """The SQL condition for kept rows of quarters first..last (both included)."""
    # The year range lets the primary key (household, year, quarter) serve the lookup.
    return and_(
        QuarterPoints.year.between(first.year, last.year),
        _ordinal(QuarterPoints.year, QuarterPoints.quarter).between(
            _ordinal(first.year, first.number), _ordinal(last.year, last.number)
        ),
    )


def points_by_household(first: Quarter, last: Optional[Quarter] = None, village_ids: Optional[Iterable[int]] = None):
    """A subquery of (household_id, plus, minus, entries) summed over quarters first..last."""
    last = last or first
    stmt = select(
        QuarterPoints.household_id.label("household_id"),
        func.sum(QuarterPoints.plus).label("plus"),
        func.sum(QuarterPoints.minus).label("minus"),
        func.sum(QuarterPoints.entries).label("entries"),
    ).where(span(first, last))
    if village_ids is not None:
        stmt = stmt.where(QuarterPoints.village_id.in_(list(village_ids)))
    return stmt.group_by(QuarterPoints.household_id).subquery("kept")


def _recomputed(village_ids: Optional[list[int]]):
    year = func.cast(func.extract("year", Entry.entry_date), db.Integer)
    month = func.cast(func.extract("month", Entry.entry_date), db.Integer)
    quarter = (month + 2) // 3
    stmt = select(
        Entry.household_id, year.label("year"), quarter.label("quarter"), func.min(Entry.village_id),
        func.sum(case((Entry.kind == "plus", Entry.points), else_=0)),
        func.sum(case((Entry.kind == "minus", Entry.points), else_=0)),
        func.count(Entry.id),
    ).where(Entry.status == "approved")
    if village_ids is not None:
        stmt = stmt.where(Entry.village_id.in_(village_ids))
    return stmt.group_by(Entry.household_id, year, quarter)


def drift(village_ids: Optional[Iterable[int]] = None) -> list[Drift]:
    """Every household-quarter whose kept row differs from a recomputation from the entries.

    A kept row of zeros (its entries all gone) equals no row.
    """
    ids = sorted(set(village_ids)) if village_ids is not None else None
    recomputed = {
        (int(h), int(y), int(q)): (int(p), int(m), int(n))
        for h, y, q, _v, p, m, n in db.session.execute(_recomputed(ids))
    }
    stmt = select(QuarterPoints)
    if ids is not None:
        stmt = stmt.where(QuarterPoints.village_id.in_(ids))
    kept = {
        (row.household_id, row.year, row.quarter): (row.plus, row.minus, row.entries)
        for row in db.session.execute(stmt).scalars()
    }
    empty = (0, 0, 0)
    return [
        Drift(*key, kept.get(key, empty), recomputed.get(key, empty))
        for key in sorted(set(kept) | set(recomputed))
        if kept.get(key, empty) != recomputed.get(key, empty)
    ]


def rebuild(village_ids: Optional[Iterable[int]] = None) -> int:
    """Rewrite the kept rows of the villages (all if None) from their entries; return the rows written.

    Runs in the caller's transaction; the caller commits.
    """
    ids = sorted(set(village_ids)) if village_ids is not None else None
    delete = db.delete(QuarterPoints)
    if ids is not None:
        delete = delete.where(QuarterPoints.village_id.in_(ids))
    db.session.execute(delete)
    rows = [
        {"household_id": h, "year": int(y), "quarter": int(q), "village_id": v,
         "plus": int(p), "minus": int(m), "entries": int(n)}
        for h, y, q, v, p, m, n in db.session.execute(_recomputed(ids))
    ]
    if rows:
        db.session.execute(db.insert(QuarterPoints), rows)
    return len(rows)
