"""Two users acting on the same entry at once, each in its own thread, session and connection, on
whatever database the suite runs on (SQLite, or PostgreSQL via VP_TEST_DATABASE_URL): one wins,
one audit row is written, the other is refused in words."""
from __future__ import annotations

from collections import Counter
from typing import Callable

import pytest

from concurrency import together
from store_world import TODAY, build, home
from villagepoints import accounts, ledger, rules
from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, Household, User, Village


@pytest.fixture
def world(app):
    """Commit a village with review on, a clerk, two reviewers, a household and its pending +2 entry."""
    with app.app_context():
        village, _keeper = build()
        clerk = accounts.create_user(None, "clerk1", "clerk-pass-1", "clerk", [village])
        first = accounts.create_user(None, "reviewer1", "review-pass-1", "reviewer", [village])
        second = accounts.create_user(None, "reviewer2", "review-pass-2", "reviewer", [village])
        household = home(village, "张三")
        rule = rules.rule_by_code(village, "T01")
        entry = ledger.make_entry(clerk, village, household, rule, TODAY, 2, evidence=True, today=TODAY)
        db.session.commit()
        return {"village": village.id, "clerk": clerk.id, "reviewer1": first.id, "reviewer2": second.id,
                "household": household.id, "rule": rule.id, "entry": entry.id}


@pytest.fixture
def approved_world(app, world):
    """The same world with the entry approved by reviewer1."""
    with app.app_context():
        entry = db.session.get(Entry, world["entry"])
        ledger.approve(db.session.get(User, world["reviewer1"]), [entry])
        db.session.commit()
    return world


class Screen:
    """What one user's page showed: the objects as loaded then, detached from any transaction."""

    def __init__(self, ids: dict, user_key: str) -> None:
        self.user = db.session.get(User, ids[user_key])
        self.entry = db.session.get(Entry, ids["entry"])
        self.rule = self.entry.rule
        self.village = db.session.get(Village, ids["village"])
        # Read everything the action will look at, as the view rendering the page did.
        self.household = db.session.get(Household, ids["household"])
        self.version = self.entry.version
        _ = (self.entry.status, self.entry.photos, self.entry.household.code, self.user.username)
        db.session.close()  # the page's transaction is over; its objects keep what they showed

    def back(self) -> None:
        """Attach the page's objects to the new transaction as they were, as a form post would see them."""
        db.session.add_all([self.user, self.entry, self.village, self.household, self.rule])


def approve(s: Screen) -> None:
    ledger.approve(s.user, [s.entry], {s.entry.id: s.version})


def reject(s: Screen) -> None:
    ledger.reject(s.user, [s.entry], "分值不对", {s.entry.id: s.version})


def withdraw(s: Screen) -> None:
    ledger.withdraw(s.user, s.entry)


def edit_to_4(s: Screen) -> None:
    ledger.edit_pending(s.user, s.entry, s.rule, TODAY, 4, "改成4分", evidence=True, today=TODAY)


def reverse(s: Screen) -> None:
    ledger.reverse(s.user, s.entry, "记错了户")


def race(app, ids: dict, jobs: list[tuple[str, Callable]]) -> Counter:
    """Run each (user key, action) in its own thread and session, all released at once.

    Each thread first loads its page (a Screen), then waits at the gate, then posts.
    Returns a Counter of outcomes: "ok" or the refusal's class name; messages are kept in ``race.messages``.
    """
    def run(job: tuple[str, Callable], gate) -> tuple[str, str]:
        user_key, action = job
        with app.app_context():
            screen = Screen(ids, user_key)
            gate()
            try:
                screen.back()
                action(screen)
                db.session.commit()
                return "ok", ""
            except ledger.LedgerError as exc:
                db.session.rollback()
                return type(exc).__name__, str(exc)

    results = together(jobs, run, what="an action")
    race.messages = [message for _outcome, message in results if message]
    return Counter(outcome for outcome, _message in results)


