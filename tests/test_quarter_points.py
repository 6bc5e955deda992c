"""The quarter sums the database keeps (quarter_points) always equal the entries they sum.

Every test of the suite also checks this when it ends (conftest's ``app`` fixture); these
tests walk each way an entry reaches or leaves "approved", writes made behind the
application's back, the check-tallies command, and reviewers approving at once.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text

from concurrency import at_once
from store_world import TODAY, build, home
from villagepoints import accounts, ledger, quarter_points, rules, tally
from villagepoints.extensions import db
from villagepoints.models import Entry, Household, QuarterPoints, User, Village
from villagepoints.quarters import Quarter

Q3 = Quarter.of(TODAY)
Q2 = Quarter(TODAY.year, 2)


def _scores_from_entries(village: Village, quarter: Quarter) -> dict[int, int]:
    """Each household's quarter score summed straight from its approved entries."""
    out = {}
    for household in db.session.execute(db.select(Household).where(Household.village_id == village.id)).scalars():
        out[household.id] = village.base_score + sum(
            e.points for e in db.session.execute(db.select(Entry).where(
                Entry.household_id == household.id, Entry.status == "approved",
                Entry.entry_date.between(quarter.first_day, quarter.last_day),
            )).scalars()
        )
    return out


def _agrees(village: Village) -> None:
    db.session.flush()
    # Rows changed by plain SQL are read afresh, not from the objects loaded before.
    db.session.expire_all()
    assert quarter_points.drift([village.id]) == []
    for quarter in (Q2, Q3):
        shown = {row.household_id: row.score for row in tally.quarter_tally(village, quarter)}
        assert shown == _scores_from_entries(village, quarter)


def test_every_way_an_entry_is_approved_or_stops_counting_moves_the_quarter_sums(ctx):
    village, _keeper = build()
    village.require_review = True
    clerk = accounts.create_user(None, "clerk1", "clerk-pass-1", "clerk", [village])
    reviewer = accounts.create_user(None, "reviewer1", "review-pass-1", "reviewer", [village])
    zhang, li = home(village, "张三"), home(village, "李四")
    plus, minus = rules.rule_by_code(village, "T01"), rules.rule_by_code(village, "T02")
    _agrees(village)

    waiting = ledger.make_entry(clerk, village, zhang, plus, TODAY, 5, evidence=True, today=TODAY)
    _agrees(village)
    assert tally.quarter_tally(village, Q3)[0].score == village.base_score  # pending counts for nothing
    ledger.approve(reviewer, [waiting])
    _agrees(village)
    assert {r.head_name: r.score for r in tally.quarter_tally(village, Q3)}["张三"] == village.base_score + 5

    # Moved to the second quarter while pending, then approved there.
    moved = ledger.make_entry(clerk, village, li, minus, TODAY, -3, evidence=True, today=TODAY)
    ledger.edit_pending(clerk, moved, minus, Q2.last_day, -4, "改到六月", evidence=True, today=TODAY)
    ledger.approve(reviewer, [moved])
    _agrees(village)

    refused = ledger.make_entry(clerk, village, li, plus, TODAY, 7, evidence=True, today=TODAY)
    ledger.reject(reviewer, [refused], "不符合")
    taken_back = ledger.make_entry(clerk, village, li, plus, TODAY, 9, evidence=True, today=TODAY)
    ledger.withdraw(clerk, taken_back)
    _agrees(village)

    cancel = ledger.reverse(reviewer, waiting, "录错了")
    ledger.approve(clerk, [cancel])
    _agrees(village)
    kept = db.session.get(QuarterPoints, (zhang.id, Q3.year, Q3.number))
    # The +5 and its reversal: no points, but two approved entries, so 张三 took part.
    assert (kept.plus, kept.minus, kept.entries) == (0, 0, 2)

    at_once_both = ledger.bulk_entry(clerk, village, [zhang, li], plus, TODAY, 2, evidence=True, today=TODAY)
    ledger.approve(reviewer, at_once_both)
    direct = ledger.make_entry(None, village, li, plus, TODAY, 11, evidence=True, approve=True, today=TODAY)
    _agrees(village)
    assert direct.status == "approved"


