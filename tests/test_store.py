"""The points store obeys DESIGN §3 and §6: refusals, prices, voids, stock, receipts, expiry, reports."""
import datetime as dt

import pytest

from store_world import TODAY, build, earn, home, item
from villagepoints import ledger, rules, store, villages
from villagepoints.extensions import db
from villagepoints.households import deactivate_household
from villagepoints.models import AuditEntry, PointsExpiry, Redemption, StockMovement


@pytest.fixture
def world(ctx):
    """A village with two households holding 100 and 30 points, rice (20 a bag, 5 in stock) and oil."""
    village, keeper = build()
    a, b = home(village, "张三"), home(village, "李四")
    earn(village, a, 100)
    earn(village, b, 30)
    rice = item(village, "大米", 20, stock=5)
    oil = item(village, "食用油", 35, stock=2, unit="瓶")
    db.session.commit()
    return village, keeper, a, b, rice, oil


def redeem(world, household, wanted, **kwargs):
    village, keeper = world[0], world[1]
    return store.redeem(keeper, village, household, wanted, today=kwargs.pop("today", TODAY), **kwargs)


def test_redeem_takes_points_and_stock_and_prints_a_numbered_receipt(world):
    village, keeper, a, _, rice, oil = world
    r = redeem(world, a, {rice.id: 2, oil.id: 1})
    assert r.receipt_no == "DH2026-000001"
    assert (r.total_points, r.item_count, r.balance_after) == (75, 3, 25)
    assert [(line.item_name, line.price, line.quantity, line.points) for line in r.lines] == [
        ("大米", 20, 2, 40), ("食用油", 35, 1, 35),
    ]
    assert r.created_by_name == keeper.username
    assert ledger.balance(a.id) == 25
    assert (rice.stock, oil.stock) == (3, 1)


def test_redeem_refuses_when_balance_short_and_says_by_how_much(world):
    _, _, _, b, rice, oil = world
    with pytest.raises(store.InsufficientBalance, match="可用积分 30 分，本次兑换需 40 分，还差 10 分") as refused:
        redeem(world, b, {rice.id: 2})
    assert refused.value.short == 10
    db.session.rollback()
    assert ledger.balance(b.id) == 30
    assert rice.stock == 5
    assert db.session.execute(db.select(db.func.count(Redemption.id))).scalar_one() == 0


def test_redeem_refuses_when_stock_short_naming_the_item_and_what_is_left(world):
    _, _, a, _, rice, oil = world
    with pytest.raises(store.OutOfStock, match="“食用油”库存只剩 2瓶，要兑换 3瓶，还差 1瓶") as refused:
        redeem(world, a, {rice.id: 1, oil.id: 3})
    assert [(i.name, want, left) for i, want, left in refused.value.shortages] == [("食用油", 3, 2)]
    db.session.rollback()
    assert (rice.stock, oil.stock) == (5, 2)
    assert ledger.balance(a.id) == 100


def test_short_stock_and_short_balance_are_both_named(world):
    _, _, _, b, rice, _ = world
    with pytest.raises(store.OutOfStock, match="还差 1袋；另外可用积分也不够，还差 90 分"):
        redeem(world, b, {rice.id: 6})


def test_redeem_refuses_an_inactive_household(world):
    village, keeper, a, _, rice, _ = world
    deactivate_household(None, a, dt.date(2026, 8, 1), "moved")
    with pytest.raises(store.HouseholdInactive, match="已注销，不能兑换"):
        redeem(world, a, {rice.id: 1})


def test_redeem_refuses_items_off_the_shelf_or_from_another_village(world):
    village, _, a, _, rice, oil = world
    store.update_item(None, oil, store.ItemFields("食用油", "瓶", 35, active=False))
    with pytest.raises(store.ItemUnavailable, match="“食用油”已下架"):
        redeem(world, a, {oil.id: 1})
    other, _ = build("other")
    foreign = item(other, "洗衣粉", 5, stock=10)
    with pytest.raises(store.ItemUnavailable, match="不在本村商品目录"):
        redeem(world, a, {foreign.id: 1})


def test_redeem_refuses_nothing_chosen_and_negative_quantities(world):
    _, _, a, _, rice, _ = world
    with pytest.raises(store.EmptyRedemption, match="请至少选择一样商品"):
        redeem(world, a, {rice.id: 0})
    with pytest.raises(store.StoreError, match="负数"):
        redeem(world, a, {rice.id: -1})


def test_balance_is_approved_entries_minus_redemptions_not_voided(world):
    village, keeper, a, _, rice, _ = world
    earn(village, a, -15)
    pending = ledger.make_entry(keeper, village, a, rules.rule_by_code(village, "T01"), TODAY, 50, today=TODAY)
    assert pending.status == "pending"
    r = redeem(world, a, {rice.id: 2})
    assert ledger.balance(a.id) == 100 - 15 - 40
    store.void(keeper, r, "拿错了")
    assert ledger.balance(a.id) == 85


