"""Townships: which villages they hold, who reaches them, and the township roll-up."""
import datetime as dt
import json

import pytest

from villagepoints import accounts, rollup, rules, townships, villages
from villagepoints.extensions import db
from villagepoints.lists import quarter_lists
from villagepoints.models import Entry, Household, Redemption
from villagepoints.publication import current_publication, snapshot_of
from villagepoints.tally import quarter_tally
import township_world as world
from township_world import Q3, Q4


@pytest.fixture
def built(app, ctx):
    world.build()
    return app


def test_a_village_belongs_to_at_most_one_township(app, ctx, make_village):
    make_village("甲村", "jia")
    east = townships.create_township(None, "东乡镇", "dongxiang", ["jia"])
    with pytest.raises(townships.TownshipError, match="甲村已属于东乡镇"):
        townships.create_township(None, "北乡镇", "beixiang", ["jia"])
    db.session.rollback()
    assert villages.get_by_slug("jia").township_id is None or villages.get_by_slug("jia").township.slug == "dongxiang"
    del east


def test_add_township_command_creates_and_changes_the_villages(app, runner, make_village):
    for slug, name in (("jia", "甲村"), ("yi", "乙村"), ("bing", "丙村")):
        make_village(name, slug)
    result = runner.invoke(args=["add-township", "东乡镇", "--slug", "dongxiang", "--villages", "jia,yi"])
    assert result.exit_code == 0, result.output
    assert "2 个村：甲村、乙村" in result.output
    result = runner.invoke(args=["add-township", "东乡镇", "--slug", "dongxiang",
                                 "--add-village", "bing", "--remove-village", "jia"])
    assert result.exit_code == 0, result.output
    assert "2 个村：乙村、丙村" in result.output
    result = runner.invoke(args=["add-township", "北乡镇", "--slug", "beixiang", "--villages", "yi"])
    assert result.exit_code != 0
    assert "乙村已属于东乡镇" in result.output
    result = runner.invoke(args=["add-township", "北乡镇", "--slug", "beixiang", "--villages", "nowhere"])
    assert "找不到村代码为“nowhere”的村" in result.output
    with app.app_context():
        assert townships.get_by_slug("beixiang") is None
        assert [v.slug for v in townships.villages_of(townships.get_by_slug("dongxiang"))] == ["yi", "bing"]


def test_township_users_reach_exactly_their_townships_villages(built):
    world.add_user("tv", "township_viewer", "dongxiang")
    viewer = db.session.execute(db.select(accounts.User).filter_by(username="tv")).scalar_one()
    assert [v.slug for v in villages.villages_for(viewer)] == ["dongcun", "nancun", "xicun"]
    assert viewer.can_access(villages.get_by_slug("nancun"))
    assert not viewer.can_access(villages.get_by_slug("beicun"))
    assert not viewer.has_role("clerk") and not viewer.has_role("admin")
    # A village moved out of the township is out of reach at once.
    townships.remove_villages(None, townships.get_by_slug("dongxiang"), ["nancun"])
    assert not viewer.can_access(villages.get_by_slug("nancun"))


def test_a_township_admin_acts_as_admin_only_inside_its_township(built):
    world.add_user("ta", "township_admin", "beixiang")
    admin = db.session.execute(db.select(accounts.User).filter_by(username="ta")).scalar_one()
    assert admin.has_role("admin") and admin.has_role("reviewer")
    assert not admin.is_admin
    assert admin.can_access(villages.get_by_slug("beicun"))
    assert not admin.can_access(villages.get_by_slug("dongcun"))


def test_a_township_admin_may_not_hand_out_villages_or_roles_beyond_its_own(built):
    world.add_user("ta", "township_admin", "beixiang")
    admin = db.session.execute(db.select(accounts.User).filter_by(username="ta")).scalar_one()
    with pytest.raises(accounts.AccountError, match="东村不属于您的乡镇"):
        accounts.create_user(admin, "c1", world.PASSWORD, "clerk", [villages.get_by_slug("dongcun")])
    with pytest.raises(accounts.AccountError, match="您不能设置“管理员”角色"):
        accounts.create_user(admin, "c2", world.PASSWORD, "admin")
    viewer = accounts.create_user(admin, "c3", world.PASSWORD, "township_viewer",
                                  township=townships.get_by_slug("dongxiang"))
    # Whatever township is asked for, its own is the one it can give.
    assert viewer.township.slug == "beixiang"


def test_township_roles_need_a_township_and_no_village_list(built):
    with pytest.raises(accounts.AccountError, match="乡镇只读用户要指定所属乡镇"):
        accounts.create_user(None, "x", world.PASSWORD, "township_viewer")
    with pytest.raises(accounts.AccountError, match="不用再勾选村"):
        accounts.create_user(None, "y", world.PASSWORD, "township_viewer", [villages.get_by_slug("beicun")],
                             township=townships.get_by_slug("beixiang"))


# -- the roll-up --------------------------------------------------------------------------

