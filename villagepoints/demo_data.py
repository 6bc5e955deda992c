"""A demo village with a few hundred made-up households, so a newcomer sees a living system.

Everything is drawn from a seeded random generator: the same command gives the same
village on every machine. The names, ID numbers and phones are invented; ID numbers are
well-formed (region, birth date, sequence and a correct check digit) but belong to nobody.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Optional, Sequence

from . import accounts, applications, cards, households, ledger, publication, rules, store, villages
from .extensions import db
from .households import CodeAllocator, HouseholdFields
from .models import User, Village
from .personal_data import id_check_char
from .quarters import Quarter

DEMO_NAME = "示范村"
DEMO_SLUG = "demo"
DEFAULT_HOUSEHOLDS = 400
MAX_HOUSEHOLDS = 20_000
SEED = 20240601
GROUPS = ("一组", "二组", "三组", "四组", "五组", "六组")
DEMO_ROLES = ("clerk", "reviewer", "storekeeper", "viewer")
DEMO_ROLE_NAMES = {"clerk": "示范录入员", "reviewer": "示范审核员", "storekeeper": "示范超市管理员", "viewer": "示范只读用户"}

# Common surnames, weighted roughly as they occur; a village is dominated by a few clans,
# which the weights give without naming any real place.
_SURNAMES = (
    ("王", 9), ("李", 9), ("张", 8), ("刘", 7), ("陈", 6), ("杨", 5), ("黄", 4), ("赵", 4),
    ("吴", 3), ("周", 3), ("徐", 2), ("孙", 2), ("马", 2), ("朱", 2), ("胡", 2), ("郭", 2),
    ("何", 2), ("高", 2), ("林", 2), ("罗", 2), ("郑", 1), ("梁", 1), ("谢", 1), ("宋", 1),
    ("唐", 1), ("许", 1), ("韩", 1), ("冯", 1), ("邓", 1), ("曹", 1), ("彭", 1), ("曾", 1),
    ("肖", 1), ("田", 1), ("董", 1), ("袁", 1), ("潘", 1), ("蒋", 1), ("蔡", 1), ("余", 1),
    ("杜", 1), ("叶", 1), ("程", 1), ("魏", 1), ("苏", 1), ("吕", 1), ("丁", 1), ("任", 1),
    ("欧阳", 1), ("司马", 1),
)
_MALE_CHARS = "建国军华明强伟志勇平忠福贵德富海林文斌涛刚永春祥发荣生成俊杰宝山树民兴旺庆广"
_FEMALE_CHARS = "秀英兰芳丽梅桂玉珍凤红霞翠云燕琴春花美娟敏静淑金莲菊"
# Categories besides 一般户, with how often a household carries each.
_CATEGORY_RATES = (
    ("党员户", 0.10), ("脱贫户", 0.08), ("监测户", 0.03), ("低保户", 0.05),
    ("五保户", 0.02), ("村干部户", 0.02),
)
_MEMBER_WEIGHTS = ((1, 6), (2, 14), (3, 22), (4, 26), (5, 18), (6, 9), (7, 5))
# Two neighbouring county codes of one made-up prefecture.
_REGION_CODES = ("522731", "522732")
_MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                    "152", "155", "157", "158", "159", "177", "180", "182", "183", "187",
                    "188", "189", "199")


class DemoError(ValueError):
    """The demo cannot be loaded; the message says why in Chinese."""


@dataclass
class DemoResult:
    """What the demo loaded, for the command to report."""

    village: Village
    households: int
    inactive: int
    users: list[User] = field(default_factory=list)
    entries: int = 0
    pending: int = 0
    published: str = ""
    redemptions: int = 0


def load_demo(
    actor: Optional[User],
    password: str,
    *,
    households_count: int = DEFAULT_HOUSEHOLDS,
    slug: str = DEMO_SLUG,
    name: str = DEMO_NAME,
    seed: int = SEED,
    today: Optional[dt.date] = None,
    activity: bool = True,
) -> DemoResult:
    """Create the demo village, its households, one demo user per role (password given),
    a scored and published last quarter, this quarter's entries and a stocked store
    (``activity=False`` stops after the register and the users, for benchmarks).

    Demo users are named after the village: ``demo-clerk``, ``demo-reviewer`` … for slug
    ``demo``. Nothing is written when the village or one of those users exists already.
    """
    if not 1 <= households_count <= MAX_HOUSEHOLDS:
        raise DemoError(f"示范农户数应在1到{MAX_HOUSEHOLDS}之间")
    if villages.get_by_slug(slug) is not None:
        raise DemoError(f"村代码“{slug}”已存在，示范数据没有重复加载。如需另建一个示范村，请换一个 --slug。")
    usernames = [f"{slug}-{role}" for role in DEMO_ROLES]
    taken = db.session.execute(db.select(User.username).where(User.username.in_(usernames))).scalars().all()
    if taken:
        raise DemoError(f"用户“{'、'.join(taken)}”已存在，示范数据没有加载。")

    village = villages.create_village(actor, name, slug, list(GROUPS))
    # A notice must say whom to ask; publishing refuses without it.
    village.objection_contact = "村积分管理小组 村委会办公室（工作日 8:30–17:30）"
    groups = {g.name: g for g in village.groups}
    codes = CodeAllocator(village)
    created = []
    for row in household_rows(households_count, GROUPS, seed):
        fields = HouseholdFields(**{**row, "group": groups[row["group"]]})
        # The batch is unique and well-formed by construction, as an import's is after
        # its validation pass, so the per-row lookups are skipped.
        created.append(households.create_household(actor, village, fields, codes, check=False))

    # A few households have moved away, so the register shows both statuses.
    rng = random.Random(seed + 1)
    inactive = rng.sample(created, k=len(created) // 100)
    for household in inactive:
        on = household.joined_on + dt.timedelta(days=rng.randrange(30, 700))
        households.deactivate_household(actor, household, min(on, dt.date(2025, 12, 31)), "moved", "外出务工，全家迁出")

    users = [
        accounts.create_user(actor, username, password, role, [village], DEMO_ROLE_NAMES[role])
        for username, role in zip(usernames, DEMO_ROLES)
    ]
    result = DemoResult(village=village, households=len(created), inactive=len(inactive), users=users)
    if activity:
        active = [h for h in created if h.is_active]
        moving = _load_activity(actor, village, active, users[0], random.Random(seed + 2), today or dt.date.today())
        for key, value in moving.items():
            setattr(result, key, value)
    return result


def _load_cards(actor: Optional[User], village: Village, shoppers: list, today: dt.date) -> None:
    """Open two plus rules to applications, hand the first group its cards and queue two
    households' applications for the clerk (申请待核实).

    The cards' tokens are not kept anywhere (only their hashes are): to try a card page,
    print a group's cards from the register, which issues new ones.
    """
    open_codes = ("P03", "P04")
    for rule in rules.village_rules(village, active_only=True):
        if rule.code in open_codes and rule.is_plus:
            rule.open_to_applications = True
    first_group = village.groups[0] if village.groups else None
    if first_group is not None and cards.households_to_print(village, first_group):
        cards.issue_for_print(actor, village, first_group)
    chosen = [r for r in applications.open_rules(village)]
    for household, note in zip(shoppers[1:3], ("参加村里组织的河道清扫", "帮邻居抢收玉米")):
        if not chosen:
            break
        try:
            applications.apply(household, chosen[0], today, note, storage_root=".", today=today)
        except ledger.LedgerError:
            continue  # a cap or a date the story cannot meet on this day: the queue is shorter


# (name, unit, points price, category, stock) of the demo store's shelf.
_STORE_ITEMS = (
    ("洗衣粉", "袋", 10, "日用品", 60), ("食用油", "瓶", 30, "粮油", 30), ("大米", "袋", 40, "粮油", 20),
    ("香皂", "块", 5, "日用品", 100), ("毛巾", "条", 8, "日用品", 50), ("酱油", "瓶", 12, "调味品", 40),
)


def _entry_dates(rng: random.Random, first: dt.date, last: dt.date, count: int) -> list[dt.date]:
    span = (last - first).days
    return [first + dt.timedelta(days=rng.randint(0, span)) for _ in range(count)]


def _load_activity(
    actor: Optional[User], village: Village, active: list, clerk: User, rng: random.Random, today: dt.date
) -> dict:
    """Give the demo a scheme in motion: last quarter scored, honoured and published, this
    quarter scored with some entries waiting for review, and a stocked store with redemptions.

    The same story on every day of the year: a few "model households" (the honoured ones,
    who later shop at the store) are scored in both quarters with plus rules only, so the
    store always has customers who can pay and the review queue is never empty, even on
    the first day of a quarter.
    """
    rule_list = rules.village_rules(village, active_only=True)
    plus = [r for r in rule_list if r.is_plus]
    minus = [r for r in rule_list if not r.is_plus]
    last_quarter = Quarter.of(today).previous()
    this_quarter = Quarter.of(today)
    shoppers = rng.sample(active, k=min(12, len(active)))
    model = set(shoppers)
    # The honour's own rule (P07 in the standard rulebook); its points cover the cheapest
    # item, so every honoured household can shop.
    honour_rule = next((r for r in plus if r.code == "P07"), max(plus, key=lambda r: r.default_points))

    def scored(first: dt.date, last: dt.date) -> list[tuple]:
        items = []
        for household in active:
            if household.joined_on and household.joined_on > last:
                continue
            start = max(first, household.joined_on or first)
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                rule = rng.choice(plus)
                items.append((household, rule, _entry_dates(rng, start, last, 1)[0], rule.default_points,
                              "村两委组织评议"))
            if household not in model and rng.random() < 0.08:
                rule = rng.choice(minus)
                items.append((household, rule, _entry_dates(rng, start, last, 1)[0], rule.default_points,
                              "纸质记录存村委会档案柜"))
        return items

    earlier = scored(last_quarter.first_day, last_quarter.last_day)
    honours = []
    for household in shoppers[:5]:
        day = _entry_dates(rng, last_quarter.first_day, last_quarter.last_day, 1)[0]
        honours.append((household, rng.choice(("文明家庭", "星级农户", "身边好人", "美丽家园")), day))
        earlier.append((household, honour_rule, day, honour_rule.default_points, "获评荣誉，村两委评议加分"))
    ledger.record_checked(actor, village, earlier, source="import", approve=True)
    for household, title, day in honours:
        ledger.add_honour(actor, household, title, day, "镇党委")
    published = publication.publish(actor, village, last_quarter, today=today)

    now = scored(this_quarter.first_day, today)
    # The clerk's latest entries wait in the review queue; a model household's entry of
    # today is among them, so the queue has something on the quarter's first day too.
    now.append((shoppers[0], plus[0], today, plus[0].default_points, "今天入户走访记录"))
    waiting = now[-min(20, len(now)):]
    ledger.record_checked(actor, village, now[:len(now) - len(waiting)], source="import", approve=True)
    ledger.record_checked(clerk, village, waiting, source="web")

    items = []
    for name, unit, price, category, stock in _STORE_ITEMS:
        item = store.create_item(actor, village, store.ItemFields(name=name, unit=unit, price=price, category=category))
        store.stock_in(actor, item, stock, source="donation" if price >= 30 else "purchase",
                       supplier="爱心企业" if price >= 30 else "镇供销社", today=today)
        items.append(item)
    redemptions = 0
    for household in shoppers:
        # Each shopper takes what its points cover, as the store keeper would suggest.
        balance = store.spendable(household, today)
        affordable = [item for item in items if item.price <= balance and item.stock > 0]
        if not affordable:
            continue
        store.redeem(actor, village, household, {rng.choice(affordable).id: 1}, today=today)
        redemptions += 1
    _load_cards(actor, village, shoppers, today)
    return {"entries": len(earlier) + len(now), "pending": len(waiting), "published": str(published.quarter),
            "redemptions": redemptions}


def household_rows(count: int, group_names: Sequence[str], seed: int = SEED) -> list[dict]:
    """Return made-up households as plain values (group by name); the same for the same seed.

    Keys are HouseholdFields' names; ID numbers are unique within the list.
    """
    rng = random.Random(seed)
    seen_ids: set[str] = set()
    per_group = dict.fromkeys(group_names, 0)
    rows = []
    for _ in range(count):
        group = rng.choice(group_names)
        per_group[group] += 1
        male = rng.random() < 0.85
        rows.append({
            "head_name": _person_name(rng, male),
            "id_number": _id_number(rng, male, seen_ids) if rng.random() < 0.95 else None,
            "phone": _mobile(rng) if rng.random() < 0.9 else None,
            "group": group,
            "members": _weighted(rng, _MEMBER_WEIGHTS),
            "categories": _categories(rng),
            "address": f"{group}{per_group[group]}号",
            "joined_on": dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(5 * 365)),
        })
    return rows


def _weighted(rng: random.Random, pairs) -> object:
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def _person_name(rng: random.Random, male: bool) -> str:
    surname = _weighted(rng, _SURNAMES)
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    # Most rural names of this generation have two given characters; some have one.
    given = "".join(rng.sample(chars, 2 if rng.random() < 0.75 else 1))
    return surname + given


def _id_number(rng: random.Random, male: bool, seen: set[str]) -> str:
    """Return an unused, well-formed ID number for a household head aged about 25 to 80."""
    while True:
        born = dt.date(1946, 1, 1) + dt.timedelta(days=rng.randrange(55 * 365))
        # The 17th digit is odd for men and even for women.
        sequence = rng.randrange(500) * 2 + (1 if male else 0)
        first17 = f"{rng.choice(_REGION_CODES)}{born:%Y%m%d}{sequence:03d}"
        number = first17 + id_check_char(first17)
        if number not in seen:
            seen.add(number)
            return number


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _categories(rng: random.Random) -> list[str]:
    chosen = [name for name, rate in _CATEGORY_RATES if rng.random() < rate]
    return chosen or ["一般户"]