def test_minus_entries_may_push_a_balance_below_zero_but_nothing_can_be_redeemed(world):
    village, _, _, b, rice, _ = world
    earn(village, b, -50)
    assert ledger.balance(b.id) == -20
    with pytest.raises(store.InsufficientBalance, match="还差 40 分"):
        redeem(world, b, {rice.id: 1})


def test_redeeming_never_changes_a_score(world):
    _, _, a, _, rice, _ = world
    before = ledger.scores_for(a, TODAY)
    redeem(world, a, {rice.id: 3})
    after = ledger.scores_for(a, TODAY)
    assert (after.quarter_score, after.year_score) == (before.quarter_score, before.year_score)
    assert after.balance == before.balance - 60


def test_a_price_change_applies_from_then_on_and_past_redemptions_keep_their_price(world):
    _, _, a, _, rice, _ = world
    first = redeem(world, a, {rice.id: 1})
    store.update_item(None, rice, store.ItemFields("大米", "袋", 25, "日用品"))
    second = redeem(world, a, {rice.id: 1})
    db.session.expire_all()
    assert (first.lines[0].price, first.total_points) == (20, 20)
    assert (second.lines[0].price, second.total_points) == (25, 25)
    assert ledger.balance(a.id) == 55
    change = db.session.execute(
        db.select(AuditEntry).where(AuditEntry.action == "item.update")
    ).scalar_one()
    assert '"price": 20' in change.before and '"price": 25' in change.after


def test_void_returns_points_and_stock_and_keeps_the_original_marked(world):
    _, keeper, a, _, rice, oil = world
    r = redeem(world, a, {rice.id: 2, oil.id: 1})
    store.void(keeper, r, "农户要求退回")
    assert r.is_voided and r.voided_by_name == keeper.username and r.void_reason == "农户要求退回"
    assert ledger.balance(a.id) == 100
    assert (rice.stock, oil.stock) == (5, 2)
    assert db.session.get(Redemption, r.id).receipt_no == "DH2026-000001"
    kinds = db.session.execute(
        db.select(StockMovement.kind, StockMovement.quantity).where(StockMovement.item_id == rice.id)
        .order_by(StockMovement.id)
    ).all()
    assert kinds == [("in", 5), ("redeem", -2), ("void", 2)]


def test_voiding_twice_is_refused_and_a_void_needs_a_reason(world):
    _, keeper, a, _, rice, _ = world
    r = redeem(world, a, {rice.id: 1})
    with pytest.raises(store.StoreError, match="写明原因"):
        store.void(keeper, r, "  ")
    store.void(keeper, r, "拿错了")
    with pytest.raises(store.AlreadyVoided, match="DH2026-000001 已由 jiangba-keeper 作废，不能重复作废"):
        store.void(keeper, r, "再作废一次")
    assert rice.stock == 5
    assert ledger.balance(a.id) == 100


def test_the_same_form_token_redeems_once(world):
    _, _, a, _, rice, _ = world
    first = redeem(world, a, {rice.id: 1}, token="tok-1")
    with pytest.raises(store.DuplicateSubmission, match="已经提交过（兑换单 DH2026-000001）") as twice:
        redeem(world, a, {rice.id: 1}, token="tok-1")
    assert twice.value.redemption.id == first.id
    assert rice.stock == 4 and ledger.balance(a.id) == 80


def test_receipt_numbers_count_up_per_village_and_restart_each_year(world):
    village, keeper, a, b, rice, _ = world
    numbers = [redeem(world, h, {rice.id: 1}).receipt_no for h in (a, b, a)]
    assert numbers == ["DH2026-000001", "DH2026-000002", "DH2026-000003"]
    other, other_keeper = build("other")
    c = home(other, "王五")
    earn(other, c, 50)
    soap = item(other, "肥皂", 3, stock=10)
    assert store.redeem(other_keeper, other, c, {soap.id: 1}, today=TODAY).receipt_no == "DH2026-000001"
    assert redeem(world, a, {rice.id: 1}, today=dt.date(2027, 1, 2)).receipt_no == "DH2027-000001"


def test_stock_is_the_sum_of_its_movements_and_each_movement_is_recorded(world):
    _, keeper, a, _, rice, _ = world
    store.stock_in(keeper, rice, 10, source="donation", supplier="县慈善会", moved_on=dt.date(2026, 8, 1), today=TODAY)
    redeem(world, a, {rice.id: 3})
    take = store.stocktake(keeper, rice, 11, "破袋报损1袋", today=TODAY)
    assert (take.quantity, take.counted, take.stock_after) == (-1, 11, 11)
    assert rice.stock == store.movement_sum(rice) == 11
    history = db.session.execute(store.movements_query(rice)).scalars().all()
    assert [(m.kind, m.quantity, m.stock_after) for m in history] == [
        ("adjust", -1, 11), ("redeem", -3, 12), ("in", 10, 15), ("in", 5, 5),
    ]
    assert history[2].supplier == "县慈善会" and history[2].source == "donation"


