"""Charts: server-side SVG that scales, speaks its numbers and sits on the pages that need it."""
import datetime as dt
import re

import pytest

from villagepoints import chart_data, charts, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import Household
import township_world as world


def test_a_bar_chart_scales_to_its_box_and_says_its_numbers_in_words():
    chart = charts.bar_chart("各村参与率", ["东村", "南村"], [charts.Series("参与率", [62.5, 40])], "%")
    svg = str(chart.svg)
    assert svg.startswith('<svg class="chart" viewBox="0 0 480 300" width="100%" role="img"')
    assert 'aria-label="各村参与率。参与率：东村62.5%，南村40%。"' in svg
    assert "<title>各村参与率。参与率：东村62.5%，南村40%。</title>" in svg
    assert chart.rows == [["东村", "62.5"], ["南村", "40"]]
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    # 62.5 on an axis to 100 is 62.5% of the plot's height; 40 is 40%.
    assert heights[0] / heights[1] == pytest.approx(62.5 / 40, rel=0.01)


def test_chart_text_is_escaped():
    chart = charts.bar_chart("<b>x</b>", ['"村"<script>'], [charts.Series("a&b", [1])])
    svg = str(chart.svg)
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg


def test_a_line_chart_draws_one_point_per_label_for_each_series():
    chart = charts.line_chart("参与率", ["Q1", "Q2", "Q3"],
                              [charts.Series("东村", [10, 20, 30]), charts.Series("南村", [5, 5, 50])], "%")
    svg = str(chart.svg)
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 6
    assert "东村：Q110%，Q220%，Q330%" in chart.words


def test_distribution_counts_households_per_ten_point_band():
    chart = charts.distribution("分布", [95, 99, 100, 104, 121])
    assert chart.labels == ["90–99", "100–109", "110–119", "120–129"]
    assert chart.series[0].values == [2, 2, 0, 1]


def test_an_empty_chart_draws_nothing():
    assert charts.bar_chart("无", [], [charts.Series("a", [])]).empty


@pytest.fixture
def built(app):
    with app.app_context():
        world.build()
        world.add_user("tv", "township_viewer", "dongxiang")
    return app


def test_household_charts_follow_its_approved_entries_by_quarter(built):
    with built.app_context():
        village = villages.get_by_slug("nancun")
        h = db.session.execute(db.select(Household).filter_by(village_id=village.id, code="0003")).scalar_one()
        score, plus_minus = chart_data.household_charts(h, today=dt.date(2026, 11, 18))
        q3 = [e for e in world.entries_of(village)
              if e.household_id == h.id and e.status == "approved" and dt.date(2026, 7, 1) <= e.entry_date <= dt.date(2026, 9, 30)]
        assert score.labels[-2:] == ["2026年三季", "2026年四季"]
        assert score.series[0].values[-2] == 100 + sum(e.points for e in q3)
        assert plus_minus.series[0].values[-2] == sum(e.points for e in q3 if e.kind == "plus")
        assert plus_minus.series[1].values[-2] == -sum(e.points for e in q3 if e.kind == "minus")


def test_store_chart_counts_points_spent_per_month_without_voided_visits(built):
    with built.app_context():
        spent, items = chart_data.store_charts(villages.get_by_slug("dongcun"), today=dt.date(2026, 11, 18))
        by_month = dict(zip(spent.labels, spent.series[0].values))
        assert by_month["2026年6月"] == 5 and by_month["2026年11月"] == 10
        assert dict(zip(items.labels, items.series[0].values))["2026年11月"] == 2


@pytest.mark.parametrize("url,titles", [
    ("/v/dongcun/households/0004", ["各季度积分", "各季度加分和扣分"]),
    ("/v/dongcun/quarters/2026Q3", ["积分分布", "各小组平均分", "各细则加分和扣分"]),
    ("/v/nancun/quarters/2026Q4", ["积分分布", "各小组平均分", "各细则加分和扣分"]),
])
def test_village_pages_carry_their_charts_with_the_numbers_one_tap_away(built, web, url, titles):
    web.login("tv")
    page = web.get(url).get_data(as_text=True)
    for title in titles:
        assert title in page
    assert page.count('<svg class="chart"') == len(titles)
    assert page.count('<details class="chart-numbers">') == len(titles)


def test_store_page_carries_its_monthly_charts(built, web, make_user):
    make_user("keeper", "storekeeper", ("dongcun",))
    web.login("keeper")
    page = web.get("/v/dongcun/store").get_data(as_text=True)
    assert "近12个月兑出积分" in page and "近12个月兑出件数" in page


def test_township_participation_over_quarters_folds_many_villages_into_their_mean(app, make_village, ctx):
    from villagepoints import rollup
    from villagepoints.quarters import Quarter

    for n in range(7):
        make_village(f"村{n}", f"cun-{n}")
    made = [villages.get_by_slug(f"cun-{n}") for n in range(7)]
    rows = rollup.village_rows(made, Quarter(2026, 4))
    chart = chart_data.township_charts(made, rows, Quarter(2026, 4))[-1]
    assert chart.title == "近几个季度各村平均参与率（7个村）"
    assert [s.name for s in chart.series] == ["各村平均"]
    few = chart_data.township_charts(made[:2], rows[:2], Quarter(2026, 4))[-1]
    assert [s.name for s in few.series] == ["村0", "村1"]
    assert few.labels == ["2026年一季", "2026年二季", "2026年三季", "2026年四季"]
