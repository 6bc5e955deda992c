"""Tally, ranking and the red and black lists, case by case (DESIGN §3–§4)."""
import datetime as dt

import pytest

from villagepoints import ledger, lists, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household, deactivate_household
from villagepoints.quarters import Quarter
from villagepoints.tally import group_summaries, quarter_tally, year_tally

Q3 = Quarter(2026, 3)
DAY = dt.date(2026, 8, 1)


@pytest.fixture
def village(app, make_village, ctx):
    make_village(require_review=False)
    v = villages.get_by_slug("jiangba")
    db.session.commit()
    return v


def household(village, name, group="一组", code=None, **kw):
    return create_household(
        None, village, HouseholdFields(head_name=name, code=code, group=villages.find_group(village, group), **kw)
    )


def award(village, h, points, day=DAY, code=None):
    code = code or ("P06" if points > 0 else "M09")
    return ledger.make_entry(None, village, h, rules.rule_by_code(village, code), day, points,
                             evidence=True, today=dt.date(2026, 12, 31))


def by_code(rows):
    return {r.code: r for r in rows}


def test_scores_and_competition_ranking_with_ties_listed_by_code(village):
    a, b, c, d = (household(village, n, code=k) for n, k in (("甲", "0004"), ("乙", "0003"), ("丙", "0002"), ("丁", "0001")))
    award(village, a, 10); award(village, a, 10)
    award(village, b, 9); award(village, b, 9)
    award(village, c, 9); award(village, c, 9)
    award(village, d, 10)
    rows = quarter_tally(village, Q3)
    assert [(r.code, r.score, r.rank) for r in rows] == [
        ("0004", 120, 1), ("0002", 118, 2), ("0003", 118, 2), ("0001", 110, 4),
    ]


def test_plus_and_minus_are_net_of_reversals(village):
    h = household(village, "张三")
    e = award(village, h, 5)
    award(village, h, -3)
    ledger.reverse(None, e, "录错")
    row = quarter_tally(village, Q3)[0]
    assert (row.base, row.plus, row.minus, row.score) == (100, 0, -3, 97)


def test_only_approved_entries_in_the_quarter_count(village):
    h = household(village, "张三")
    award(village, h, 5, day=dt.date(2026, 6, 30))
    award(village, h, 4, day=dt.date(2026, 7, 1))
    award(village, h, 3, day=dt.date(2026, 9, 30))
    village.require_review = True
    award(village, h, 2, day=dt.date(2026, 8, 5))  # pending
    assert quarter_tally(village, Q3)[0].score == 107
    assert year_tally(village, 2026)[0].score == 112


def test_who_is_in_a_quarter_tally(village):
    household(village, "老户")  # no joined date: on the register all along
    household(village, "新户", joined_on=dt.date(2026, 10, 1))
    household(village, "九月底来", joined_on=dt.date(2026, 9, 30))
    gone = household(village, "七月前走", joined_on=dt.date(2020, 1, 1))
    deactivate_household(None, gone, dt.date(2026, 6, 30), "moved")
    late = household(village, "七月一日走", joined_on=dt.date(2020, 1, 1))
    deactivate_household(None, late, dt.date(2026, 7, 1), "moved")
    names = {r.head_name for r in quarter_tally(village, Q3)}
    assert names == {"老户", "九月底来", "七月一日走"}


def test_group_summary_ranks_groups_by_average(village):
    a = household(village, "甲", "一组"); household(village, "乙", "一组")
    c = household(village, "丙", "二组")
    award(village, a, 10); award(village, c, -5)
    summary = {s.group: s for s in group_summaries(quarter_tally(village, Q3), 100)}
    assert (summary["一组"].households, summary["一组"].average, summary["一组"].rank) == (2, 105.0, 1)
    assert (summary["二组"].below_base, summary["二组"].rank) == (1, 2)


def red_black(village):
    result = lists.quarter_lists(village, Q3, quarter_tally(village, Q3))
    return {r.head_name: r.reasons for r in result.red}, {r.head_name: r.reasons for r in result.black}


def test_everyone_tied_with_the_nth_place_is_on_the_red_list(village):
    for name, points in (("甲", 10), ("乙", 9), ("丙", 8), ("丁", 8), ("戊", 7)):
        award(village, household(village, name), points)
    red, _ = red_black(village)
    assert red == {"甲": ["季度积分排名第1"], "乙": ["季度积分排名第2"], "丙": ["季度积分排名第3"], "丁": ["季度积分排名第3"]}


def test_score_equal_to_base_is_on_neither_list(village):
    household(village, "平")
    a = household(village, "升")
    award(village, a, 1)
    red, black = red_black(village)
    assert "平" not in red and "平" not in black and "升" in red


def test_black_outranks_red_and_reasons_are_in_words(village):
    h = household(village, "张三")
    award(village, h, -5)
    ledger.add_honour(None, h, "文明家庭", dt.date(2026, 8, 8))
    red, black = red_black(village)
    assert "张三" not in red
    assert black["张三"] == ["积分低于基础分（95分）"]


def test_honour_just_outside_the_quarter_does_not_count(village):
    a, b = household(village, "甲"), household(village, "乙")
    village.red_top_enabled = False
    ledger.add_honour(None, a, "文明家庭", dt.date(2026, 6, 30))
    ledger.add_honour(None, b, "身边好人", dt.date(2026, 9, 30))
    red, _ = red_black(village)
    assert red == {"乙": ["获评身边好人"]}


def test_aid_suspension_overlapping_the_quarter_by_one_day(village):
    a, b = household(village, "甲"), household(village, "乙")
    ledger.add_aid_suspension(None, a, dt.date(2026, 4, 1), dt.date(2026, 7, 1), "拒不整改")
    ledger.add_aid_suspension(None, b, dt.date(2026, 4, 1), dt.date(2026, 6, 30), "拒不整改")
    _, black = red_black(village)
    assert black == {"甲": ["被歇帮"]}


def test_reversed_black_list_trigger_entry_does_not_count(village):
    a, b = household(village, "甲"), household(village, "乙")
    award(village, a, 10)
    award(village, b, 10)
    kept = award(village, a, -5, code="M06")
    wrong = award(village, b, -5, code="M06")
    ledger.reverse(None, wrong, "查无此事")
    red, black = red_black(village)
    assert black == {"甲": ["有黑榜事项：不赡养老人、家庭暴力"]}
    assert "乙" in red and kept.id


def test_switched_off_criteria_are_not_applied(village):
    h = household(village, "张三")
    award(village, h, -5)
    village.black_below_base_enabled = False
    _, black = red_black(village)
    assert black == {}
