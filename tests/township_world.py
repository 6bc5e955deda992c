"""Two townships with several villages, households, entries of every kind, a published
quarter and store visits: the world the township tests look at."""
from __future__ import annotations

import datetime as dt
import random

from villagepoints import accounts, ledger, publication, rules, store, townships, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household, deactivate_household
from villagepoints.models import Entry
from villagepoints.quarters import Quarter

Q3 = Quarter(2026, 3)
Q4 = Quarter(2026, 4)
TODAY = dt.date(2026, 11, 18)
PASSWORD = "correct-horse-9"

# township slug → (name, [(village slug, name, households)])
TOWNSHIPS = {
    "dongxiang": ("东乡镇", [("dongcun", "东村", 14), ("nancun", "南村", 9), ("xicun", "西村", 11)]),
    "beixiang": ("北乡镇", [("beicun", "北村", 8), ("zhongcun", "中村", 8)]),
}
NAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
GIVEN = "建国秀英春花明华志强桂兰玉梅"


def build(seed: int = 14) -> None:
    """Create both townships and their villages, with activity in 2026Q3 and 2026Q4, and commit.

    东村 publishes 2026Q3 and then records more entries that the snapshot must not show;
    西村 names black-listed households by group, 东村 masks them, 南村 shows them in full.
    """
    rng = random.Random(seed)
    for tslug, (tname, members) in TOWNSHIPS.items():
        for vslug, vname, count in members:
            village = villages.create_village(None, vname, vslug, ["一组", "二组", "三组"], require_review=False)
            village.black_naming = {"xicun": "group", "nancun": "full"}.get(vslug, "masked")
            _activity(village, count, rng)
        townships.create_township(None, tname, tslug, [v[0] for v in members])
    db.session.commit()
    dongcun = villages.get_by_slug("dongcun")
    publication.publish(None, dongcun, Q3, contact="东村村委会", today=dt.date(2026, 10, 8))
    db.session.commit()


def _activity(village, count: int, rng: random.Random) -> None:
    groups = village.groups
    made = []
    for n in range(count):
        name = rng.choice(NAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
        joined = dt.date(2026, 8, 20) if n == count - 1 else None
        h = create_household(None, village, HouseholdFields(head_name=name, group=groups[n % 3], joined_on=joined))
        made.append(h)
    db.session.flush()
    # One household left before the quarter: out of the tally, its entries with it.
    gone = made[1]
    ledger.make_entry(None, village, gone, rules.rule_by_code(village, "P01"), dt.date(2026, 3, 3), today=TODAY)
    deactivate_household(None, gone, dt.date(2026, 6, 30), "moved")
    plus = ["P01", "P02", "P03", "P06"]
    minus = ["M03", "M04", "M09"]
    for h in made[2:]:
        for quarter in (Q3, Q4):
            for _ in range(rng.randint(0, 3)):
                code = rng.choice(plus if rng.random() < 0.7 else minus)
                day = quarter.first_day + dt.timedelta(days=rng.randint(0, 40))
                if day < (h.joined_on or day):
                    day = h.joined_on
                ledger.make_entry(None, village, h, rules.rule_by_code(village, code), day, evidence=True,
                                  today=TODAY)
    # A trigger rule (M06), one of them reversed; an honour; an aid suspension; a pending entry.
    trig = ledger.make_entry(None, village, made[2], rules.rule_by_code(village, "M06"), dt.date(2026, 7, 9),
                             evidence=True, today=TODAY)
    reversed_trigger = ledger.make_entry(None, village, made[3], rules.rule_by_code(village, "M06"),
                                         dt.date(2026, 7, 10), evidence=True, today=TODAY)
    ledger.reverse(None, reversed_trigger, "认定有误")
    ledger.add_honour(None, made[4], "文明家庭", dt.date(2026, 9, 1))
    ledger.add_aid_suspension(None, made[5], dt.date(2026, 8, 1), dt.date(2026, 12, 31), "不配合")
    pending = ledger.make_entry(None, village, made[6], rules.rule_by_code(village, "P02"), dt.date(2026, 11, 2),
                                today=TODAY)
    pending.status = "pending"
    # The store: two visits in the quarter, one of them voided; one in the previous quarter.
    item = store.create_item(None, village, store.ItemFields(name="洗衣粉", unit="袋", price=5))
    store.stock_in(None, item, 50, moved_on=dt.date(2026, 6, 1), today=TODAY)
    rich = made[0]
    for day in (5, 6, 7, 8):
        ledger.make_entry(None, village, rich, rules.rule_by_code(village, "P06"), dt.date(2026, 6, day),
                          today=TODAY)
    store.redeem(None, village, rich, {item.id: 1}, today=dt.date(2026, 6, 20))
    store.redeem(None, village, rich, {item.id: 2}, today=dt.date(2026, 11, 3))
    voided = store.redeem(None, village, rich, {item.id: 1}, today=dt.date(2026, 11, 4))
    store.void(None, voided, "拿错了", today=dt.date(2026, 11, 4))
    del trig
    db.session.flush()


def add_user(username: str, role: str, township_slug: str | None = None, slugs=()) -> None:
    township = townships.get_by_slug(township_slug) if township_slug else None
    scoped = [villages.get_by_slug(s) for s in slugs]
    accounts.create_user(None, username, PASSWORD, role, scoped, township=township)
    db.session.commit()


def entries_of(village) -> list[Entry]:
    return list(db.session.execute(db.select(Entry).where(Entry.village_id == village.id)).scalars())
