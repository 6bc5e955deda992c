"""`flask --app villagepoints tally`, `lists` and `publish`."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from villagepoints import households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.models import QuarterState
from villagepoints.quarters import Quarter

PAST = Quarter.of(dt.date.today()).previous()
DAY = PAST.first_day + dt.timedelta(days=3)
TALLY_KEYS = ["code", "head_name", "group", "base", "plus", "minus", "score", "rank"]
LIST_KEYS = ["code", "head_name", "group", "score", "rank", "reasons"]


@pytest.fixture
def codes(app, make_village, make_household) -> dict[str, str]:
    """Three households with points in the past quarter: 甲 +7, 乙 +7, 丙 −4; 甲 has an honour."""
    make_village(require_review=False)
    found = {
        name: make_household(head_name=name, group=group, joined_on=dt.date(2020, 1, 1))
        for name, group in (("甲", "一组"), ("乙", "二组"), ("丙", "一组"))
    }
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        for name, points in (("甲", 7), ("乙", 7), ("丙", -4)):
            household = households.get_household(village, found[name])
            rule = rules.rule_by_code(village, "P06" if points > 0 else "M09")
            ledger.make_entry(None, village, household, rule, DAY, points, evidence=True)
        ledger.add_honour(None, households.get_household(village, found["甲"]), "文明家庭", DAY)
        db.session.commit()
    return found


def run(runner, *args):
    return runner.invoke(args=[*args, "--village", "jiangba", "--quarter", str(PAST)])


def test_tally_json_lists_exactly_the_specified_fields_in_rank_order(runner, codes):
    result = run(runner, "tally", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all(list(row) == TALLY_KEYS for row in rows)
    assert codes["甲"] < codes["乙"]  # tied scores are listed by code
    assert rows == [
        {"code": codes["甲"], "head_name": "甲", "group": "一组", "base": 100, "plus": 7, "minus": 0,
         "score": 107, "rank": 1},
        {"code": codes["乙"], "head_name": "乙", "group": "二组", "base": 100, "plus": 7, "minus": 0,
         "score": 107, "rank": 1},
        {"code": codes["丙"], "head_name": "丙", "group": "一组", "base": 100, "plus": 0, "minus": -4,
         "score": 96, "rank": 3},
    ]


def test_tally_csv_has_a_header_row_then_one_row_per_household(runner, codes):
    result = run(runner, "tally", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == TALLY_KEYS
    assert rows[-1] == [codes["丙"], "丙", "一组", "100", "0", "-4", "96", "3"]
    assert len(rows) == 4


def test_tally_table_is_aligned_with_chinese_headings(runner, codes):
    result = run(runner, "tally")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"蒋坝村 {PAST.label}（未公示，实时计算）"
    assert lines[1].split() == ["排名", "户编号", "户主", "小组", "基础分", "加分", "扣分", "季度积分"]
    assert lines[-2].split() == ["3", codes["丙"], "丙", "一组", "100", "0", "-4", "96"]
    assert lines[-1] == "共 3 户"
    # The score column ends at the same place on every line (CJK counted as two columns).
    ends = {len(line) + sum(1 for c in line if ord(c) > 0x2E7F) for line in lines[1:-1]}
    assert len(ends) == 1


def test_lists_json_gives_red_and_black_rows_with_reasons(runner, codes):
    result = run(runner, "lists", "--format", "json")
    assert result.exit_code == 0, result.output
    lists = json.loads(result.output)
    assert list(lists) == ["red", "black"]
    assert all(list(row) == LIST_KEYS for row in lists["red"] + lists["black"])
    red = {row["head_name"]: row["reasons"] for row in lists["red"]}
    assert red == {"甲": ["季度积分排名第1", "获评文明家庭"], "乙": ["季度积分排名第1"]}
    assert lists["black"] == [
        {"code": codes["丙"], "head_name": "丙", "group": "一组", "score": 96, "rank": 3,
         "reasons": ["积分低于基础分（96分）"]},
    ]


def test_lists_table_joins_reasons(runner, codes):
    result = run(runner, "lists")
    assert result.exit_code == 0, result.output
    assert "红榜（2 户）" in result.output and "黑榜（1 户）" in result.output
    assert "季度积分排名第1；获评文明家庭" in result.output


def test_publish_freezes_the_quarter_and_tally_then_prints_the_snapshot(app, runner, codes):
    result = runner.invoke(args=["publish", "--village", "jiangba", "--quarter", str(PAST),
                                 "--notice-days", "3", "--contact", "村委会 王主任"])
    assert result.exit_code == 0, result.output
    ends = dt.date.today() + dt.timedelta(days=2)
    assert f"已公示蒋坝村{PAST.label}（第1版）：3 户，红榜 2 户，黑榜 1 户" in result.output
    assert f"公示期 {dt.date.today()} 至 {ends}，异议联系：村委会 王主任" in result.output
    with app.app_context():
        state = db.session.execute(db.select(QuarterState)).scalar_one()
        assert (state.status, state.version) == ("published", 1)
        villages.get_by_slug("jiangba").base_score = 50
        db.session.commit()

    tally = json.loads(run(runner, "tally", "--format", "json").output)
    assert [row["score"] for row in tally] == [107, 107, 96]
    table = run(runner, "tally").output
    assert table.splitlines()[0].startswith(f"蒋坝村 {PAST.label}（公示中，第1版，公示期")

    again = run(runner, "publish")
    assert again.exit_code == 1
    assert "已在公示中（第1版）" in again.output


def test_publish_uses_the_village_settings_by_default(app, runner, codes):
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        village.notice_days, village.objection_contact = 10, "村委会 李会计"
        db.session.commit()
    result = run(runner, "publish")
    assert result.exit_code == 0, result.output
    ends = dt.date.today() + dt.timedelta(days=9)
    assert f"至 {ends}，异议联系：村委会 李会计" in result.output


def test_bad_quarter_and_unknown_village_are_explained(runner, codes):
    result = runner.invoke(args=["tally", "--village", "jiangba", "--quarter", "2026Q5"])
    assert result.exit_code == 2 and "应写作 2026Q3" in result.output
    result = runner.invoke(args=["lists", "--village", "nowhere", "--quarter", str(PAST)])
    assert result.exit_code == 1 and "找不到村代码为“nowhere”的村" in result.output
    future = Quarter.of(dt.date.today()).next()
    result = runner.invoke(args=["publish", "--village", "jiangba", "--quarter", str(future)])
    assert result.exit_code == 1 and "还没有开始，不能公示" in result.output
