"""Red and black lists (红榜 / 黑榜) of a quarter, each row with its reasons in words.

DESIGN §4, with each criterion switchable per village:
- red: the top N of the ranking (everyone tied with the N-th is in) whose score is
  above the base; every household with an honour dated in the quarter;
- black: score below the base; an aid suspension overlapping the quarter; an
  approved entry in the quarter from a black-list trigger rule that has not been
  reversed;
- black outranks red: a household on both is only on the black list.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable

from sqlalchemy import and_

from .extensions import db
from .models import AidSuspension, Entry, Honour, Rule, Village
from .quarters import Quarter
from .tally import TallyRow


@dataclass
class ListRow:
    household_id: int
    code: str
    head_name: str
    group: str
    score: int
    rank: int
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class QuarterLists:
    red: list[ListRow]
    black: list[ListRow]

    def as_dict(self) -> dict:
        return {"red": [r.as_dict() for r in self.red], "black": [r.as_dict() for r in self.black]}


def _honours(village: Village, quarter: Quarter) -> dict[int, list[str]]:
    rows = db.session.execute(
        db.select(Honour.household_id, Honour.title)
        .where(Honour.village_id == village.id, Honour.awarded_on.between(quarter.first_day, quarter.last_day))
        .order_by(Honour.awarded_on, Honour.id)
    )
    found: dict[int, list[str]] = {}
    for household_id, title in rows:
        found.setdefault(household_id, []).append(title)
    return found


def _suspended(village: Village, quarter: Quarter) -> set[int]:
    return set(db.session.execute(
        db.select(AidSuspension.household_id).where(
            AidSuspension.village_id == village.id,
            AidSuspension.starts_on <= quarter.last_day,
            AidSuspension.ends_on >= quarter.first_day,
        )
    ).scalars())


def _triggers(village: Village, quarter: Quarter) -> dict[int, list[str]]:
    # The few trigger rules are read first so the entries are sought by rule: joining
    # rules instead scans every entry of the quarter (50,000 in a large village). The
    # rules are the village's own, so the query leaves out village_id, and reversals
    # are skipped below rather than by "reverses_id IS NULL": either condition draws
    # SQLite to an index that holds nearly every entry.
    trigger_ids = list(db.session.execute(
        db.select(Rule.id).where(Rule.village_id == village.id, Rule.black_list_trigger.is_(True))
    ).scalars())
    if not trigger_ids:
        return {}
    reversal = db.aliased(Entry)
    rows = db.session.execute(
        db.select(Entry.household_id, Entry.rule_code, Entry.rule_title, Entry.reverses_id)
        .outerjoin(reversal, and_(reversal.reverses_id == Entry.id, reversal.status == "approved"))
        .where(
            Entry.rule_id.in_(trigger_ids),
            Entry.status == "approved",
            Entry.entry_date.between(quarter.first_day, quarter.last_day),
            reversal.id.is_(None),
        )
        .order_by(Entry.entry_date, Entry.id)
    )
    found: dict[int, list[str]] = {}
    for household_id, code, title, reverses_id in rows:
        if reverses_id is not None:
            continue
        reason = f"有黑榜事项：{title}"
        if reason not in found.setdefault(household_id, []):
            found[household_id].append(reason)
    return found


def quarter_lists(village: Village, quarter: Quarter, tally: Iterable[TallyRow]) -> QuarterLists:
    """Build the red and black lists from a quarter's tally and the village's settings."""
    tally = list(tally)
    base = village.base_score
    red: dict[int, list[str]] = {}
    black: dict[int, list[str]] = {}
    in_tally = {row.household_id: row for row in tally}

    if village.red_top_enabled:
        for row in tally:
            if row.rank <= village.red_list_size and row.score > base:
                red.setdefault(row.household_id, []).append(f"季度积分排名第{row.rank}")
    if village.red_honours_enabled:
        for household_id, titles in _honours(village, quarter).items():
            if household_id in in_tally:
                red.setdefault(household_id, []).extend(f"获评{t}" for t in titles)
    if village.black_below_base_enabled:
        for row in tally:
            if row.score < base:
                black.setdefault(row.household_id, []).append(f"积分低于基础分（{row.score}分）")
    if village.black_aid_enabled:
        for household_id in _suspended(village, quarter):
            if household_id in in_tally:
                black.setdefault(household_id, []).append("被歇帮")
    if village.black_trigger_enabled:
        for household_id, reasons in _triggers(village, quarter).items():
            if household_id in in_tally:
                black.setdefault(household_id, []).extend(reasons)

    def rows(chosen: dict[int, list[str]]) -> list[ListRow]:
        out = []
        for household_id, reasons in chosen.items():
            t = in_tally[household_id]
            out.append(ListRow(household_id, t.code, t.head_name, t.group, t.score, t.rank, reasons))
        return out

    red_rows = sorted(rows({k: v for k, v in red.items() if k not in black}), key=lambda r: (r.rank, r.code))
    black_rows = sorted(rows(black), key=lambda r: (r.score, r.code))
    return QuarterLists(red=red_rows, black=black_rows)