def _recomputed(village, quarter):
    """The roll-up row of one village worked out from its entries (or its frozen snapshot),
    household by household, without the roll-up's SQL."""
    first, last = quarter.first_day, quarter.last_day
    counted = [h for h in db.session.execute(db.select(Household).filter_by(village_id=village.id)).scalars()
               if (h.joined_on is None or h.joined_on <= last) and (h.deactivated_on is None or h.deactivated_on >= first)]
    entries = world.entries_of(village)
    approved = [e for e in entries if e.status == "approved" and first <= e.entry_date <= last]
    participating = len({e.household_id for e in approved} & {h.id for h in counted})
    publication = current_publication(village, quarter)
    if publication is not None:
        snap = snapshot_of(publication)
        scores = [r["score"] for r in snap["tally"]]
        red, black = len(snap["red"]), len(snap["black"])
    else:
        scores = [village.base_score + sum(e.points for e in approved if e.household_id == h.id) for h in counted]
        made = quarter_lists(village, quarter, quarter_tally(village, quarter))
        red, black = len(made.red), len(made.black)
    redemptions = db.session.execute(db.select(Redemption).filter_by(village_id=village.id)).scalars()
    return {
        "village": village.slug, "name": village.name, "households": len(scores),
        "participating": participating,
        "participation_rate": round(participating / len(counted), 4),
        "average_score": round(sum(scores) / len(scores), 2),
        "below_base": sum(1 for s in scores if s < village.base_score),
        "red": red, "black": black,
        "pending": sum(1 for e in entries if e.status == "pending" and first <= e.entry_date <= last),
        "published": publication.version if publication else None,
        "redeemed_points": sum(r.total_points for r in redemptions
                               if r.voided_at is None and first <= r.redeemed_on <= last),
    }


@pytest.mark.parametrize("quarter", [Q3, Q4])
def test_township_command_numbers_equal_a_recomputation_from_the_entries(built, runner, quarter):
    result = runner.invoke(args=["township", "--township", "dongxiang", "--quarter", str(quarter), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    expected = [_recomputed(villages.get_by_slug(s), quarter) for s in ("dongcun", "nancun", "xicun")]
    assert rows == expected
    # The world has every kind of number in it, so the comparison means something.
    assert all(r["red"] and r["black"] and r["participating"] for r in rows)
    if quarter == Q4:
        assert all(r["pending"] == 1 and r["redeemed_points"] == 10 for r in rows)


def test_a_published_quarter_shows_its_frozen_numbers_not_later_entries(built, runner):
    dongcun = villages.get_by_slug("dongcun")
    before = {r.village: r for r in rollup.village_rows([dongcun], Q3)}["dongcun"]
    assert before.published == 1
    # An entry slipped into the published quarter behind the ledger's back (as a restore might):
    # the village pages keep showing the snapshot, and so does the township.
    h = db.session.execute(db.select(Household).filter_by(village_id=dongcun.id, status="active")).scalars().first()
    rule = rules.rule_by_code(dongcun, "M10")
    db.session.add(Entry(village_id=dongcun.id, household_id=h.id, rule_id=rule.id, rule_code="M10",
                         rule_title=rule.title, kind="minus", points=-50, entry_date=dt.date(2026, 8, 1),
                         status="approved"))
    db.session.commit()
    after = rollup.village_rows([dongcun], Q3)[0]
    assert (after.average_score, after.below_base, after.black) == (before.average_score, before.below_base, before.black)


def test_township_command_prints_csv_and_a_table_in_words(built, runner):
    result = runner.invoke(args=["township", "--township", "beixiang", "--quarter", "2026Q3", "--format", "csv"])
    lines = result.output.splitlines()
    assert lines[0] == ",".join(rollup.FIELDS)
    assert lines[1].startswith("beicun,北村,")
    result = runner.invoke(args=["township", "--township", "dongxiang", "--quarter", "2026Q3"])
    assert "东乡镇 2026年第三季度" in result.output
    assert "第1版" in result.output and "未公示" in result.output
    result = runner.invoke(args=["township", "--township", "nowhere", "--quarter", "2026Q3"])
    assert "找不到乡镇代码为“nowhere”的乡镇" in result.output
    result = runner.invoke(args=["township", "--township", "beixiang", "--quarter", "2026-3"])
    assert "格式不对" in result.output


def test_township_household_ranking_masks_black_names_by_each_villages_policy(built):
    villages_ = townships.villages_of(townships.get_by_slug("dongxiang"))
    _rows, best, black = rollup.dashboard(villages_, Q4, top=5)
    assert len(best) >= 5 and best[0].rank == 1
    assert [b.score for b in best] == sorted((b.score for b in best), reverse=True)
    by_village = {}
    for row in black:
        by_village.setdefault(row.village, []).append(row)
    assert set(by_village) == {"dongcun", "nancun", "xicun"}
    assert all(r.head_name.endswith("某户") and r.code == "" for r in by_village["xicun"])
    assert all("*" in r.head_name and r.code == "" for r in by_village["dongcun"])
    real = {h.head_name for h in db.session.execute(db.select(Household)).scalars()}
    assert all(r.head_name in real and r.code for r in by_village["nancun"])
    assert all(r.reasons for r in black)


def test_participation_history_matches_each_quarters_roll_up(built):
    villages_ = townships.villages_of(townships.get_by_slug("dongxiang"))
    history = rollup.participation_history(villages_, [Q3.previous(), Q3, Q4])
    for quarter, column in ((Q3, 1), (Q4, 2)):
        for row in rollup.village_rows(villages_, quarter):
            assert history[row.village][column] == row.participation_rate
    # In the second quarter only the household saving up for the store earned points.
    assert all(rates[0] > 0 for rates in history.values())


@pytest.mark.parametrize("quarter", [Q3, Q4])
def test_dashboard_in_one_pass_gives_the_same_rows_as_the_roll_up(built, quarter):
    villages_ = townships.villages_of(townships.get_by_slug("dongxiang"))
    rows, best, black = rollup.dashboard(villages_, quarter, top=3)
    assert [r.as_dict() for r in rows] == [r.as_dict() for r in rollup.village_rows(villages_, quarter)]
    assert [r.rank for r in rows] == [r.rank for r in rollup.village_rows(villages_, quarter)]
    # The black list holds every village's black list, published or live.
    assert len(black) == sum(r.black for r in rows)
    assert best and all(b.rank <= 3 for b in best)