def test_stock_in_and_stocktake_refuse_impossible_quantities_and_dates(world):
    _, keeper, _, _, rice, _ = world
    with pytest.raises(store.StoreError, match="入库数量应在1到"):
        store.stock_in(keeper, rice, 0, today=TODAY)
    with pytest.raises(store.StoreError, match="在今天之后"):
        store.stock_in(keeper, rice, 1, moved_on=TODAY + dt.timedelta(days=1), today=TODAY)
    with pytest.raises(store.StoreError, match="盘点数量应在0到"):
        store.stocktake(keeper, rice, -1, "少了", today=TODAY)
    with pytest.raises(store.StoreError, match="写明盘点调整的原因"):
        store.stocktake(keeper, rice, 3, "", today=TODAY)
    assert rice.stock == 5


def test_stock_never_goes_below_zero(world):
    _, keeper, a, _, rice, _ = world
    store.stocktake(keeper, rice, 0, "全部过期", today=TODAY)
    with pytest.raises(store.OutOfStock, match="库存只剩 0袋"):
        redeem(world, a, {rice.id: 1})
    assert rice.stock == 0 == store.movement_sum(rice)


def test_item_names_are_unique_in_a_village_and_prices_positive(world):
    village = world[0]
    with pytest.raises(store.StoreError, match="本村已有名为“大米”的商品"):
        store.create_item(None, village, store.ItemFields("大米", "袋", 10))
    with pytest.raises(store.StoreError, match="兑换积分应在1到"):
        store.create_item(None, village, store.ItemFields("毛巾", "条", 0))
    with pytest.raises(store.StoreError, match="单位"):
        store.create_item(None, village, store.ItemFields("毛巾", "", 5))


def test_store_writes_are_in_the_audit_log(world):
    _, keeper, a, _, rice, _ = world
    r = redeem(world, a, {rice.id: 1})
    store.void(keeper, r, "拿错了")
    actions = db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert {"item.create", "stock.in", "redemption.create", "redemption.void"} <= set(actions)
    void_entry = db.session.execute(
        db.select(AuditEntry).where(AuditEntry.action == "redemption.void")
    ).scalar_one()
    assert void_entry.household_id == a.id and void_entry.summary == "拿错了"


def test_stock_on_hand_is_valued_at_current_prices(world):
    village = world[0]
    rows, total = store.stock_on_hand(village)
    assert [(r.item.name, r.item.stock, r.value) for r in rows] == [("大米", 5, 100), ("食用油", 2, 70)]
    assert total == 170


# --- Expiry -------------------------------------------------------------------------


@pytest.fixture
def expiring(world):
    """Household a earned 60 in 2025 and 100 in 2026 (fixture); points expire in this village."""
    village, _, a, _, _, _ = world
    earn(village, a, 60, dt.date(2025, 5, 1))
    store.set_points_expire(None, village, True)
    return world


def test_points_do_not_expire_unless_the_village_turns_it_on(world):
    village, _, a, _, rice, _ = world
    earn(village, a, 60, dt.date(2024, 5, 1))
    assert store.expire_due(None, a, dt.date(2027, 1, 1)) == []
    assert store.expiry_outlook(a, TODAY) == []
    assert ledger.balance(a.id) == 160


def test_household_page_says_how_many_points_expire_when(expiring):
    _, _, a, _, _, _ = expiring
    notes = store.expiry_outlook(a, TODAY)
    assert [(n.points_year, n.points, n.deadline, n.overdue) for n in notes] == [
        (2025, 60, dt.date(2026, 12, 31), False)
    ]


def test_unspent_points_expire_at_the_end_of_the_next_year_as_ledger_records(expiring):
    _, _, a, _, rice, _ = expiring
    # Spending takes the oldest points first: 40 of the 2025 points are used in 2026.
    redeem(expiring, a, {rice.id: 2})
    assert store.expire_due(None, a, dt.date(2026, 12, 31)) == []
    made = store.expire_due(None, a, dt.date(2027, 1, 1))
    assert [(r.points_year, r.points, r.expired_on) for r in made] == [(2025, 20, dt.date(2026, 12, 31))]
    assert ledger.balance(a.id) == 160 - 40 - 20
    # Running it again writes nothing more: the balance stays the sum of its records.
    assert store.expire_due(None, a, dt.date(2027, 1, 1)) == []
    assert db.session.execute(db.select(db.func.sum(PointsExpiry.points))).scalar_one() == 20


