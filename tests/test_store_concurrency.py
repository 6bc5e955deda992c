"""Many storekeepers at once: redemptions fired together from threads, on whatever database the
suite runs on (SQLite, or PostgreSQL via VP_TEST_DATABASE_URL), never overspend or oversell."""
from __future__ import annotations

from collections import Counter

import pytest

from concurrency import at_once
from store_world import TODAY, build, earn, home, item
from villagepoints import ledger, store
from villagepoints.extensions import db
from villagepoints.models import Household, Item, Redemption, User, Village

THREADS = 8


@pytest.fixture
def counter_world(app):
    """Commit a village, a storekeeper, a household with 50 points and a rich one, soap (10) and the last 3 towels (1)."""
    with app.app_context():
        village, keeper = build()
        poor, rich = home(village, "张三"), home(village, "李四")
        earn(village, poor, 50)
        earn(village, rich, 10_000)
        soap = item(village, "肥皂", 10, stock=100)
        towel = item(village, "毛巾", 1, stock=3, unit="条")
        db.session.commit()
        return {"village": village.id, "keeper": keeper.id, "poor": poor.id, "rich": rich.id,
                "soap": soap.id, "towel": towel.id}


def fire(app, ids, jobs):
    """Run each job (household key, {item key: quantity}, token) in its own thread and session, all at once.

    Returns a Counter of outcomes: "ok" or the refusal's class name.
    """
    def act(job):
        household_key, wanted, token = job
        village = db.session.get(Village, ids["village"])
        keeper = db.session.get(User, ids["keeper"])
        household = db.session.get(Household, ids[household_key])
        lines = {ids[k]: q for k, q in wanted.items()}
        return lambda: store.redeem(keeper, village, household, lines, token=token, today=TODAY)

    return Counter(at_once(app, jobs, act, what="a redemption"))


def totals(app, ids):
    with app.app_context():
        return {
            "poor": ledger.balance(ids["poor"]),
            "soap": db.session.get(Item, ids["soap"]).stock,
            "towel": db.session.get(Item, ids["towel"]).stock,
            "redemptions": db.session.execute(db.select(db.func.count(Redemption.id))).scalar_one(),
            "receipts": db.session.execute(db.select(db.func.count(db.distinct(Redemption.receipt_no)))).scalar_one(),
        }


def test_simultaneous_redemptions_never_overspend_a_balance(app, counter_world):
    # Each takes 2 bars of soap (20 points); 50 points pay for exactly two of them.
    outcomes = fire(app, counter_world, [("poor", {"soap": 2}, None)] * THREADS)
    assert outcomes == Counter({"ok": 2, "InsufficientBalance": THREADS - 2})
    after = totals(app, counter_world)
    assert after["poor"] == 10 and after["soap"] == 96
    assert after["redemptions"] == after["receipts"] == 2


def test_simultaneous_redemptions_never_oversell_the_last_items(app, counter_world):
    outcomes = fire(app, counter_world, [("rich", {"towel": 1}, None)] * THREADS)
    assert outcomes == Counter({"ok": 3, "OutOfStock": THREADS - 3})
    after = totals(app, counter_world)
    assert after["towel"] == 0
    with app.app_context():
        towel = db.session.get(Item, counter_world["towel"])
        assert store.movement_sum(towel) == 0


def test_both_limits_at_once_from_two_households(app, counter_world):
    # Every job takes a towel, so three succeed; the poor household can pay for two of its own (21 each).
    jobs = [("poor", {"soap": 2, "towel": 1}, None)] * 4 + [("rich", {"towel": 1}, None)] * 4
    outcomes = fire(app, counter_world, jobs)
    assert outcomes["ok"] == 3
    after = totals(app, counter_world)
    with app.app_context():
        poor_ok = db.session.execute(
            db.select(db.func.count(Redemption.id)).where(Redemption.household_id == counter_world["poor"])
        ).scalar_one()
    assert poor_ok <= 2
    assert after["towel"] == 0 and after["redemptions"] == after["receipts"] == 3
    assert after["poor"] == 50 - 21 * poor_ok and after["soap"] == 100 - 2 * poor_ok


def test_the_same_form_submitted_from_many_tabs_redeems_once(app, counter_world):
    outcomes = fire(app, counter_world, [("poor", {"soap": 1}, "one-form-token")] * THREADS)
    assert outcomes == Counter({"ok": 1, "DuplicateSubmission": THREADS - 1})
    after = totals(app, counter_world)
    assert after["redemptions"] == 1 and after["poor"] == 40 and after["soap"] == 99


def test_two_voids_at_once_return_the_points_once(app, counter_world):
    with app.app_context():
        keeper = db.session.get(User, counter_world["keeper"])
        village = db.session.get(Village, counter_world["village"])
        poor = db.session.get(Household, counter_world["poor"])
        redemption_id = store.redeem(keeper, village, poor, {counter_world["soap"]: 3}, today=TODAY).id
        db.session.commit()
    def void(_):
        keeper = db.session.get(User, counter_world["keeper"])
        db.session.get(Redemption, redemption_id).household  # load before the gate, as a view would
        return lambda: store.void(keeper, db.session.get(Redemption, redemption_id), "拿错了", today=TODAY)

    outcomes = at_once(app, range(4), void, what="a void")
    assert Counter(outcomes) == Counter({"ok": 1, "AlreadyVoided": 3})
    after = totals(app, counter_world)
    assert after["poor"] == 50 and after["soap"] == 100


def test_receipt_numbers_stay_unique_when_different_households_redeem_at_once(app, counter_world):
    # Different households and items share no lock but the village's receipt counter.
    jobs = [("poor", {"soap": 1}, None)] * 4 + [("rich", {"towel": 1}, None)] * 3
    assert fire(app, counter_world, jobs) == Counter({"ok": 7})
    with app.app_context():
        numbers = sorted(db.session.execute(db.select(Redemption.receipt_no)).scalars())
    assert numbers == [f"DH{TODAY.year}-{n:06d}" for n in range(1, 8)]
