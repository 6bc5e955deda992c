"""Publishing a quarter: frozen snapshots, versions, objections, reopening, closing (DESIGN §5)."""
import datetime as dt

import pytest

from villagepoints import annual, ledger, publication, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.quarters import Quarter

Q3 = Quarter(2026, 3)
DAY = dt.date(2026, 8, 1)
PUBLISH_DAY = dt.date(2026, 10, 8)


@pytest.fixture
def village(app, make_village, ctx):
    make_village(require_review=False)
    v = villages.get_by_slug("jiangba")
    v.objection_contact = "村委会 王主任 13800138000"
    db.session.commit()
    return v


def add(village, name, points=0, day=DAY):
    h = create_household(None, village, HouseholdFields(head_name=name, joined_on=dt.date(2020, 1, 1)))
    if points:
        code = "P06" if points > 0 else "M09"
        ledger.make_entry(None, village, h, rules.rule_by_code(village, code), day, points, evidence=True,
                          today=dt.date(2026, 12, 31))
    return h


def test_publishing_freezes_the_snapshot_and_locks_the_quarter(village):
    a = add(village, "张三", 8)
    pub = publication.publish(None, village, Q3, today=PUBLISH_DAY)
    assert (pub.version, pub.notice_ends_on, pub.contact) == (1, dt.date(2026, 10, 14), "村委会 王主任 13800138000")
    snap = publication.snapshot_of(pub)
    assert snap["tally"][0]["score"] == 108 and snap["red"][0]["head_name"] == "张三"
    with pytest.raises(ledger.QuarterLocked, match="2026年第三季度"):
        add(village, "李四", 5)
    # A change outside the quarter (and the base score) never alters the frozen numbers.
    ledger.make_entry(None, village, a, rules.rule_by_code(village, "P06"), dt.date(2026, 10, 2), 9,
                      today=dt.date(2026, 12, 31))
    village.base_score = 50
    assert publication.snapshot_of(publication.current_publication(village, Q3))["tally"][0]["score"] == 108


def test_publishing_refuses_pending_entries_and_double_publication(village):
    village.require_review = True
    add(village, "张三", 5)
    with pytest.raises(publication.PublicationError, match="1 条积分记录待审核"):
        publication.publish(None, village, Q3, today=PUBLISH_DAY)
    village.require_review = False
    with pytest.raises(publication.PublicationError, match="还没有开始"):
        publication.publish(None, village, Quarter(2027, 1), today=PUBLISH_DAY)


def test_reopen_keeps_the_old_snapshot_and_next_publication_is_version_2(village):
    a = add(village, "张三", 8)
    v1 = publication.publish(None, village, Q3, today=PUBLISH_DAY)
    with pytest.raises(publication.PublicationError, match="理由"):
        publication.reopen(None, village, Q3, "")
    publication.reopen(None, village, Q3, "张三的分数录错")
    entry = db.session.execute(db.select(ledger.Entry).filter_by(household_id=a.id)).scalar_one()
    ledger.reverse(None, entry, "录错")
    v2 = publication.publish(None, village, Q3, today=dt.date(2026, 10, 10))
    assert (v1.status, v1.superseded_reason, v2.version) == ("superseded", "张三的分数录错", 2)
    assert publication.snapshot_of(v1)["tally"][0]["score"] == 108
    assert publication.snapshot_of(v2)["tally"][0]["score"] == 100
    assert [p.version for p in publication.publications_of(village, Q3)] == [2, 1]


def test_objection_upheld_links_its_correction_and_quarter_republishes(village):
    a = add(village, "张三", -5)
    pub = publication.publish(None, village, Q3, today=PUBLISH_DAY)
    with pytest.raises(publication.PublicationError, match="今天不在公示期内"):
        publication.raise_objection(None, village, Q3, a, "张三", "我没有违规", today=dt.date(2026, 10, 20))
    objection = publication.raise_objection(None, village, Q3, a, "张三", "我没有违规", today=dt.date(2026, 10, 9))
    with pytest.raises(publication.PublicationError, match="还有 1 条异议"):
        publication.close(None, village, Q3, today=dt.date(2026, 10, 20))
    with pytest.raises(publication.PublicationError, match="选择更正"):
        publication.answer_objection(None, objection, True, "核实属实")
    publication.reopen(None, village, Q3, "异议成立")
    wrong = db.session.execute(db.select(ledger.Entry).filter_by(household_id=a.id)).scalar_one()
    fix = ledger.reverse(None, wrong, "异议成立，冲正")
    publication.answer_objection(None, objection, True, "核实属实，已冲正", fix)
    assert (objection.status, objection.correcting_entry_id, objection.publication_id) == ("upheld", fix.id, pub.id)
    v2 = publication.publish(None, village, Q3, today=dt.date(2026, 10, 12))
    assert publication.snapshot_of(v2)["black"] == []


