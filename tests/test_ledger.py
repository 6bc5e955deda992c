"""The ledger obeys DESIGN §3: refusals, review, reversals, scores and balances."""
import datetime as dt

import pytest

from villagepoints import ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household, deactivate_household
from villagepoints.models import Entry, QuarterState, User
from villagepoints.quarters import Quarter

TODAY = dt.date(2026, 8, 15)
IN_Q3 = dt.date(2026, 8, 1)


@pytest.fixture
def world(app, make_village, make_user, ctx):
    """A village with two households, a clerk and a reviewer, all in the test's app context."""
    make_village()
    make_user("clerk1", "clerk")
    make_user("reviewer1", "reviewer")
    village = villages.get_by_slug("jiangba")
    a = create_household(None, village, HouseholdFields(head_name="张三", joined_on=dt.date(2020, 1, 1)))
    b = create_household(None, village, HouseholdFields(head_name="李四", joined_on=dt.date(2020, 1, 1)))
    db.session.commit()
    users = {u.username: u for u in db.session.execute(db.select(User)).scalars()}
    return village, a, b, users["clerk1"], users["reviewer1"]


def rule(village, code):
    return rules.rule_by_code(village, code)


def test_new_village_has_the_twenty_standard_rules(world):
    village = world[0]
    all_rules = rules.village_rules(village)
    assert [r.code for r in all_rules][:3] == ["P01", "P02", "P03"]
    assert len(all_rules) == 20
    m10 = rule(village, "M10")
    assert (m10.default_points, m10.black_list_trigger, m10.requires_evidence) == (-10, True, True)
    assert rule(village, "P07").title == "孝老爱亲、获评文明家庭等荣誉"


def test_entry_waits_for_review_and_counts_only_once_approved(world):
    village, a, _, clerk, reviewer = world
    entry = ledger.make_entry(clerk, village, a, rule(village, "P06"), IN_Q3, today=TODAY)
    assert entry.status == "pending"
    assert ledger.scores_for(a, TODAY).quarter_score == 100
    ledger.approve(reviewer, [entry])
    scores = ledger.scores_for(a, TODAY)
    assert (scores.quarter_score, scores.year_score, scores.balance) == (105, 105, 5)


def test_village_without_review_approves_at_once(world):
    village, a, _, clerk, _ = world
    village.require_review = False
    entry = ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY)
    assert entry.status == "approved"
    assert ledger.scores_for(a, TODAY).quarter_score == 102


def test_nobody_reviews_their_own_entry(world):
    village, a, _, clerk, _ = world
    entry = ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY)
    with pytest.raises(ledger.SelfReview, match="本人录入"):
        ledger.approve(clerk, [entry])
    with pytest.raises(ledger.SelfReview):
        ledger.reject(clerk, [entry], "不对")


def test_reject_needs_a_reason_and_rejected_entries_never_count(world):
    village, a, _, clerk, reviewer = world
    entry = ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY)
    with pytest.raises(ledger.LedgerError, match="理由"):
        ledger.reject(reviewer, [entry], " ")
    ledger.reject(reviewer, [entry], "没有参会记录")
    assert entry.status == "rejected" and entry.review_note == "没有参会记录"
    assert ledger.scores_for(a, TODAY).balance == 0
    with pytest.raises(ledger.NotPending):
        ledger.approve(reviewer, [entry])


@pytest.mark.parametrize(
    "code, points, day, words",
    [
        ("P01", 7, IN_Q3, "分值应在 1 到 4 之间"),
        ("P01", -2, IN_Q3, "加分项"),
        ("M01", 3, IN_Q3, "扣分项"),
        ("P01", 2, dt.date(2026, 8, 16), "今天之后"),
    ],
)
def test_bad_entries_are_refused_naming_household_and_rule(world, code, points, day, words):
    village, a, _, clerk, _ = world
    with pytest.raises(ledger.LedgerError, match=words):
        ledger.make_entry(clerk, village, a, rule(village, code), day, points, evidence=True, today=TODAY)
    assert db.session.execute(db.select(db.func.count(Entry.id))).scalar_one() == 0


def test_minus_rule_needs_evidence(world):
    village, a, _, clerk, _ = world
    with pytest.raises(ledger.EvidenceRequired, match="照片"):
        ledger.make_entry(clerk, village, a, rule(village, "M03"), IN_Q3, today=TODAY)
    entry = ledger.make_entry(clerk, village, a, rule(village, "M03"), IN_Q3, evidence=True, today=TODAY)
    assert entry.points == -2


def test_inactive_household_and_rule_are_refused(world):
    village, a, b, clerk, _ = world
    deactivate_household(None, a, dt.date(2026, 7, 1), "moved")
    with pytest.raises(ledger.HouseholdInactive, match="张三"):
        ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY)
    p02 = rule(village, "P02")
    p02.active = False
    with pytest.raises(ledger.RuleInactive, match="P02"):
        ledger.make_entry(clerk, village, b, p02, IN_Q3, today=TODAY)


def test_quarter_cap_counts_pending_entries_too(world):
    village, a, b, clerk, _ = world
    p03 = rule(village, "P03")
    p03.quarter_cap = 4
    ledger.make_entry(clerk, village, a, p03, IN_Q3, today=TODAY)
    ledger.make_entry(clerk, village, a, p03, IN_Q3, today=TODAY)
    with pytest.raises(ledger.CapExceeded, match="上限 4"):
        ledger.make_entry(clerk, village, a, p03, IN_Q3, today=TODAY)
    # Another quarter, and another household, start from nothing.
    ledger.make_entry(clerk, village, a, p03, dt.date(2026, 6, 30), today=TODAY)
    ledger.make_entry(clerk, village, b, p03, IN_Q3, today=TODAY)


