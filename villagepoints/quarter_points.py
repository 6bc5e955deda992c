"""Approved points per household and per rule for each quarter, as the database keeps them.

Triggers on ``entries`` (migration 0013) add an entry's points to its household's row for
the entry's quarter when it is written approved or becomes approved, and take them out if
it stops being approved, in the writing transaction. Live tallies, the township roll-up
and participation read these rows: a quarter of 2,000 households is 2,000 rows however
many entries it holds. ``quarter_rule_points`` holds the same per village and rule, for
the plus-and-minus-by-rule chart.

``drift`` recomputes the rows from the entries and lists every difference (the tests run
it after every kind of write); ``rebuild`` rewrites them from the entries (the
``check-tallies --repair`` command), for a database changed behind the triggers' back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import and_, case, func, select

from .extensions import db
from .models import Entry, QuarterPoints, QuarterRulePoints
from .quarters import Quarter


@dataclass(frozen=True)
class Drift:
    table: str
    key: tuple
    kept: tuple[int, int, int]
    recomputed: tuple[int, int, int]

    def line(self) -> str:
        *who, year, quarter = self.key
        what = f"农户 #{who[0]}" if self.table == "quarter_points" else f"村 #{who[0]} 细则 {who[1]} {who[2]}"
        return (f"{what} {year}Q{quarter}：累计为 加{self.kept[0]} 减{self.kept[1]} {self.kept[2]}条，"
                f"按记录重算为 加{self.recomputed[0]} 减{self.recomputed[1]} {self.recomputed[2]}条")


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
    if first == last:
        # One row per household already: no GROUP BY, so the database can look each
        # household's row up by its key instead of summing the table first.
        stmt = select(
            QuarterPoints.household_id.label("household_id"), QuarterPoints.plus.label("plus"),
            QuarterPoints.minus.label("minus"), QuarterPoints.entries.label("entries"),
        ).where(QuarterPoints.year == first.year, QuarterPoints.quarter == first.number)
    else:
        stmt = select(
            QuarterPoints.household_id.label("household_id"),
            func.sum(QuarterPoints.plus).label("plus"),
            func.sum(QuarterPoints.minus).label("minus"),
            func.sum(QuarterPoints.entries).label("entries"),
        ).where(span(first, last)).group_by(QuarterPoints.household_id)
    if village_ids is not None:
        stmt = stmt.where(QuarterPoints.village_id.in_(list(village_ids)))
    return stmt.subquery("kept")


# Each kept table: the entry columns it sums by besides the quarter, and the carried ones.
_KEPT = (
    (QuarterPoints, ("household_id",), ("village_id",)),
    (QuarterRulePoints, ("village_id", "rule_code", "rule_title"), ()),
)


def _recomputed(keys: tuple[str, ...], carried: tuple[str, ...], village_ids: Optional[list[int]]):
    year = func.cast(func.extract("year", Entry.entry_date), db.Integer)
    month = func.cast(func.extract("month", Entry.entry_date), db.Integer)
    quarter = (month + 2) // 3
    grouped = [getattr(Entry, k) for k in keys]
    stmt = select(
        *grouped, year.label("year"), quarter.label("quarter"), *[func.min(getattr(Entry, c)) for c in carried],
        func.sum(case((Entry.kind == "plus", Entry.points), else_=0)),
        func.sum(case((Entry.kind == "minus", Entry.points), else_=0)),
        func.count(Entry.id),
    ).where(Entry.status == "approved")
    if village_ids is not None:
        stmt = stmt.where(Entry.village_id.in_(village_ids))
    return stmt.group_by(*grouped, year, quarter)


def drift(village_ids: Optional[Iterable[int]] = None) -> list[Drift]:
    """Every kept row that differs from a recomputation from the entries.

    A kept row of zeros (its entries all gone) equals no row.
    """
    ids = sorted(set(village_ids)) if village_ids is not None else None
    found = []
    empty = (0, 0, 0)
    for model, keys, carried in _KEPT:
        width = len(keys) + 2
        recomputed = {
            tuple(row[:width]): tuple(int(n) for n in row[-3:])
            for row in db.session.execute(_recomputed(keys, carried, ids))
        }
        stmt = select(model)
        if ids is not None:
            stmt = stmt.where(model.village_id.in_(ids))
        kept = {
            tuple(getattr(row, k) for k in (*keys, "year", "quarter")): (row.plus, row.minus, row.entries)
            for row in db.session.execute(stmt).scalars()
        }
        found += [
            Drift(model.__tablename__, key, kept.get(key, empty), recomputed.get(key, empty))
            for key in sorted(set(kept) | set(recomputed))
            if kept.get(key, empty) != recomputed.get(key, empty)
        ]
    return found


def rebuild(village_ids: Optional[Iterable[int]] = None) -> int:
    """Rewrite the kept rows of the villages (all if None) from their entries; return the rows written.

    Runs in the caller's transaction; the caller commits. On PostgreSQL the entries table is
    locked against writes first: an entry approved between the delete and the insert would
    otherwise be counted twice or collide with the row its trigger wrote. (SQLite's writers
    already wait for this transaction.)
    """
    ids = sorted(set(village_ids)) if village_ids is not None else None
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(db.text("LOCK TABLE entries IN SHARE MODE"))
    written = 0
    for model, keys, carried in _KEPT:
        delete = db.delete(model)
        if ids is not None:
            delete = delete.where(model.village_id.in_(ids))
        db.session.execute(delete)
        names = (*keys, "year", "quarter", *carried, "plus", "minus", "entries")
        rows = [dict(zip(names, row)) for row in db.session.execute(_recomputed(keys, carried, ids))]
        if rows:
            db.session.execute(db.insert(model), rows)
        written += len(rows)
    return written


def rule_points(village_id: int, quarter: Quarter) -> list[tuple[str, str, int, int]]:
    """The quarter's approved points per rule, as (code, title, plus, minus), by code."""
    return [
        (code, title, int(plus), int(minus)) for code, title, plus, minus in db.session.execute(
            select(QuarterRulePoints.rule_code, QuarterRulePoints.rule_title,
                   QuarterRulePoints.plus, QuarterRulePoints.minus)
            .where(QuarterRulePoints.village_id == village_id, QuarterRulePoints.year == quarter.year,
                   QuarterRulePoints.quarter == quarter.number, QuarterRulePoints.entries > 0)
            .order_by(QuarterRulePoints.rule_code, QuarterRulePoints.rule_title)
        )
    ]