def state(app, ids: dict) -> dict:
    with app.app_context():
        entry = db.session.get(Entry, ids["entry"])
        actions = list(db.session.execute(
            db.select(AuditEntry.action).where(AuditEntry.action != "entry.create").order_by(AuditEntry.id)
        ).scalars())
        reversals = db.session.execute(
            db.select(db.func.count(Entry.id)).where(Entry.reverses_id == entry.id)
        ).scalar_one()
        return {"status": entry.status, "points": entry.points, "actions": actions, "reversals": reversals,
                "reviewer": entry.reviewed_by_name}


def entry_rows(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Entry.id))).scalar_one()


def _audit_of_review(actions: list[str]) -> list[str]:
    return [a for a in actions if a.startswith("entry.") and not a.startswith("entry.create")]


def test_two_reviewers_approving_at_once_approve_once(app, world):
    outcomes = race(app, world, [("reviewer1", approve), ("reviewer2", approve)])
    assert outcomes == Counter({"ok": 1, "NotPending": 1})
    assert race.messages[0].endswith("已通过审核")
    after = state(app, world)
    assert after["status"] == "approved"
    assert _audit_of_review(after["actions"]) == ["entry.approve"]


def test_approve_and_reject_at_once_record_only_the_first(app, world):
    outcomes = race(app, world, [("reviewer1", approve), ("reviewer2", reject)])
    assert outcomes == Counter({"ok": 1, "NotPending": 1})
    after = state(app, world)
    winner = {"approved": "entry.approve", "rejected": "entry.reject"}[after["status"]]
    assert _audit_of_review(after["actions"]) == [winner]
    assert race.messages[0].endswith("已被驳回" if winner == "entry.reject" else "已通过审核")


def test_approve_and_withdraw_at_once_do_only_one(app, world):
    outcomes = race(app, world, [("reviewer1", approve), ("clerk", withdraw)])
    assert outcomes == Counter({"ok": 1, "NotPending": 1})
    after = state(app, world)
    assert after["status"] in ("approved", "withdrawn")
    assert _audit_of_review(after["actions"]) == [
        "entry.approve" if after["status"] == "approved" else "entry.withdraw"
    ]


def test_an_edit_never_lands_on_an_approved_entry(app, world):
    outcomes = race(app, world, [("reviewer1", approve), ("clerk", edit_to_4)])
    after = state(app, world)
    if after["status"] == "approved":
        # The approval came first: the edit is refused and the approved 2 points stay.
        assert outcomes == Counter({"ok": 1, "NotPending": 1})
        assert after["points"] == 2 and _audit_of_review(after["actions"]) == ["entry.approve"]
        assert "已通过审核，不能再修改" in race.messages[0]
    else:
        # The edit came first: the reviewer saw 2 points, so the 4 are not approved unseen.
        assert outcomes == Counter({"ok": 1, "EntryChanged": 1})
        assert after == {**after, "status": "pending", "points": 4}
        assert _audit_of_review(after["actions"]) == ["entry.update"]
        assert "在您打开页面后已被修改，请重新查看后再审核" in race.messages[0]


def test_two_reversals_at_once_reverse_once(app, approved_world):
    before = entry_rows(app)
    outcomes = race(app, approved_world, [("reviewer1", reverse), ("reviewer2", reverse)])
    assert outcomes == Counter({"ok": 1, "ReversalRefused": 1})
    assert "不能重复冲正" in race.messages[0]
    after = state(app, approved_world)
    assert after["reversals"] == 1 and entry_rows(app) == before + 1
    assert after["actions"].count("entry.reverse") == 1


def test_approving_what_the_page_no_longer_shows_is_refused(app, world):
    # The reviewer's page showed version 1; the clerk then changed the points to 4.
    with app.app_context():
        entry = db.session.get(Entry, world["entry"])
        shown = entry.version
        clerk = db.session.get(User, world["clerk"])
        ledger.edit_pending(clerk, entry, entry.rule, TODAY, 4, "", evidence=True, today=TODAY)
        db.session.commit()
        with pytest.raises(ledger.EntryChanged, match=rf"积分记录 #{entry.id}（.* 张三）在您打开页面后已被修改"):
            ledger.approve(db.session.get(User, world["reviewer1"]), [entry], {entry.id: shown})
        db.session.rollback()
        assert db.session.get(Entry, world["entry"]).status == "pending"