def test_writes_behind_the_application_s_back_are_followed(ctx):
    """A data fix typed into the database by hand still moves the sums: the triggers are the
    database's own, not the application's."""
    village, _keeper = build()
    zhang = home(village, "张三")
    entry = ledger.make_entry(None, village, zhang, rules.rule_by_code(village, "T01"), TODAY, 6,
                              evidence=True, approve=True, today=TODAY)
    db.session.flush()
    db.session.execute(text("UPDATE entries SET entry_date = :day WHERE id = :id"),
                       {"day": Q2.first_day, "id": entry.id})
    _agrees(village)
    db.session.execute(text("UPDATE entries SET points = 8 WHERE id = :id"), {"id": entry.id})
    _agrees(village)
    db.session.execute(text("UPDATE entries SET note = '只改说明' WHERE id = :id"), {"id": entry.id})
    _agrees(village)
    db.session.execute(text("DELETE FROM entries WHERE id = :id"), {"id": entry.id})
    _agrees(village)
    assert tally.quarter_tally(village, Q2)[0].score == village.base_score


def test_check_tallies_finds_and_repairs_sums_changed_by_hand(app, runner):
    with app.app_context():
        village, _keeper = build()
        zhang = home(village, "张三")
        ledger.make_entry(None, village, zhang, rules.rule_by_code(village, "T01"), TODAY, 6,
                          evidence=True, approve=True, today=TODAY)
        db.session.commit()

    ok = runner.invoke(args=["check-tallies"])
    assert ok.exit_code == 0 and "一致" in ok.output

    with app.app_context():
        db.session.execute(text("UPDATE quarter_points SET plus = plus + 100"))
        db.session.commit()
    found = runner.invoke(args=["check-tallies", "--village", "jiangba"])
    assert found.exit_code == 1
    assert f"{Q3.year}Q{Q3.number}：累计为 加106" in found.output and "按记录重算为 加6" in found.output
    assert "--repair" in found.output

    repaired = runner.invoke(args=["check-tallies", "--repair"])
    assert repaired.exit_code == 0 and "现在一致" in repaired.output
    with app.app_context():
        assert quarter_points.drift() == []
        village = db.session.execute(db.select(Village)).scalar_one()
        assert tally.quarter_tally(village, Q3)[0].score == village.base_score + 6

    unknown = runner.invoke(args=["check-tallies", "--village", "nowhere"])
    assert unknown.exit_code == 1 and "找不到村代码" in unknown.output


def test_two_reviewers_approving_entries_of_the_same_households_crosswise_both_count(app):
    """Reviewer A approves 李四's entry then 张三's, reviewer B 张三's then 李四's: each adds to
    both households' sums. On PostgreSQL each approval takes the households' locks in order
    before the sums' rows, so neither waits on the other forever."""
    with app.app_context():
        village, _keeper = build()
        village.require_review = True
        clerk = accounts.create_user(None, "clerk1", "clerk-pass-1", "clerk", [village])
        for name in ("reviewer1", "reviewer2"):
            accounts.create_user(None, name, "review-pass-1", "reviewer", [village])
        zhang, li = home(village, "张三"), home(village, "李四")
        rule = rules.rule_by_code(village, "T01")
        made = [ledger.make_entry(clerk, village, h, rule, TODAY, p, evidence=True, today=TODAY)
                for h, p in ((li, 1), (zhang, 2), (zhang, 4), (li, 8))]
        db.session.commit()
        ids = [e.id for e in made]
        households = (zhang.id, li.id)

    def act(job):
        reviewer_name, entry_ids = job
        reviewer = db.session.execute(db.select(User).filter_by(username=reviewer_name)).scalar_one()
        entries = [db.session.get(Entry, i) for i in entry_ids]
        return lambda: ledger.approve(reviewer, entries)

    for _round in range(3):
        outcomes = at_once(app, [("reviewer1", ids[:2]), ("reviewer2", ids[2:])], act, what="crossed approvals")
        assert outcomes == ["ok", "ok"]
        with app.app_context():
            assert quarter_points.drift() == []
            kept = {h: db.session.get(QuarterPoints, (h, Q3.year, Q3.number)) for h in households}
            assert (kept[households[0]].plus, kept[households[1]].plus) == (6, 9)
            # Put them back to pending for the next round, as if never reviewed.
            db.session.execute(text("UPDATE entries SET status = 'pending' WHERE id IN (%s)" % ",".join(map(str, ids))))
            db.session.commit()
            assert db.session.get(QuarterPoints, (households[0], Q3.year, Q3.number)).plus == 0


