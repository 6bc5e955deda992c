"""Two taps on 改正后重新提交 at once (two threads, two sessions): the rejected entry is resubmitted once,
on SQLite and on PostgreSQL (VP_TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from villagepoints import accounts, households, ledger, rules, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields
from villagepoints.models import Entry, Household, User, Village

DAY = dt.date(2026, 6, 1)
THREADS = 4


def test_simultaneous_resubmissions_of_one_rejected_entry_make_one_entry(app):
    with app.app_context():
        village = villages.create_village(None, "蒋坝村", "jiangba", ["一组"])
        clerk = accounts.create_user(None, "clerk1", "correct-horse-9", "clerk", [village])
        reviewer = accounts.create_user(None, "rev1", "correct-horse-9", "reviewer", [village])
        household = households.create_household(None, village, HouseholdFields(head_name="张三",
                                                                                joined_on=dt.date(2020, 1, 1)))
        entry = ledger.make_entry(clerk, village, household, rules.rule_by_code(village, "P03"), DAY, evidence=True,
                                  today=dt.date(2026, 6, 30))
        ledger.reject(reviewer, [entry], "户选错了")
        # Each tap corrects it to a different household, so only the rejected entry's own lock
        # (not the households') can keep the resubmissions apart on PostgreSQL.
        others = [households.create_household(None, village, HouseholdFields(
            head_name=f"农户{n}", joined_on=dt.date(2020, 1, 1))) for n in range(THREADS)]
        db.session.commit()
        ids = {"village": village.id, "clerk": clerk.id, "entry": entry.id, "households": [h.id for h in others]}

    gate = threading.Barrier(THREADS)
    outcomes: list[str] = []
    guard = threading.Lock()

    def run(household_id):
        with app.app_context():
            village = db.session.get(Village, ids["village"])
            clerk = db.session.get(User, ids["clerk"])
            household = db.session.get(Household, household_id)
            rejected = db.session.get(Entry, ids["entry"])
            rule = rules.rule_by_code(village, "P03")
            db.session.rollback()  # every thread starts its write transaction at the gate
            gate.wait(timeout=30)
            try:
                ledger.make_entry(clerk, village, household, rule, DAY, evidence=True, resubmits=rejected,
                                  today=dt.date(2026, 6, 30))
                db.session.commit()
                outcome = "ok"
            except ledger.LedgerError as exc:
                db.session.rollback()
                outcome = type(exc).__name__
            with guard:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(hid,)) for hid in ids["households"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a resubmission hung"
    assert Counter(outcomes) == Counter({"ok": 1, "NotResubmittable": THREADS - 1})
    with app.app_context():
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=ids["entry"])).scalars().all()
        assert len(again) == 1


def test_dismissing_and_resubmitting_one_rejected_entry_at_once_lets_one_through(app):
    with app.app_context():
        village = villages.create_village(None, "蒋坝村", "jiangba", ["一组"])
        clerk = accounts.create_user(None, "clerk1", "correct-horse-9", "clerk", [village])
        reviewer = accounts.create_user(None, "rev1", "correct-horse-9", "reviewer", [village])
        household = households.create_household(None, village, HouseholdFields(head_name="张三",
                                                                                joined_on=dt.date(2020, 1, 1)))
        entry = ledger.make_entry(clerk, village, household, rules.rule_by_code(village, "P03"), DAY, evidence=True,
                                  today=dt.date(2026, 6, 30))
        ledger.reject(reviewer, [entry], "户选错了")
        db.session.commit()
        ids = {"village": village.id, "clerk": clerk.id, "entry": entry.id, "household": household.id}

    gate = threading.Barrier(THREADS)
    outcomes: list[tuple[str, str]] = []
    guard = threading.Lock()

    def run(step):
        with app.app_context():
            village = db.session.get(Village, ids["village"])
            clerk = db.session.get(User, ids["clerk"])
            household = db.session.get(Household, ids["household"])
            rejected = db.session.get(Entry, ids["entry"])
            rule = rules.rule_by_code(village, "P03")
            db.session.rollback()
            gate.wait(timeout=30)
            try:
                if step == "dismiss":
                    ledger.dismiss_rejected(clerk, rejected)
                else:
                    ledger.make_entry(clerk, village, household, rule, DAY, evidence=True, resubmits=rejected,
                                      today=dt.date(2026, 6, 30))
                db.session.commit()
                outcome = "ok"
            except ledger.LedgerError as exc:
                db.session.rollback()
                outcome = type(exc).__name__
            with guard:
                outcomes.append((step, outcome))

    steps = ["dismiss", "resubmit"] * (THREADS // 2)
    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a dismissal or resubmission hung"
    assert Counter(outcome for _, outcome in outcomes) == Counter({"ok": 1, "NotResubmittable": THREADS - 1})
    with app.app_context():
        rejected = db.session.get(Entry, ids["entry"])
        again = db.session.execute(db.select(Entry).filter_by(resubmits_id=ids["entry"])).scalars().all()
        assert (rejected.dismissed_at is not None) != (len(again) == 1)
