"""A household's points passbook (积分存折) for one year: a statement like a bank book.

Opening balance on 1 January, every approved entry, redemption (not voided) and
expiry write-off of the year in date order with the balance after each, the closing
balance on 31 December (or today, for the running year), and each quarter's score,
rank and list appearances (from the publication where the quarter is published).
The balance obeys DESIGN §3: approved entries − redemptions not voided − expired points.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from .extensions import db
from .ledger import approved_sum
from .models import Entry, Household, PointsExpiry, Redemption
from .quarters import Quarter
from .resident import published_quarters


@dataclass
class PassbookLine:
    day: dt.date
    what: str
    points: int  # signed: what it adds to the balance
    balance: int


@dataclass
class QuarterLine:
    label: str
    score: int
    rank: Optional[int]
    published: bool
    red: Optional[list] = None
    black: Optional[list] = None


@dataclass
class Passbook:
    household: Household
    year: int
    opening: int
    closing: int
    lines: list[PassbookLine] = field(default_factory=list)
    quarters: list[QuarterLine] = field(default_factory=list)


def _balance_before(household_id: int, day: dt.date) -> int:
    earned = approved_sum(household_id, last=day - dt.timedelta(days=1))
    spent = db.session.execute(
        db.select(db.func.coalesce(db.func.sum(Redemption.total_points), 0)).where(
            Redemption.household_id == household_id, Redemption.voided_at.is_(None), Redemption.redeemed_on < day,
        )
    ).scalar_one()
    expired = db.session.execute(
        db.select(db.func.coalesce(db.func.sum(PointsExpiry.points), 0)).where(
            PointsExpiry.household_id == household_id, PointsExpiry.expired_on < day,
        )
    ).scalar_one()
    return int(earned) - int(spent) - int(expired)


def passbook(household: Household, year: int, today: Optional[dt.date] = None) -> Passbook:
    """Return the household's statement for one year (see the module's docstring)."""
    today = today or dt.date.today()
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    opening = _balance_before(household.id, first)
    moves: list[tuple[dt.date, int, int, str, int]] = []
    for entry in db.session.execute(
        db.select(Entry).where(Entry.household_id == household.id, Entry.status == "approved",
                               Entry.entry_date.between(first, last))
    ).scalars():
        what = f"{entry.rule_title}{'（冲正）' if entry.is_reversal else ''}"
        moves.append((entry.entry_date, 0, entry.id, what, entry.points))
    for redemption in db.session.execute(
        db.select(Redemption).where(Redemption.household_id == household.id, Redemption.voided_at.is_(None),
                                    Redemption.redeemed_on.between(first, last))
    ).scalars():
        moves.append((redemption.redeemed_on, 1, redemption.id, f"兑换（单号 {redemption.receipt_no}）",
                      -redemption.total_points))
    for expiry in db.session.execute(
        db.select(PointsExpiry).where(PointsExpiry.household_id == household.id,
                                      PointsExpiry.expired_on.between(first, last))
    ).scalars():
        moves.append((expiry.expired_on, 2, expiry.id, f"{expiry.points_year}年积分到期作废", -expiry.points))
    running = opening
    lines = []
    for day, _order, _id, what, points in sorted(moves):
        running += points
        lines.append(PassbookLine(day, what, points, running))
    published = {q["quarter"]: q for q in published_quarters(household.village, household)}
    quarters = []
    base = household.village.base_score
    for number in range(1, 5):
        quarter = Quarter(year, number)
        if quarter.first_day > today:
            break
        row = published.get(str(quarter))
        if row is not None:
            quarters.append(QuarterLine(quarter.label, row["score"], row["rank"], True, row["red"], row["black"]))
        else:
            score = base + approved_sum(household.id, quarter.first_day, quarter.last_day)
            quarters.append(QuarterLine(quarter.label, score, None, False))
    return Passbook(household, year, opening, running, lines, quarters)