def test_close_only_after_the_notice_period(village):
    add(village, "张三", 3)
    publication.publish(None, village, Q3, notice_days=7, today=PUBLISH_DAY)
    with pytest.raises(publication.PublicationError, match="2026-10-14"):
        publication.close(None, village, Q3, today=dt.date(2026, 10, 14))
    publication.close(None, village, Q3, today=dt.date(2026, 10, 15))
    with pytest.raises(ledger.QuarterLocked, match="已结束"):
        add(village, "李四", 2)
    with pytest.raises(publication.PublicationError, match="已结束"):
        publication.publish(None, village, Q3, today=dt.date(2026, 10, 16))


def test_priority_list_puts_black_listed_households_last_and_rates_stars(village):
    top = add(village, "甲", 9)
    add(village, "乙", 4)
    low = add(village, "丙", -2)
    ledger.add_honour(None, low, "文明家庭", dt.date(2026, 8, 8))
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    annual.set_star_bands(None, village, 2026, [(1, 100), (3, 108)])
    rows = annual.year_rows(village, 2026)
    assert [(r.head_name, r.priority, r.red_count, r.black_count, r.stars) for r in rows] == [
        ("甲", 1, 1, 0, 3), ("乙", 2, 1, 0, 1), ("丙", 3, 0, 1, 0),
    ]
    with pytest.raises(annual.AnnualError, match="高于"):
        annual.set_star_bands(None, village, 2026, [(1, 100), (2, 90)])
    assert top.id


def test_publish_preview_says_what_will_be_frozen_and_warns_of_the_days_left(village):
    """On 1 December the fourth quarter still has 30 days, and publishing would lock them."""
    q4 = Quarter(2026, 4)
    for name, points in (("张三", 8), ("李四", -3), ("王五", 0)):
        add(village, name, points, day=dt.date(2026, 11, 5))
    preview = publication.publish_preview(village, q4, today=dt.date(2026, 12, 1))
    assert (preview.version, preview.households, preview.entries, preview.red, preview.black) == (1, 3, 2, 1, 1)
    assert preview.days_left == 30
    assert preview.warning == "本季度还有 30 天才结束，公示后这 30 天不能再记分"
    # Nothing is written by looking.
    assert publication.current_publication(village, q4) is None


def test_publish_preview_has_no_warning_once_the_quarter_is_over_and_names_the_next_version(village):
    add(village, "张三", 8)
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    publication.reopen(None, village, Q3, "更正")
    preview = publication.publish_preview(village, Q3, today=dt.date(2026, 10, 1))
    assert (preview.version, preview.days_left, preview.warning) == (2, 0, "")


def test_publish_preview_refuses_what_publishing_would_refuse(village):
    publication.publish(None, village, Q3, today=PUBLISH_DAY)
    with pytest.raises(publication.PublicationError, match="2026年第三季度已在公示中"):
        publication.publish_preview(village, Q3, today=PUBLISH_DAY)
    with pytest.raises(publication.PublicationError, match="还没有开始"):
        publication.publish_preview(village, Quarter(2027, 1), today=PUBLISH_DAY)


def test_publishing_refuses_a_notice_without_an_objection_contact(village):
    village.objection_contact = ""
    with pytest.raises(publication.PublicationError, match="请填写异议联系人及电话") as refused:
        publication.publish(None, village, Q3, today=PUBLISH_DAY)
    assert refused.value.field == "contact"
    with pytest.raises(publication.PublicationError, match="请填写异议联系人及电话"):
        publication.publish(None, village, Q3, contact="   ", today=PUBLISH_DAY)
    assert publication.publish(None, village, Q3, contact="村委会 李会计", today=PUBLISH_DAY).contact == "村委会 李会计"
