"""A small village with a store, shared by the store tests: points, items, a storekeeper."""
from __future__ import annotations

import datetime as dt

from villagepoints import accounts, ledger, rules, store, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import Household, Item, User, Village

TODAY = dt.date(2026, 8, 15)
JOINED = dt.date(2020, 1, 1)


def store_rules(village: Village) -> None:
    """Add wide plus and minus rules, so a test can give any number of points."""
    rules.create_rule(None, village, rules.RuleFields("T01", "plus", "测试加分", 10, 1, 100_000))
    rules.create_rule(None, village, rules.RuleFields("T02", "minus", "测试扣分", -10, -100_000, -1))


def earn(village: Village, household: Household, points: int, day: dt.date = TODAY) -> None:
    """Give a household approved points (a plus or minus entry dated ``day``)."""
    code = "T01" if points > 0 else "T02"
    ledger.make_entry(
        None, village, household, rules.rule_by_code(village, code), day, points,
        evidence=True, approve=True, today=max(day, TODAY),
    )


def home(village: Village, name: str) -> Household:
    return create_household(None, village, HouseholdFields(head_name=name, joined_on=JOINED))


def item(village: Village, name: str, price: int, stock: int = 0, unit: str = "袋") -> Item:
    made = store.create_item(None, village, store.ItemFields(name, unit, price, "日用品"))
    if stock:
        store.stock_in(None, made, stock, supplier="供销社", today=TODAY)
    return made


def build(slug: str = "jiangba") -> tuple[Village, User]:
    """Create (and commit) the village, its store rules and a storekeeper; return them."""
    village = villages.create_village(None, "蒋坝村", slug, ["一组", "二组"])
    store_rules(village)
    keeper = accounts.create_user(None, f"{slug}-keeper", "keeper-pass-1", "storekeeper", [village])
    db.session.commit()
    return village, keeper
