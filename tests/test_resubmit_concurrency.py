"""Two taps on 改正后重新提交 at once (two threads, two sessions): the rejected entry is resubmitted once,
on SQLite and on PostgreSQL (VP_TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from concurrency import at_once
from villagepoints import accounts, households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields
from villagepoints.models import Entry, Household, User, Village

DAY = dt.date(2026, 6, 1)
THREADS = 4


def _rejected_entry():
    """Commit a village, its clerk and reviewer, and the clerk's entry for 张三, rejected."""
    village = villages.create_village(None, "蒋坝村", "jiangba", ["一组"])
    clerk = accounts.create_user(None, "clerk1", "correct-horse-9", "clerk", [village])
    reviewer = accounts.create_user(None, "rev1", "correct-horse-9", "reviewer", [village])
    household = households.create_household(None, village, HouseholdFields(head_name="张三",
                                                                            joined_on=dt.date(2020, 1, 1)))
    entry = ledger.make_entry(clerk, village, household, rules.rule_by_code(village, "P03"), DAY, evidence=True,
                              today=dt.date(2026, 6, 30))
    ledger.reject(reviewer, [entry], "户选错了")
    return village, clerk, household, entry


def test_simultaneous_resubmissions_of_one_rejected_entry_make_one_entry(app):
    with app.app_context():
        village, clerk, household, entry = _rejected_entry()
        # Each tap corrects it to a different household, so only the rejected entry's own lock
        # (not the households') can keep the resubmissions apart on PostgreSQL.
        others = [households.create_household(None, village, HouseholdFields(
            head_name=f"农户{n}", joined_on=dt.date(2020, 1, 1))) for n in range(THREADS)]
        db.session.commit()
        ids = {"village": village.id, "clerk": clerk.id, "entry": entry.id, "households": [h.id for h in others]}

    def resubmit(household_id):
        village = db.session.get(Village, ids["village"])
        clerk = db.session.get(User, ids["clerk"])
        household = db.session.get(Household, household_id)
        rejected = db.session.get(Entry, ids["entry"])
        rule = rules.rule_by_code(village, "P03")
        return lambda: ledger.make_entry(clerk, village, household, rule, DAY, evidence=True, resubmits=rejected,
                                         today=dt.date(2026, 6, 30))

    outcomes = at_once(app, ids["households"], resubmit, what="a resubmission")
    assert Counter(outcomes) == Counter({"ok": 1, "NotResubmittable": THREADS - 1})
    with app.app_context():
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=ids["entry"])).scalars().all()
        assert len(again) == 1


def test_dismissing_and_resubmitting_one_rejected_entry_at_once_lets_one_through(app):
    with app.app_context():
        village, clerk, household, entry = _rejected_entry()
        db.session.commit()
        ids = {"village": village.id, "clerk": clerk.id, "entry": entry.id, "household": household.id}

    def act(step):
        village = db.session.get(Village, ids["village"])
        clerk = db.session.get(User, ids["clerk"])
        household = db.session.get(Household, ids["household"])
        rejected = db.session.get(Entry, ids["entry"])
        rule = rules.rule_by_code(village, "P03")
        if step == "dismiss":
            return lambda: ledger.dismiss_rejected(clerk, rejected)
        return lambda: ledger.make_entry(clerk, village, household, rule, DAY, evidence=True, resubmits=rejected,
                                         today=dt.date(2026, 6, 30))

    outcomes = at_once(app, ["dismiss", "resubmit"] * (THREADS // 2), act, what="a dismissal or resubmission")
    assert Counter(outcomes) == Counter({"ok": 1, "NotResubmittable": THREADS - 1})
    with app.app_context():
        rejected = db.session.get(Entry, ids["entry"])
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=ids["entry"])).scalars().all()
        assert (rejected.dismissed_at is not None) != (len(again) == 1)
