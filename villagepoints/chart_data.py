"""The numbers behind the village's charts, read with SQL aggregates and turned into charts.Chart."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from . import quarter_points, rollup
from .charts import Chart, Series, bar_chart, distribution, line_chart
from .extensions import db
from .models import Entry, Household, Redemption, Village
from .quarters import Quarter

HOUSEHOLD_QUARTERS = 6
STORE_MONTHS = 12
TOWNSHIP_QUARTERS = 4


def _short(quarter: Quarter) -> str:
    """A quarter short enough for an axis, still in words: 2026年三季."""
    return f"{quarter.year}年{'一二三四'[quarter.number - 1]}季"


def household_charts(household: Household, today: dt.date | None = None) -> list[Chart]:
    """Score by quarter over the last quarters, and plus against minus in each."""
    today = today or dt.date.today()
    quarters = [Quarter.of(today)]
    while len(quarters) < HOUSEHOLD_QUARTERS:
        quarters.insert(0, quarters[0].previous())
    first, last = quarters[0].first_day, quarters[-1].last_day
    rows = db.session.execute(
        select(Entry.entry_date, Entry.kind, func.sum(Entry.points))
        .where(Entry.household_id == household.id, Entry.status == "approved", Entry.entry_date.between(first, last))
        .group_by(Entry.entry_date, Entry.kind)
    )
    plus = {q: 0 for q in quarters}
    minus = {q: 0 for q in quarters}
    for day, kind, points in rows:
        (plus if kind == "plus" else minus)[Quarter.of(day)] += int(points)
    base = household.village.base_score
    labels = [_short(q) for q in quarters]
    return [
        line_chart(f"{household.head_name}家各季度积分", labels,
                   [Series("季度积分", [base + plus[q] + minus[q] for q in quarters])], "分",
                   floor=min(base, *(base + plus[q] + minus[q] for q in quarters)) - 10),
        bar_chart(f"{household.head_name}家各季度加分和扣分", labels,
                  [Series("加分", [plus[q] for q in quarters]), Series("扣分", [-minus[q] for q in quarters])], "分"),
    ]


def quarter_charts(village: Village, quarter: Quarter, numbers: dict) -> list[Chart]:
    """Score distribution and groups side by side (from the numbers shown, frozen when published),
    and plus and minus by rule (the quarter's approved entries, as the database keeps them summed)."""
    charts = [distribution(f"{quarter.label}积分分布", [r["score"] for r in numbers["tally"]])]
    groups = numbers.get("groups") or []
    charts.append(bar_chart(f"{quarter.label}各小组平均分", [g["group"] for g in groups],
                            [Series("平均分", [g["average"] for g in groups])], "分"))
    # Minus points are drawn upwards, as a size beside the plus ones.
    rows = [(code, title, plus, -minus) for code, title, plus, minus in quarter_points.rule_points(village.id, quarter)]
    charts.append(bar_chart(f"{quarter.label}各细则加分和扣分", [f"{code} {title}" for code, title, _, _ in rows],
                            [Series("加分", [int(p) for _, _, p, _ in rows]),
                             Series("扣分", [int(m) for _, _, _, m in rows])], "分"))
    return charts


def store_charts(village: Village, today: dt.date | None = None) -> list[Chart]:
    """Points spent and items given out per month over the last twelve months (voided visits left out)."""
    today = today or dt.date.today()
    months = []
    year, month = today.year, today.month
    for _ in range(STORE_MONTHS):
        months.insert(0, (year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    first = dt.date(*months[0], 1)
    rows = db.session.execute(
        select(Redemption.redeemed_on, func.sum(Redemption.total_points), func.sum(Redemption.item_count))
        .where(Redemption.village_id == village.id, Redemption.voided_at.is_(None),
               Redemption.redeemed_on.between(first, today))
        .group_by(Redemption.redeemed_on)
    )
    points = {m: 0 for m in months}
    items = {m: 0 for m in months}
    for day, p, n in rows:
        points[(day.year, day.month)] += int(p)
        items[(day.year, day.month)] += int(n)
    labels = [f"{y}年{m}月" for y, m in months]
    return [
        bar_chart("近12个月兑出积分", labels, [Series("兑出积分", [points[m] for m in months])], "分"),
        bar_chart("近12个月兑出件数", labels, [Series("兑出件数", [items[m] for m in months])], "件"),
    ]


def township_charts(villages: list[Village], rows: list[rollup.VillageRow], quarter: Quarter) -> list[Chart]:
    """The township dashboard's charts: villages side by side, and participation over the last quarters."""
    names = [r.name for r in rows]
    history = [quarter]
    while len(history) < TOWNSHIP_QUARTERS:
        history.insert(0, history[0].previous())
    # The chosen quarter's rates are in the rows already; only the earlier ones are counted.
    rates = rollup.participation_history(villages, history[:-1])
    for row in rows:
        rates[row.village].append(row.participation_rate)
    return [
        bar_chart(f"{quarter.label}各村参与率", names,
                  [Series("参与率", [round(r.participation_rate * 100, 1) for r in rows])], "%"),
        bar_chart(f"{quarter.label}各村平均分", names, [Series("平均分", [r.average_score for r in rows])], "分"),
        bar_chart(f"{quarter.label}各村红黑榜户数", names,
                  [Series("红榜", [r.red for r in rows]), Series("黑榜", [r.black for r in rows])], "户"),
        _participation_lines(villages, rates, [_short(q) for q in history]),
    ]


# More lines than this cannot be told apart on a phone.
MAX_LINES = 6


def _participation_lines(villages: list[Village], rates: dict[str, list[float]], labels: list[str]) -> Chart:
    if len(villages) <= MAX_LINES:
        return line_chart("近几个季度各村参与率", labels,
                          [Series(v.name, [round(x * 100, 1) for x in rates[v.slug]]) for v in villages], "%")
    mean = [round(sum(rates[v.slug][i] for v in villages) / len(villages) * 100, 1) for i in range(len(labels))]
    return line_chart(f"近几个季度各村平均参与率（{len(villages)}个村）", labels, [Series("各村平均", mean)], "%")
