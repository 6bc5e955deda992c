"""The rulebook's own rules: seeded defaults, checks on every change, history kept."""
import datetime as dt

import pytest

from villagepoints import audit, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import AuditEntry
from villagepoints.rules import RuleError, RuleFields

TODAY = dt.date(2026, 8, 15)
IN_Q3 = dt.date(2026, 8, 1)


@pytest.fixture
def village(make_village, ctx):
    """The seeded village, loaded in the test's app context."""
    make_village()
    return villages.get_by_slug("jiangba")


def _new(code="P11", kind="plus", title="植树造林", default=2, lo=1, hi=4, **extra) -> RuleFields:
    return RuleFields(code=code, kind=kind, title=title, default_points=default, min_points=lo, max_points=hi, **extra)


def _audits(action):
    return list(db.session.execute(db.select(AuditEntry).filter_by(action=action)).scalars())


def test_a_new_village_gets_the_twenty_standard_rules_in_order(village):
    seeded = rules.village_rules(village)
    assert [r.code for r in seeded] == [f"P{i:02d}" for i in range(1, 11)] + [f"M{i:02d}" for i in range(1, 11)]
    assert all(r.default_points > 0 for r in seeded[:10]) and all(r.default_points < 0 for r in seeded[10:])
    assert [r.code for r in seeded if r.requires_evidence] == [f"M{i:02d}" for i in range(1, 11)]
    assert [r.code for r in seeded if r.black_list_trigger] == ["M06", "M10"]
    m03 = rules.rule_by_code(village, "m03")
    assert (m03.default_points, m03.min_points, m03.max_points) == (-2, -4, -1)


def test_admin_edit_of_title_and_default_is_audited_with_before_and_after(village):
    p01 = rules.rule_by_code(village, "P01")
    fields = rules.fields_of(p01)
    fields.title, fields.default_points = "  积极参加村民代表会议 ", 3
    assert rules.update_rule(None, p01, fields) is True
    assert (p01.title, p01.default_points) == ("积极参加村民代表会议", 3)
    [entry] = _audits("rule.update")
    assert audit.decode(entry.before) == {"title": "支持村两委工作、积极参加村民会议", "default_points": 2}
    assert audit.decode(entry.after) == {"title": "积极参加村民代表会议", "default_points": 3}
    assert entry.target == "细则 P01 积极参加村民代表会议"


def test_saving_a_rule_unchanged_reports_no_change_and_writes_no_audit(village):
    p01 = rules.rule_by_code(village, "P01")
    assert rules.update_rule(None, p01, rules.fields_of(p01)) is False
    assert _audits("rule.update") == []


def test_a_minus_rule_with_a_positive_range_is_refused_at_the_range(village):
    with pytest.raises(RuleError, match="扣分细则的分值应为负数") as refused:
        rules.create_rule(None, village, _new("M11", "minus", "乱停乱放", default=3, lo=1, hi=5))
    assert refused.value.field == "max_points"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (_new(lo=0), "min_points", "加分细则的分值应为正数"),
        (_new(lo=5, hi=2), "min_points", "下限不能大于上限"),
        (_new(default=9), "default_points", "默认分值应在 1 到 4 之间"),
        (_new(quarter_cap=1), "quarter_cap", "每季度上限不能小于默认分值"),
        (_new(code="P 11"), "code", "细则编号只能用"),
        (_new(title="  "), "title", "细则名称不能为空"),
        (_new(kind="bonus"), "kind", "请选择加分或扣分"),
    ],
)
def test_a_rule_that_breaks_the_rulebook_is_refused_at_the_field(village, fields, field, words):
    with pytest.raises(RuleError, match=words) as refused:
        rules.create_rule(None, village, fields)
    assert refused.value.field == field


def test_a_duplicate_code_is_refused_whatever_its_case(village):
    with pytest.raises(RuleError, match="细则编号“P01”已存在") as refused:
        rules.create_rule(None, village, _new(code="p01"))
    assert refused.value.field == "code"
    p02 = rules.rule_by_code(village, "P02")
    fields = rules.fields_of(p02)
    fields.code = "P01"
    with pytest.raises(RuleError, match="已存在"):
        rules.update_rule(None, p02, fields)


def test_the_same_code_may_be_used_in_another_village(village, make_village):
    db.session.commit()  # let the second village's own context take the write lock
    make_village("新村", "xincun")
    other = villages.get_by_slug("xincun")
    made = rules.create_rule(None, other, _new(code="P11"))
    assert made.village_id == other.id
    assert rules.rule_by_code(village, "P11") is None


def test_a_new_rule_is_stored_with_upper_case_code_and_audited(village):
    made = rules.create_rule(None, village, _new(code=" p11 ", quarter_cap=10, sort_order=21))
    assert made.code == "P11"
    assert rules.village_rules(village)[-1] is made
    [entry] = _audits("rule.create")
    assert audit.decode(entry.after)["quarter_cap"] == 10


def test_deactivating_a_rule_keeps_its_entries_and_refuses_new_ones(village):
    home = create_household(None, village, HouseholdFields(head_name="张三", joined_on=dt.date(2020, 1, 1)))
    m03 = rules.rule_by_code(village, "M03")
    entry = ledger.make_entry(None, village, home, m03, IN_Q3, evidence=True, today=TODAY)
    fields = rules.fields_of(m03)
    fields.title, fields.default_points, fields.min_points, fields.active = "家庭卫生差", -3, -6, False
    rules.update_rule(None, m03, fields)
    db.session.flush()
    db.session.refresh(entry)
    assert (entry.rule_code, entry.rule_title, entry.points) == ("M03", "家庭卫生差、乱堆乱放", -2)
    assert m03 not in rules.village_rules(village, active_only=True)
    with pytest.raises(ledger.RuleInactive, match="已停用"):
        ledger.make_entry(None, village, home, m03, IN_Q3, evidence=True, today=TODAY)
