"""Property: whatever the store does, balances and stocks stay sums of their records."""
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_world import build, earn, home, item
from villagepoints import ledger, store, villages
from villagepoints.extensions import db
from villagepoints.models import Entry, PointsExpiry, Redemption, StockMovement, User

DAYS = [dt.date(2025, 3, 1), dt.date(2025, 11, 20), dt.date(2026, 6, 30), dt.date(2027, 2, 1), dt.date(2028, 1, 5)]

# Most operations are visits to the store; the kinds are weighted by repetition.
KINDS = ["redeem"] * 4 + ["void"] * 2 + ["earn", "stock_in", "stocktake"]
operation = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 2),  # which household or item
    st.dictionaries(st.integers(0, 2), st.integers(1, 3), min_size=1, max_size=3),  # a redemption's lines
    st.integers(-40, 60),  # points earned, or a quantity
    st.integers(0, len(DAYS) - 1),  # which day
)


def _sum(stmt) -> int:
    return int(db.session.execute(stmt).scalar_one() or 0)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=4, max_size=30), expire=st.booleans())
def test_balances_and_stocks_are_sums_of_their_records(app, ops, expire):
    # Each example rolls back its own work; the village and the storekeeper persist across examples.
    with app.app_context():
        if villages.get_by_slug("jiangba") is None:
            build()
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        keeper = db.session.execute(db.select(User).filter_by(username="jiangba-keeper")).scalar_one()
        store.set_points_expire(None, village, expire)
        homes = [home(village, n) for n in ("甲", "乙", "丙")]
        # Enough to afford some redemptions and not others, earned in different years for expiry.
        earn(village, homes[0], 120, DAYS[0])
        earn(village, homes[1], 40, DAYS[2])
        goods = [item(village, f"商品{i}", price, stock=5) for i, price in enumerate((1, 7, 15))]
        made: list[Redemption] = []
        # What the shelves should hold, worked out apart from the store module.
        shelf = {good.id: 5 for good in goods}
        for kind, which, wanted, number, day in ops:
            try:
                if kind == "earn" and number:
                    earn(village, homes[which], number, DAYS[day])
                elif kind == "redeem":
                    lines = {goods[i].id: q for i, q in wanted.items()}
                    made.append(store.redeem(keeper, village, homes[which], lines, today=DAYS[day]))
                    for item_id, q in lines.items():
                        shelf[item_id] -= q
                elif kind == "void" and made:
                    target = made[abs(number) % len(made)]
                    store.void(keeper, target, "退回", today=DAYS[-1])
                    for line in target.lines:
                        shelf[line.item_id] += line.quantity
                elif kind == "stock_in":
                    store.stock_in(keeper, goods[which], abs(number) % 5 + 1, today=DAYS[-1])
                    shelf[goods[which].id] += abs(number) % 5 + 1
                elif kind == "stocktake":
                    store.stocktake(keeper, goods[which], abs(number) % 7, "盘点", today=DAYS[-1])
                    shelf[goods[which].id] = abs(number) % 7
            except store.StoreError:
                pass
        db.session.flush()
        for household in homes:
            approved = _sum(db.select(db.func.sum(Entry.points)).where(
                Entry.household_id == household.id, Entry.status == "approved"))
            spent = sum(r.total_points for r in made if r.household_id == household.id and not r.is_voided)
            expired = _sum(db.select(db.func.sum(PointsExpiry.points)).where(PointsExpiry.household_id == household.id))
            assert ledger.balance(household.id) == approved - spent - expired
            if not expire:
                assert expired == 0
            # Only minus entries can take a balance below zero; a redemption or an expiry never does.
            for r in made:
                if r.household_id == household.id:
                    assert r.balance_after >= 0
        for good in goods:
            assert good.stock == shelf[good.id] >= 0
            assert good.stock == store.movement_sum(good)
            moved = db.session.execute(
                db.select(StockMovement).where(StockMovement.item_id == good.id).order_by(StockMovement.id)
            ).scalars().all()
            running = 0
            for movement in moved:
                running += movement.quantity
                assert movement.stock_after == running >= 0
        for r in made:
            assert r.total_points == sum(line.points for line in r.lines) == sum(line.price * line.quantity for line in r.lines)
        db.session.rollback()