def test_a_redemption_after_the_deadline_writes_off_expired_points_first(expiring):
    _, _, a, _, rice, _ = expiring
    notes = store.expiry_outlook(a, dt.date(2027, 3, 1))
    assert [(n.points_year, n.points, n.overdue) for n in notes] == [(2025, 60, True), (2026, 100, False)]
    assert store.spendable(a, dt.date(2027, 3, 1)) == 100
    r = redeem(expiring, a, {rice.id: 5}, today=dt.date(2027, 3, 1))
    assert r.balance_after == 0
    assert ledger.balance(a.id) == 0


def test_expiry_never_makes_a_balance_negative(expiring):
    village, _, a, _, _, _ = expiring
    earn(village, a, -150, dt.date(2026, 8, 1))
    assert ledger.balance(a.id) == 10
    made = store.expire_due(None, a, dt.date(2027, 1, 1))
    assert [(r.points_year, r.points) for r in made] == [(2025, 10)]
    assert ledger.balance(a.id) == 0


def test_expire_village_writes_off_every_household(expiring):
    village, _, a, b, _, _ = expiring
    earn(village, b, 5, dt.date(2025, 2, 1))
    assert store.expire_village(None, village, dt.date(2027, 1, 1)) == 65
    assert (ledger.balance(a.id), ledger.balance(b.id)) == (100, 30)


def test_write_offs_spend_oldest_points_first():
    earned = {2024: 100, 2025: 50, 2026: 20}
    assert store.write_offs(earned, {2025: 30}, {}, 140, 2024) == {2024: 70}
    assert store.write_offs(earned, {2025: 30}, {2024: 70}, 70, 2025) == {2025: 50}
    assert store.write_offs(earned, {2025: 30, 2026: 60}, {2024: 70}, 10, 2025) == {}


# --- Reports ------------------------------------------------------------------------


def test_report_sums_redemptions_not_voided_by_day_month_item_and_household(world):
    village, keeper, a, b, rice, oil = world
    redeem(world, a, {rice.id: 1, oil.id: 1}, today=dt.date(2026, 7, 30))
    redeem(world, b, {rice.id: 1}, today=dt.date(2026, 8, 2))
    voided = redeem(world, a, {rice.id: 1}, today=dt.date(2026, 8, 2))
    store.void(keeper, voided, "拿错了")

    def rows(by, **kw):
        got = store.report(village, store.ReportFilters(by=by, **kw))
        return [(r.label, r.redemptions, r.quantity, r.points) for r in got.rows], got

    by_day, summary = rows("day")
    assert by_day == [("2026-08-02", 1, 1, 20), ("2026-07-30", 1, 2, 55)]
    assert (summary.redemptions, summary.quantity, summary.points, summary.voided) == (2, 3, 75, 1)
    assert rows("month")[0] == [("2026年8月", 1, 1, 20), ("2026年7月", 1, 2, 55)]
    assert rows("item")[0] == [("大米", 2, 2, 40), ("食用油", 1, 1, 35)]
    assert rows("household")[0] == [("张三（0001）", 1, 2, 55), ("李四（0002）", 1, 1, 20)]
    only_rice, summary = rows("household", item_id=rice.id)
    assert only_rice == [("张三（0001）", 1, 1, 20), ("李四（0002）", 1, 1, 20)]
    assert summary.points == 40
    in_august, summary = rows("day", date_from=dt.date(2026, 8, 1), date_to=dt.date(2026, 8, 31))
    assert in_august == [("2026-08-02", 1, 1, 20)] and summary.voided == 1
    listed = db.session.execute(store.redemptions_query(village, store.ReportFilters(household_ids=[a.id]))).scalars()
    assert [r.receipt_no for r in listed] == ["DH2026-000003", "DH2026-000001"]


# --- Command line -------------------------------------------------------------------


def test_expire_points_command_writes_off_expired_points_once(app, runner):
    with app.app_context():
        village, _ = build()
        a = home(village, "张三")
        earn(village, a, 60, dt.date(2024, 5, 1))
        household_id = a.id
        db.session.commit()
    refused = runner.invoke(args=["expire-points", "--village", "jiangba", "--date", "2026-01-01"])
    assert refused.exit_code != 0 and "没有开启积分按年过期" in refused.output
    with app.app_context():
        store.set_points_expire(None, villages.get_by_slug("jiangba"), True)
        db.session.commit()
    for _ in range(2):
        result = runner.invoke(args=["expire-points", "--date", "2026-01-01"])
        assert result.exit_code == 0, result.output
    assert "蒋坝村：2024年及以前获得、到期未用的积分共作废 0 分" in result.output
    with app.app_context():
        assert ledger.balance(household_id) == 0
        assert db.session.execute(db.select(db.func.sum(PointsExpiry.points))).scalar_one() == 60