def test_two_clerks_entering_approved_points_for_one_household_at_once_both_count(app):
    with app.app_context():
        village, _keeper = build()
        for name in ("clerk1", "clerk2"):
            accounts.create_user(None, name, "clerk-pass-1", "clerk", [village])
        zhang = home(village, "张三")
        db.session.commit()
        household_id = zhang.id

    def act(job):
        clerk = db.session.execute(db.select(User).filter_by(username=job[0])).scalar_one()
        village = db.session.execute(db.select(Village)).scalar_one()
        household = db.session.get(Household, household_id)
        rule = rules.rule_by_code(village, "T01")
        return lambda: ledger.make_entry(clerk, village, household, rule, TODAY, job[1],
                                         evidence=True, approve=True, today=TODAY)

    assert at_once(app, [("clerk1", 3), ("clerk2", 5)], act, what="two clerks") == ["ok", "ok"]
    with app.app_context():
        assert quarter_points.drift() == []
        assert db.session.get(QuarterPoints, (household_id, Q3.year, Q3.number)).plus == 8


def test_a_year_tally_sums_its_four_quarters(ctx):
    village, _keeper = build()
    zhang = home(village, "张三")
    for day, points in ((dt.date(TODAY.year, 1, 5), 3), (dt.date(TODAY.year, 6, 30), -2),
                        (dt.date(TODAY.year, 7, 1), 4), (dt.date(TODAY.year - 1, 12, 31), 50)):
        code = "T01" if points > 0 else "T02"
        ledger.make_entry(None, village, zhang, rules.rule_by_code(village, code), day, points,
                          evidence=True, approve=True, today=TODAY)
    db.session.flush()
    row = tally.year_tally(village, TODAY.year)[0]
    assert (row.plus, row.minus, row.score) == (7, -2, village.base_score + 5)


def test_an_imported_sheet_of_approved_entries_moves_the_sums(ctx, tmp_path):
    """The entry import writes a whole file in one statement; the sums follow it row by row
    on SQLite and per statement on PostgreSQL."""
    import openpyxl

    from villagepoints import entry_import

    village, _keeper = build()
    village.require_review = False
    zhang, li = home(village, "张三"), home(village, "李四")
    ledger.make_entry(None, village, zhang, rules.rule_by_code(village, "T01"), TODAY, 1,
                      evidence=True, approve=True, today=TODAY)
    db.session.commit()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户编号", "户主姓名", "加扣分事项", "得分", "时间", "说明"])
    rows = [(zhang, "T01", 2, TODAY), (li, "T01", 3, TODAY), (zhang, "T02", -1, Q2.last_day), (li, "测试加分", 4, TODAY)]
    for household, rule, points, day in rows:
        sheet.append([household.code, household.head_name, rule, points, day, "导入"])
    path = tmp_path / "积分.xlsx"
    book.save(path)
    plan = entry_import.plan_entry_import(village, str(path), path.name, today=TODAY)
    assert not plan.problems, [p.line() for p in plan.problems]
    result = entry_import.apply_entry_import(None, village, plan)
    assert result.approved == 4
    _agrees(village)
    assert db.session.get(QuarterPoints, (zhang.id, Q3.year, Q3.number)).plus == 3
    assert db.session.get(QuarterPoints, (li.id, Q3.year, Q3.number)).plus == 7
    assert db.session.get(QuarterPoints, (zhang.id, Q2.year, Q2.number)).minus == -1
    # Entries written one at a time afterwards are counted as well.
    ledger.make_entry(None, village, li, rules.rule_by_code(village, "T01"), TODAY, 10,
                      evidence=True, approve=True, today=TODAY)
    _agrees(village)


