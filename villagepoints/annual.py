"""The year: year scores, list appearances, the 三均衡 priority list and star ratings."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable, Optional

from . import audit
from .extensions import db
from .models import Publication, StarBand, User, Village
from .tally import year_tally


class AnnualError(ValueError):
    """A year setting refused; the message says why in Chinese."""


@dataclass
class YearRow:
    household_id: int
    code: str
    head_name: str
    group: str
    year_score: int
    red_count: int
    black_count: int
    stars: int
    priority: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def star_bands(village: Village, year: int) -> list[tuple[int, int]]:
    """Return the year's bands as (stars, min score), most stars first; empty means ratings are off."""
    rows = db.session.execute(
        db.select(StarBand.stars, StarBand.min_score).filter_by(village_id=village.id, year=year)
        .order_by(StarBand.stars.desc())
    ).all()
    return [(s, m) for s, m in rows]


def set_star_bands(actor: Optional[User], village: Village, year: int, bands: Iterable[tuple[int, int]]) -> None:
    """Replace the year's star bands; more stars must need a higher score. No bands turns ratings off."""
    bands = sorted({int(s): int(m) for s, m in bands}.items())
    for stars, _ in bands:
        if not 1 <= stars <= 5:
            raise AnnualError("星级应为1到5星")
    for (s1, m1), (s2, m2) in zip(bands, bands[1:]):
        if m2 <= m1:
            raise AnnualError(f"{s2}星的分数线应高于{s1}星（{m1}分）")
    before = star_bands(village, year)
    db.session.execute(db.delete(StarBand).where(StarBand.village_id == village.id, StarBand.year == year))
    for stars, min_score in bands:
        db.session.add(StarBand(village_id=village.id, year=year, stars=stars, min_score=min_score))
    db.session.flush()
    audit.record(
        actor, "stars.update", village_id=village.id, target=f"{year}年星级农户分数线",
        before={"bands": before}, after={"bands": star_bands(village, year)},
    )


def stars_for(score: int, bands: list[tuple[int, int]]) -> int:
    """Return the most stars whose minimum the score reaches (0 when none)."""
    return max((s for s, m in bands if score >= m), default=0)


def list_appearances(village: Village, year: int) -> tuple[dict[int, int], dict[int, int]]:
    """Count red and black list appearances per household in the year's publications in force."""
    red: dict[int, int] = {}
    black: dict[int, int] = {}
    snapshots = db.session.execute(
        db.select(Publication.snapshot).where(
            Publication.village_id == village.id, Publication.status == "current",
            Publication.quarter.like(f"{year}Q%"),
        )
    ).scalars()
    for text in snapshots:
        snap = json.loads(text)
        for row in snap["red"]:
            red[row["household_id"]] = red.get(row["household_id"], 0) + 1
        for row in snap["black"]:
            black[row["household_id"]] = black.get(row["household_id"], 0) + 1
    return red, black


def year_rows(village: Village, year: int) -> list[YearRow]:
    """Return the 三均衡 priority list for a year.

    Households ranked by year score, then red-list appearances; households black-listed
    in the year come after all the others, ordered the same way. Ties share no number:
    the priority is the position in the list.
    """
    red, black = list_appearances(village, year)
    bands = star_bands(village, year)
    rows = [
        YearRow(
            t.household_id, t.code, t.head_name, t.group, t.score,
            red.get(t.household_id, 0), black.get(t.household_id, 0), stars_for(t.score, bands),
        )
        for t in year_tally(village, year)
    ]
    rows.sort(key=lambda r: (r.black_count > 0, -r.year_score, -r.red_count, r.code))
    for index, row in enumerate(rows, start=1):
        row.priority = index
    return rows
