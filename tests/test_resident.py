"""What residents see without logging in: the public board and their own household's lookup."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from villagepoints import ledger, publication, resident, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import Household, Village
from villagepoints.personal_data import id_check_char
from villagepoints.quarters import Quarter

Q2 = Quarter(2026, 2)
Q3 = Quarter(2026, 3)
PUBLISH_DAY = dt.date(2026, 10, 8)
LATER = dt.date(2026, 12, 31)


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


# name, group, points in Q3, ID number, phone
PEOPLE = (
    ("张三", "一组", 8, id_number("52273119650312001"), "13900001111"),
    ("李四", "二组", 5, id_number("52273119720815002"), "13900002222"),
    ("赵六", "二组", 0, id_number("52273119800101003"), "13900003333"),
    ("王五", "三组", -5, id_number("52273119881111004"), "13900004444"),
)


@dataclass
class Scheme:
    village: Village
    people: dict[str, Household]

    def publish(self, quarter: Quarter = Q3, today: dt.date = PUBLISH_DAY):
        return publication.publish(None, self.village, quarter, today=today)


def award(village: Village, household: Household, points: int, day: dt.date = dt.date(2026, 8, 1)) -> None:
    rule = rules.rule_by_code(village, "P06" if points > 0 else "M09")
    ledger.make_entry(None, village, household, rule, day, points, evidence=True, today=LATER)


@pytest.fixture
def scheme(make_village, ctx) -> Scheme:
    make_village(require_review=False)
    village = villages.get_by_slug("jiangba")
    village.objection_contact = "村委会 王主任"
    people = {}
    for name, group, points, idn, phone in PEOPLE:
        h = create_household(None, village, HouseholdFields(
            head_name=name, group=villages.find_group(village, group), id_number=idn, phone=phone,
            joined_on=dt.date(2020, 1, 1),
        ))
        if points:
            award(village, h, points)
        people[name] = h
    db.session.commit()
    return Scheme(village, people)


def names(rows: list[dict]) -> list[str]:
    return [r["head_name"] for r in rows]


def test_board_is_empty_until_a_quarter_is_published(scheme):
    assert resident.board(scheme.village) is None


def test_board_shows_the_quarter_version_and_whether_the_notice_is_open(scheme):
    scheme.publish()
    shown = resident.board(scheme.village, today=dt.date(2026, 10, 14))
    assert (shown["label"], shown["version"], shown["contact"]) == ("2026年第三季度", 1, "村委会 王主任")
    assert (shown["notice_starts_on"], shown["notice_ends_on"]) == (PUBLISH_DAY, dt.date(2026, 10, 14))
    assert shown["notice_open"] is True
    assert resident.board(scheme.village, today=dt.date(2026, 10, 15))["notice_open"] is False


def test_board_ranks_every_household_and_names_the_red_list_in_full(scheme):
    scheme.publish()
    shown = resident.board(scheme.village)
    assert [(r["rank"], r["score"]) for r in shown["ranking"]] == [(1, 108), (2, 105), (3, 100), (4, 95)]
    assert names(shown["red"]) == ["张三", "李四"]
    assert shown["red"][0]["reasons"] == ["季度积分排名第1"]
    assert shown["red"][0]["code"] == scheme.people["张三"].code


@pytest.mark.parametrize(
    ("naming", "shown_name", "code_shown"),
    [("full", "王五", True), ("masked", "王*", False), ("group", "三组某户", False)],
)
def test_black_list_names_households_as_the_village_chose(scheme, naming, shown_name, code_shown):
    scheme.village.black_naming = naming
    scheme.publish()
    shown = resident.board(scheme.village)
    [black] = shown["black"]
    code = scheme.people["王五"].code
    assert (black["head_name"], black["group"]) == (shown_name, "三组")
    assert black["reasons"] == ["积分低于基础分（95分）"]
    assert (black["code"] == code) is code_shown
    # The ranking row of the same household must not give the full name away.
    last = shown["ranking"][-1]
    assert (last["head_name"], last["score"]) == (shown_name, 95)
    if naming != "full":
        assert "王五" not in repr(shown) and code not in repr(shown)


def test_board_holds_names_groups_and_codes_but_no_id_number_or_phone(scheme):
    scheme.publish()
    shown = resident.board(scheme.village)
    assert set(shown["ranking"][0]) == {"code", "head_name", "group", "score", "rank"}
    assert {k for row in shown["red"] + shown["black"] for k in row} == {
        "code", "head_name", "group", "score", "rank", "reasons"
    }
    text = repr(shown)
    for _name, _group, _points, idn, phone in PEOPLE:
        assert idn not in text and idn[-4:] not in text and phone not in text


def test_board_shows_the_newest_quarter_and_version_only(scheme):
    award(scheme.village, scheme.people["赵六"], 9, day=dt.date(2026, 5, 1))
    scheme.publish(Q2, today=dt.date(2026, 7, 2))
    scheme.publish()
    publication.reopen(None, scheme.village, Q3, "王五的扣分有误")
    assert resident.board(scheme.village)["label"] == "2026年第二季度"
    scheme.publish(today=dt.date(2026, 10, 10))
    shown = resident.board(scheme.village)
    assert (shown["label"], shown["version"]) == ("2026年第三季度", 2)


def test_lookup_with_the_right_tail_shows_published_scores_lists_and_balance(scheme):
    wang = scheme.people["王五"]
    # An entry outside any published quarter counts in the balance but not in the scores.
    award(scheme.village, wang, 3, day=dt.date(2026, 11, 2))
    scheme.publish()
    found = resident.lookup(scheme.village, wang.code, wang.id_number[-4:], "10.0.0.1")
    assert (found.code, found.head_name, found.group, found.balance) == (wang.code, "王五", "三组", -2)
    [quarter] = found.quarters
    assert (quarter["label"], quarter["score"], quarter["rank"], quarter["households"]) == ("2026年第三季度", 95, 4, 4)
    assert (quarter["plus"], quarter["minus"], quarter["red"], quarter["black"]) == (0, -5, None, ["积分低于基础分（95分）"])

    zhang = scheme.people["张三"]
    found = resident.lookup(scheme.village, f" {zhang.code} ", zhang.id_number[-4:].lower(), "10.0.0.1")
    assert found.balance == 8 and found.quarters[0]["red"] == ["季度积分排名第1"]


def test_lookup_before_any_publication_shows_only_the_balance(scheme):
    zhang = scheme.people["张三"]
    found = resident.lookup(scheme.village, zhang.code, zhang.id_number[-4:], "10.0.0.1")
    assert (found.balance, found.quarters) == (8, [])


def test_wrong_tail_and_unknown_code_get_the_same_message(scheme):
    zhang = scheme.people["张三"]
    with pytest.raises(resident.LookupRefused) as wrong_tail:
        resident.lookup(scheme.village, zhang.code, "0000", "10.0.0.1")
    with pytest.raises(resident.LookupRefused) as unknown_code:
        resident.lookup(scheme.village, "99999", zhang.id_number[-4:], "10.0.0.1")
    assert str(wrong_tail.value) == str(unknown_code.value) == "户编号或身份证号后4位不对，请核对后再查"


def test_lookup_is_refused_after_5_wrong_tries_even_with_the_right_tail(scheme):
    zhang = scheme.people["张三"]
    for attempt in range(5):
        # Each try from a new address: the household's own limit is what stops the guessing.
        with pytest.raises(resident.LookupRefused, match="不对"):
            resident.lookup(scheme.village, zhang.code, f"{attempt:04d}", f"10.0.0.{attempt}")
    with pytest.raises(resident.LookupThrottled, match="查询次数过多，请15分钟后再试"):
        resident.lookup(scheme.village, zhang.code, zhang.id_number[-4:], "10.0.1.1")
    # Other households are still open to their own members.
    li = scheme.people["李四"]
    assert resident.lookup(scheme.village, li.code, li.id_number[-4:], "10.0.1.1").head_name == "李四"


def test_a_right_lookup_forgets_the_households_earlier_mistakes(scheme):
    zhang = scheme.people["张三"]
    for _ in range(4):
        with pytest.raises(resident.LookupRefused):
            resident.lookup(scheme.village, zhang.code, "0000", "10.0.0.1")
    resident.lookup(scheme.village, zhang.code, zhang.id_number[-4:], "10.0.0.1")
    with pytest.raises(resident.LookupRefused, match="不对"):
        resident.lookup(scheme.village, zhang.code, "0000", "10.0.0.1")


def test_one_address_guessing_across_households_is_refused(scheme):
    for n in range(resident.LOOKUP_PER_ADDRESS):
        with pytest.raises(resident.LookupRefused, match="不对"):
            resident.lookup(scheme.village, f"X{n}", "0000", "10.9.9.9")
    zhang = scheme.people["张三"]
    with pytest.raises(resident.LookupThrottled):
        resident.lookup(scheme.village, zhang.code, zhang.id_number[-4:], "10.9.9.9")
    assert resident.lookup(scheme.village, zhang.code, zhang.id_number[-4:], "10.9.9.10").head_name == "张三"
