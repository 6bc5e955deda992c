"""Property: whatever clerks and reviewers do, scores and balances are sums of approved entries."""
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from villagepoints import ledger, quarter_points, rules, tally, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import User
from villagepoints.quarters import Quarter

TODAY = dt.date(2026, 12, 31)
DAYS = [dt.date(2026, 2, 10), dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 9, 30), dt.date(2026, 11, 5)]
CODES = ["P01", "P05", "P06", "M01", "M10"]

operation = st.one_of(
    st.tuples(st.just("enter"), st.integers(0, 2), st.sampled_from(CODES), st.sampled_from(DAYS), st.integers(-12, 12)),
    st.tuples(st.just("approve"), st.integers(0, 30)),
    st.tuples(st.just("reject"), st.integers(0, 30)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("withdraw"), st.integers(0, 30)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=25))
def test_scores_and_balances_are_sums_of_approved_entries(app, make_village, make_user, ops):
    # Each example rolls back its own work; the village and users persist across examples.
    with app.app_context():
        exists = villages.get_by_slug("jiangba") is not None
    if not exists:
        make_village()
        make_user("clerk1", "clerk")
        make_user("reviewer1", "reviewer")
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        clerk, reviewer = (
            db.session.execute(db.select(User).filter_by(username=n)).scalar_one() for n in ("clerk1", "reviewer1")
        )
        homes = [
            create_household(None, village, HouseholdFields(head_name=n, joined_on=dt.date(2020, 1, 1)))
            for n in ("甲", "乙", "丙")
        ]
        made = []
        for op in ops:
            try:
                if op[0] == "enter":
                    _, h, code, day, points = op
                    made.append(ledger.make_entry(
                        clerk, village, homes[h], rules.rule_by_code(village, code), day, points,
                        evidence=True, today=TODAY,
                    ))
                elif made:
                    entry = made[op[1] % len(made)]
                    if op[0] == "approve":
                        # Reversals are made by the reviewer, so the clerk approves those.
                        ledger.approve(clerk if entry.is_reversal else reviewer, [entry])
                    elif op[0] == "reject":
                        ledger.reject(clerk if entry.is_reversal else reviewer, [entry], "不符合")
                    elif op[0] == "reverse":
                        made.append(ledger.reverse(reviewer, entry, "更正"))
                    else:
                        ledger.withdraw(reviewer if entry.is_reversal else clerk, entry)
            except ledger.LedgerError:
                pass
        db.session.flush()
        for household in homes:
            approved = [e for e in made if e.household_id == household.id and e.status == "approved"]
            for day in DAYS:
                q = Quarter.of(day)
                expected = 100 + sum(e.points for e in approved if q.first_day <= e.entry_date <= q.last_day)
                assert ledger.scores_for(household, day).quarter_score == expected
            assert ledger.scores_for(household, TODAY).balance == sum(e.points for e in approved)
            assert ledger.scores_for(household, TODAY).year_score == 100 + sum(e.points for e in approved)
            # A reversal never leaves more than one live cancellation of the same entry.
            for e in approved:
                live = [r for r in made if r.reverses_id == e.id and r.status in ("pending", "approved")]
                assert len(live) <= 1
        # The quarter sums the database keeps follow every one of these writes, and the
        # village's tally read from them gives each household the same score.
        assert quarter_points.drift([village.id]) == []
        for day in DAYS:
            q = Quarter.of(day)
            by_id = {row.household_id: row.score for row in tally.quarter_tally(village, q)}
            for household in homes:
                assert by_id[household.id] == ledger.scores_for(household, day).quarter_score
        db.session.rollback()