def test_repairing_while_reviewers_approve_leaves_the_sums_equal_to_the_entries(app):
    """check-tallies --repair rewrites the sums while others keep approving: each approval
    waits for the repair or is in it, never counted twice or lost (two connections)."""
    with app.app_context():
        village, _keeper = build()
        village.require_review = True
        clerk = accounts.create_user(None, "clerk1", "clerk-pass-1", "clerk", [village])
        accounts.create_user(None, "reviewer1", "review-pass-1", "reviewer", [village])
        homes = [home(village, name) for name in ("张三", "李四", "王五")]
        rule = rules.rule_by_code(village, "T01")
        made = [ledger.make_entry(clerk, village, h, rule, TODAY, n + 1, evidence=True, today=TODAY)
                for n, h in enumerate(homes * 2)]
        db.session.commit()
        village_id, ids = village.id, [e.id for e in made]

    def act(job):
        if job == "repair":
            return lambda: quarter_points.rebuild([village_id])
        reviewer = db.session.execute(db.select(User).filter_by(username="reviewer1")).scalar_one()
        entries = [db.session.get(Entry, i) for i in job]
        return lambda: ledger.approve(reviewer, entries)

    for _round in range(3):
        with app.app_context():
            db.session.execute(text("UPDATE entries SET status = 'pending' WHERE id IN (%s)" % ",".join(map(str, ids))))
            db.session.commit()
        outcomes = at_once(app, [ids[:3], "repair", ids[3:]], act, what="a repair beside approvals")
        assert outcomes == ["ok", "ok", "ok"]
        with app.app_context():
            assert quarter_points.drift() == []
            assert sum(row.plus for row in db.session.execute(db.select(QuarterPoints)).scalars()) == 21


def test_a_repair_holds_off_approvals_until_it_commits_on_postgresql(app):
    """The repair deletes and rewrites the kept rows from the entries: an approval committed
    in between would collide with the rewritten row. On PostgreSQL it waits for the repair
    instead (SQLite lets one writer at a time anyway)."""
    with app.app_context():
        if db.session.connection().dialect.name != "postgresql":
            pytest.skip("SQLite's writers already wait for each other")
        village, _keeper = build()
        village.require_review = True
        clerk = accounts.create_user(None, "clerk1", "clerk-pass-1", "clerk", [village])
        accounts.create_user(None, "reviewer1", "review-pass-1", "reviewer", [village])
        entry = ledger.make_entry(clerk, village, home(village, "张三"), rules.rule_by_code(village, "T01"),
                                  TODAY, 5, evidence=True, today=TODAY)
        db.session.commit()
        village_id, entry_id = village.id, entry.id

    started, done = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def approve():
        with app.app_context():
            try:
                reviewer = db.session.execute(db.select(User).filter_by(username="reviewer1")).scalar_one()
                started.set()
                ledger.approve(reviewer, [db.session.get(Entry, entry_id)])
                db.session.commit()
                done.set()
            except BaseException as exc:  # raised in the test below
                failed.append(exc)

    with app.app_context():
        quarter_points.rebuild([village_id])  # not committed yet
        worker = threading.Thread(target=approve)
        worker.start()
        assert started.wait(timeout=10)
        # Wait until the approval really stands in a lock queue, not merely until it is slow.
        monitor = db.engine.connect()
        try:
            for _ in range(100):
                waiting = monitor.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )).scalar_one()
                if waiting or done.is_set() or failed:
                    break
                time.sleep(0.05)
        finally:
            monitor.close()
        assert not done.is_set() and not failed, "the approval went ahead while the repair was uncommitted"
        assert waiting, "the approval never waited for the repair's lock"
        db.session.commit()
    worker.join(timeout=30)
    if failed:
        raise failed[0]
    assert done.is_set()
    with app.app_context():
        assert quarter_points.drift() == []
        kept = db.session.execute(db.select(QuarterPoints)).scalars().all()
        assert [k.plus for k in kept] == [5]
