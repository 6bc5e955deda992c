"""The choosers on the exports page, read back from the download link's query string."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from wtforms import BooleanField, SelectChoice, SelectField
from wtforms.validators import ValidationError

from .. import exports
from ..extensions import db
from ..models import QUARTER_STATUSES, Entry, Publication, QuarterState, Village
from ..quarters import BadQuarter, Quarter
from .forms_base import ChineseForm

WHOLE_VILLAGE = ""
BY_GROUP = "by-group"
# How far back the choosers reach when the village has no older records.
MAX_QUARTERS = 40


def _first_day(village: Village) -> dt.date:
    """Return the day the village's records begin: its first entry, publication or creation."""
    first_entry = db.session.execute(
        db.select(db.func.min(Entry.entry_date)).where(Entry.village_id == village.id)
    ).scalar_one_or_none()
    first_quarter = db.session.execute(
        db.select(db.func.min(Publication.quarter)).where(Publication.village_id == village.id)
    ).scalar_one_or_none()
    days = [village.created_at.date() if village.created_at else dt.date.today()]
    if first_entry:
        days.append(first_entry)
    if first_quarter:
        days.append(Quarter.parse(first_quarter).first_day)
    return min(days)


def quarter_choices(village: Village, first_day: dt.date, today: Optional[dt.date] = None) -> list[SelectChoice]:
    """List the village's quarters since ``first_day``, newest first, each with where it stands (公示中·第1版)."""
    today = today or dt.date.today()
    states = {
        s.quarter: s for s in db.session.execute(
            db.select(QuarterState).filter_by(village_id=village.id)
        ).scalars()
    }
    first = Quarter.of(first_day)
    quarter = Quarter.of(today)
    choices = []
    while quarter >= first and len(choices) < MAX_QUARTERS:
        state = states.get(str(quarter))
        if state is not None and state.status != "open":
            note = f"{QUARTER_STATUSES[state.status]}·第{state.version}版"
        else:
            note = "未公示，导出为草稿"
        choices.append(SelectChoice(str(quarter), f"{quarter.label}（{note}）"))
        quarter = quarter.previous()
    return choices


def year_choices(first_day: dt.date, today: Optional[dt.date] = None) -> list[SelectChoice]:
    """List the years since ``first_day``, newest first."""
    today = today or dt.date.today()
    first = first_day.year
    return [SelectChoice(str(y), f"{y}年") for y in range(today.year, max(first, today.year - 30) - 1, -1)]


def period_choices(years: list[SelectChoice], quarters: list[SelectChoice]) -> list[SelectChoice]:
    """List each year followed by its quarters, newest first, for exports of either."""
    choices = []
    for year in years:
        choices.append(SelectChoice(year.value, f"{year.label}全年"))
        choices += [SelectChoice(q.value, Quarter.parse(q.value).label) for q in quarters
                    if q.value.startswith(year.value)]
    return choices


def default_quarter(village: Village) -> Optional[str]:
    """Pick the quarter a clerk most likely prints: the latest one published, else none."""
    return db.session.execute(
        db.select(QuarterState.quarter).where(QuarterState.village_id == village.id, QuarterState.status != "open")
        .order_by(QuarterState.quarter.desc()).limit(1)
    ).scalar_one_or_none()


class ExportForm(ChineseForm):
    """The period, the groups and (admins only) full personal data; every field is optional
    because each export reads only the fields it needs."""

    class Meta:
        csrf = False  # a download link changes nothing

    quarter = SelectField("季度", validate_choice=False)
    year = SelectField("年份", validate_choice=False)
    group = SelectField("范围", validate_choice=False)
    period = SelectField("期间", validate_choice=False)
    full = BooleanField("显示完整的身份证号和电话（仅管理员，会记入操作日志）")

    def __init__(self, village: Village, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.village = village
        first_day = _first_day(village)
        self.quarter.choices = quarter_choices(village, first_day)
        self.year.choices = year_choices(first_day)
        self.period.choices = period_choices(self.year.choices, self.quarter.choices)
        self.group.choices = [
            SelectChoice(WHOLE_VILLAGE, "全村一张表"),
            SelectChoice(BY_GROUP, "每个小组一张表（分开打印）"),
        ] + [SelectChoice(str(g.id), f"只要{g.name}") for g in village.groups]

    def validate_quarter(self, field) -> None:
        if field.data:
            try:
                Quarter.parse(field.data)
            except BadQuarter as exc:
                raise ValidationError(str(exc)) from exc

    def validate_year(self, field) -> None:
        if field.data and not (field.data.isdigit() and 2000 <= int(field.data) <= 2100):
            raise ValidationError("年份应写作 2026 这样的四位数")

    def validate_period(self, field) -> None:
        if field.data and not field.data.isdigit():
            self.validate_quarter(field)
        elif field.data:
            self.validate_year(field)

    def validate_group(self, field) -> None:
        if field.data in (None, WHOLE_VILLAGE, BY_GROUP):
            return
        if not any(str(g.id) == field.data for g in self.village.groups):
            raise ValidationError("所选小组不属于本村")

    def options(self, kind: str) -> exports.Options:
        """Return the options this export reads; the other fields are ignored."""
        options = exports.Options()
        if kind in exports.QUARTER_KINDS and self.quarter.data:
            options.quarter = Quarter.parse(self.quarter.data)
        if kind in exports.YEAR_KINDS and self.year.data:
            options.year = int(self.year.data)
        if kind in exports.PERIOD_KINDS and self.period.data:
            if self.period.data.isdigit():
                options.year = int(self.period.data)
            else:
                options.quarter = Quarter.parse(self.period.data)
        if kind in exports.GROUP_KINDS:
            if self.group.data == BY_GROUP:
                options.by_group = True
            elif self.group.data:
                options.group = next(g for g in self.village.groups if str(g.id) == self.group.data)
        if kind == "register":
            options.full_personal_data = bool(self.full.data)
        return options
