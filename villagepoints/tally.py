"""Quarter and year tallies: per household base, plus, minus, score and rank, in SQL.

A household is in a period's tally if it was registered on or before the period's
last day (no joined date: registered all along) and not deactivated before its
first day. Score = base + the household's approved entries dated in the period.
Rank is standard competition ranking, highest score first (120, 118, 118, 110 rank
1, 2, 2, 4); ties are listed by household code.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import and_, func, or_

from . import quarter_points
from .extensions import db
from .models import Group, Household, Village
from .quarters import Quarter


@dataclass
class TallyRow:
    household_id: int
    code: str
    head_name: str
    group: str
    group_id: Optional[int]
    base: int
    plus: int
    minus: int
    score: int
    rank: int

    def as_dict(self) -> dict:
        # dataclasses.asdict deep-copies field by field: a third of a 2,000-row quarter page.
        return dict(self.__dict__)


@dataclass
class GroupSummary:
    group: str
    households: int
    average: float
    below_base: int
    red: int = 0
    black: int = 0
    rank: int = 0


def in_period(village: Village, first: dt.date, last: dt.date):
    """Return the SQL condition for households counted in a period."""
    return and_(
        Household.village_id == village.id,
        or_(Household.joined_on.is_(None), Household.joined_on <= last),
        or_(Household.deactivated_on.is_(None), Household.deactivated_on >= first),
    )


def tally_quarters(village: Village, first: Quarter, last: Quarter, group_id: Optional[int] = None) -> list[TallyRow]:
    """Tally the village's households over quarters first..last, in rank order.

    ``plus`` is the net of approved entries from plus rules (their reversals included),
    ``minus`` the same for minus rules (a negative number or 0). They are read from the
    per-quarter sums the database keeps (quarter_points), which always equal the sums of
    the entries.
    """
    base = village.base_score
    kept = quarter_points.points_by_household(first, last, [village.id])
    plus = func.coalesce(kept.c.plus, 0)
    minus = func.coalesce(kept.c.minus, 0)
    score = base + plus + minus
    rank = func.rank().over(order_by=score.desc())
    stmt = (
        db.select(
            Household.id, Household.code, Household.head_name, Group.name, Household.group_id,
            plus.label("plus"), minus.label("minus"), score.label("score"), rank.label("rank"),
        )
        .select_from(Household)
        .outerjoin(Group, Group.id == Household.group_id)
        .outerjoin(kept, kept.c.household_id == Household.id)
        .where(in_period(village, first.first_day, last.last_day))
        .order_by(score.desc(), Household.code)
    )
    rows = [
        TallyRow(hid, code, name, gname or "", gid, base, int(p), int(m), int(s), int(r))
        for hid, code, name, gname, gid, p, m, s, r in db.session.execute(stmt)
    ]
    if group_id is not None:
        # Ranks stay village-wide: a group's page shows each household's place in the village.
        rows = [r for r in rows if r.group_id == group_id]
    return rows


def quarter_tally(village: Village, quarter: Quarter, group_id: Optional[int] = None) -> list[TallyRow]:
    """Tally one quarter."""
    return tally_quarters(village, quarter, quarter, group_id)


def year_tally(village: Village, year: int) -> list[TallyRow]:
    """Tally one calendar year (the year score)."""
    return tally_quarters(village, Quarter(year, 1), Quarter(year, 4))


def group_summaries(rows: list[TallyRow], base: int, red_ids: set[int] = frozenset(), black_ids: set[int] = frozenset()) -> list[GroupSummary]:
    """Summarise a tally per group and rank the groups by average score (competition ranking)."""
    by_group: dict[str, list[TallyRow]] = {}
    for row in rows:
        by_group.setdefault(row.group or "未分组", []).append(row)
    summaries = [
        GroupSummary(
            group=name,
            households=len(members),
            average=round(sum(r.score for r in members) / len(members), 2),
            below_base=sum(1 for r in members if r.score < base),
            red=sum(1 for r in members if r.household_id in red_ids),
            black=sum(1 for r in members if r.household_id in black_ids),
        )
        for name, members in by_group.items()
    ]
    summaries.sort(key=lambda s: (-s.average, s.group))
    for index, summary in enumerate(summaries):
        if index and summary.average == summaries[index - 1].average:
            summary.rank = summaries[index - 1].rank
        else:
            summary.rank = index + 1
    return summaries