def test_published_quarter_refuses_entries_and_names_it(world):
    village, a, _, clerk, _ = world
    db.session.add(QuarterState(village_id=village.id, quarter="2026Q3", status="published", version=1))
    with pytest.raises(ledger.QuarterLocked, match="2026年第三季度"):
        ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY)
    ledger.make_entry(clerk, village, a, rule(village, "P01"), dt.date(2026, 6, 1), today=TODAY)


def test_author_may_edit_or_withdraw_a_pending_entry_but_nobody_else(world):
    village, a, _, clerk, reviewer = world
    entry = ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY)
    with pytest.raises(ledger.NotAllowed):
        ledger.withdraw(reviewer, entry)
    ledger.edit_pending(clerk, entry, rule(village, "P05"), IN_Q3, 4, "调解成功", today=TODAY)
    assert (entry.rule_code, entry.points, entry.note) == ("P05", 4, "调解成功")
    ledger.withdraw(clerk, entry)
    assert entry.status == "withdrawn"
    with pytest.raises(ledger.NotPending):
        ledger.edit_pending(clerk, entry, rule(village, "P05"), IN_Q3, 3, "", today=TODAY)


def test_reversal_cancels_exactly_once_and_cannot_itself_be_reversed(world):
    village, a, _, clerk, reviewer = world
    entry = ledger.make_entry(clerk, village, a, rule(village, "P06"), IN_Q3, 8, today=TODAY)
    ledger.approve(reviewer, [entry])
    with pytest.raises(ledger.ReversalRefused, match="理由"):
        ledger.reverse(reviewer, entry, "")
    reversal = ledger.reverse(reviewer, entry, "记错了户")
    assert (reversal.points, reversal.entry_date, reversal.status) == (-8, IN_Q3, "pending")
    with pytest.raises(ledger.ReversalRefused, match="重复冲正"):
        ledger.reverse(reviewer, entry, "再来一次")
    ledger.approve(clerk, [reversal])
    assert ledger.scores_for(a, TODAY).balance == 0
    with pytest.raises(ledger.ReversalRefused, match="本身是冲正"):
        ledger.reverse(reviewer, reversal, "反冲")
    assert entry.status == "approved" and entry.points == 8


def test_editing_a_rule_never_changes_entries_already_made(world):
    village, a, _, clerk, _ = world
    p01 = rule(village, "P01")
    entry = ledger.make_entry(clerk, village, a, p01, IN_Q3, today=TODAY)
    fields = rules.fields_of(p01)
    fields.title, fields.default_points, fields.max_points = "新名称", 3, 6
    rules.update_rule(None, p01, fields)
    db.session.flush()
    db.session.refresh(entry)
    assert (entry.rule_title, entry.points) == ("支持村两委工作、积极参加村民会议", 2)


def test_bulk_entry_is_all_or_nothing(world):
    village, a, b, clerk, _ = world
    made = ledger.bulk_entry(clerk, village, [a, b], rule(village, "P03"), IN_Q3, today=TODAY)
    assert len(made) == 2
    deactivate_household(None, b, dt.date(2026, 8, 2), "moved")
    count = db.session.execute(db.select(db.func.count(Entry.id))).scalar_one()
    with pytest.raises(ledger.HouseholdInactive, match="李四"):
        ledger.bulk_entry(clerk, village, [a, b], rule(village, "P03"), dt.date(2026, 8, 10), today=TODAY)
    assert db.session.execute(db.select(db.func.count(Entry.id))).scalar_one() == count


def test_bulk_entry_respects_caps_per_household(world):
    village, a, b, clerk, _ = world
    p03 = rule(village, "P03")
    p03.quarter_cap = 2
    ledger.make_entry(clerk, village, a, p03, IN_Q3, today=TODAY)
    with pytest.raises(ledger.CapExceeded, match="张三"):
        ledger.bulk_entry(clerk, village, [a, b], p03, IN_Q3, today=TODAY)


def test_aid_suspension_needs_an_ordered_period(world):
    _, a, _, clerk, _ = world
    with pytest.raises(ledger.LedgerError, match="不能早于"):
        ledger.add_aid_suspension(clerk, a, dt.date(2026, 8, 1), dt.date(2026, 7, 1), "不配合")
    s = ledger.add_aid_suspension(clerk, a, dt.date(2026, 7, 1), dt.date(2026, 9, 30), "不配合整治")
    h = ledger.add_honour(clerk, a, "文明家庭", dt.date(2026, 7, 5), "镇政府")
    assert s.id and h.id


def test_quarter_arithmetic():
    q = Quarter.parse("2026q3")
    assert (q.first_day, q.last_day, q.label) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026年第三季度")
    assert str(Quarter.of(dt.date(2026, 12, 31))) == "2026Q4"
    assert Quarter.parse("2026Q4").next() == Quarter(2027, 1)


def test_a_resubmitted_form_token_saves_nothing_twice(world):
    village, a, b, clerk, _ = world
    first = ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY, token="tok-1")
    with pytest.raises(ledger.DuplicateSubmission, match="已经保存过") as caught:
        ledger.make_entry(clerk, village, a, rule(village, "P01"), IN_Q3, today=TODAY, token="tok-1")
    assert caught.value.entries == [first]
    made = ledger.bulk_entry(clerk, village, [a, b], rule(village, "P03"), IN_Q3, today=TODAY, token="tok-2")
    with pytest.raises(ledger.DuplicateSubmission, match="2 条"):
        ledger.bulk_entry(clerk, village, [a, b], rule(village, "P03"), IN_Q3, today=TODAY, token="tok-2")
    assert db.session.execute(db.select(db.func.count(Entry.id))).scalar_one() == 1 + len(made)
