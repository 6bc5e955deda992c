"""The points store (积分超市): items, stock movements, redemptions, voids and expiry.

The numbers obey DESIGN §3 and §6:

- an item's stock is the sum of its movements (stock-in, redemption, void,
  stocktake adjustment) and never goes below zero;
- a household's balance is ledger.balance(): approved entries − redemptions not
  voided − expired points, each a sum of records;
- a redemption checks, in one transaction, that the household is active, the stock
  covers every line and the balance covers the total; otherwise nothing is written.

Two storekeepers at once: on SQLite every write transaction holds the database write
lock from its BEGIN (sqlite_tuning), so redemptions run one after another. On
PostgreSQL a redemption locks the household row, then the item rows in id order,
then the receipt counter, and only then reads balance and stock; everything that
changes a balance or a stock takes its locks in that same order, so no two
transactions wait on each other in a circle.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import audit, ledger
from .extensions import db
from .ledger import LedgerError
from .models import (
    STOCK_SOURCES,
    Entry,
    Household,
    Item,
    PointsExpiry,
    ReceiptCounter,
    Redemption,
    RedemptionLine,
    StockMovement,
    User,
    Village,
    utcnow,
)

RECEIPT_PREFIX = "DH"
MAX_PRICE = 100_000
MAX_QUANTITY = 100_000
# More of one item at one visit than a village store ever hands out is a typing slip.
MAX_LINE_QUANTITY = 999
PANEL_REDEMPTIONS = 10


class StoreError(LedgerError):
    """A store operation refused by a rule of the scheme; the message says why in Chinese."""


# A household that left the register can neither earn nor spend: the ledger's refusal.
HouseholdInactive = ledger.HouseholdInactive


class ItemUnavailable(StoreError):
    pass


class EmptyRedemption(StoreError):
    pass


class OutOfStock(StoreError):
    """Stock does not cover one or more lines; ``shortages`` holds (item, wanted, left)."""

    def __init__(self, message: str, shortages: list[tuple[Item, int, int]]) -> None:
        super().__init__(message)
        self.shortages = shortages


class InsufficientBalance(StoreError):
    """The balance does not cover the total; ``short`` is how many points are missing."""

    def __init__(self, message: str, short: int) -> None:
        super().__init__(message)
        self.short = short


class AlreadyVoided(StoreError):
    pass


class DuplicateSubmission(StoreError):
    """The form's token was already used: the redemption it made is ``redemption``."""

    def __init__(self, redemption: Redemption) -> None:
        super().__init__(f"这次兑换已经提交过（兑换单 {redemption.receipt_no}），没有重复兑换")
        self.redemption = redemption


@dataclass
class ItemFields:
    """Validated values for one item, as the item form hands them over."""

    name: str
    unit: str
    price: int
    category: str = ""
    active: bool = True
    note: str = ""


def item_state(item: Item) -> dict:
    """Return an item's fields for the audit log."""
    return {
        "name": item.name, "unit": item.unit, "price": item.price, "category": item.category,
        "active": item.active, "note": item.note,
    }


# --- Catalogue ---------------------------------------------------------------------


def village_items(village: Village, active_only: bool = False) -> list[Item]:
    """Return the village's items by category and name."""
    stmt = db.select(Item).where(Item.village_id == village.id)
    if active_only:
        stmt = stmt.where(Item.active.is_(True))
    return list(db.session.execute(stmt.order_by(Item.category, Item.name, Item.id)).scalars())


def get_item(village: Village, item_id: int) -> Optional[Item]:
    """Return one of the village's items, or None."""
    item = db.session.get(Item, item_id)
    return item if item is not None and item.village_id == village.id else None


def _check_item(village: Village, fields: ItemFields, item: Optional[Item]) -> ItemFields:
    name = (fields.name or "").strip()
    unit = (fields.unit or "").strip()
    if not name:
        raise StoreError("请填写商品名称", "name")
    if len(name) > 100:
        raise StoreError("商品名称不能超过100个字", "name")
    if not unit:
        raise StoreError("请填写单位，如 袋、瓶、个", "unit")
    if len(unit) > 10:
        raise StoreError("单位不能超过10个字", "unit")
    if fields.price is None or not 1 <= fields.price <= MAX_PRICE:
        raise StoreError(f"兑换积分应在1到{MAX_PRICE}之间", "price")
    category = (fields.category or "").strip()
    if len(category) > 50:
        raise StoreError("类别不能超过50个字", "category")
    other = db.session.execute(
        db.select(Item.id).where(Item.village_id == village.id, Item.name == name)
    ).scalar_one_or_none()
    if other is not None and (item is None or other != item.id):
        raise StoreError(f"本村已有名为“{name}”的商品", "name")
    return ItemFields(name, unit, int(fields.price), category, bool(fields.active), (fields.note or "").strip())


def create_item(actor: Optional[User], village: Village, fields: ItemFields) -> Item:
    """Add an item to the village's catalogue with no stock; stock comes in by stock-in."""
    clean = _check_item(village, fields, None)
    item = Item(
        village_id=village.id, name=clean.name, unit=clean.unit, price=clean.price,
        category=clean.category, active=clean.active, note=clean.note, stock=0,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "item.create", village_id=village.id, target=f"商品 {item.name}", after=item_state(item))
    return item


def update_item(actor: Optional[User], item: Item, fields: ItemFields) -> None:
    """Change an item; a new price applies from now on, past redemptions keep theirs."""
    village = db.session.get(Village, item.village_id)
    clean = _check_item(village, fields, item)
    before = item_state(item)
    item.name, item.unit, item.price = clean.name, clean.unit, clean.price
    item.category, item.active, item.note = clean.category, clean.active, clean.note
    old, new = audit.changed(before, item_state(item))
    if new:
        audit.record(actor, "item.update", village_id=item.village_id, target=f"商品 {item.name}", before=old, after=new)


# --- Stock -------------------------------------------------------------------------


def _lock_items(village: Village, ids: Iterable[int]) -> dict[int, Item]:
    """Lock the items' rows in id order (PostgreSQL) and reload them, so stock is current."""
    rows = db.session.execute(
        db.select(Item).where(Item.village_id == village.id, Item.id.in_(sorted(set(ids))))
        .order_by(Item.id).with_for_update().execution_options(populate_existing=True)
    ).scalars()
    return {item.id: item for item in rows}


def _lock_item(item: Item) -> Item:
    village = db.session.get(Village, item.village_id)
    return _lock_items(village, [item.id])[item.id]


def _move(
    actor: Optional[User], item: Item, kind: str, quantity: int, day: dt.date, *,
    redemption: Optional[Redemption] = None, **extra,
) -> StockMovement:
    """Change an item's stock by a recorded movement; the item's row must be locked."""
    if item.stock + quantity < 0:
        # Callers check first with a message for the user; this guards the invariant.
        raise OutOfStock(f"“{item.name}”库存只剩 {item.stock}{item.unit}", [(item, -quantity, item.stock)])
    item.stock += quantity
    movement = StockMovement(
        village_id=item.village_id, item_id=item.id, item=item, kind=kind, quantity=quantity,
        stock_after=item.stock, moved_on=day, redemption=redemption,
        created_by_id=actor.id if actor else None, created_by_name=audit.actor_name(actor), **extra,
    )
    db.session.add(movement)
    return movement


def _check_day(day: Optional[dt.date], today: dt.date, what: str) -> dt.date:
    if day is None:
        raise StoreError(f"请填写{what}日期", "moved_on")
    if day > today:
        raise StoreError(f"{what}日期 {day} 在今天之后", "moved_on")
    return day


def stock_in(
    actor: Optional[User], item: Item, quantity: int, *, source: str = "purchase", supplier: str = "",
    moved_on: Optional[dt.date] = None, note: str = "", today: Optional[dt.date] = None,
) -> StockMovement:
    """Record goods coming in (purchase or donation, from whom) and add them to the stock."""
    today = today or dt.date.today()
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        raise StoreError(f"入库数量应在1到{MAX_QUANTITY}之间", "quantity")
    if source not in STOCK_SOURCES:
        raise StoreError("请选择来源：采购或捐赠", "source")
    supplier = (supplier or "").strip()
    if len(supplier) > 100:
        raise StoreError("供货方或捐赠人不能超过100个字", "supplier")
    day = _check_day(moved_on or today, today, "入库")
    item = _lock_item(item)
    before = item.stock
    movement = _move(
        actor, item, "in", int(quantity), day, source=source, supplier=supplier, note=(note or "").strip(),
    )
    db.session.flush()
    audit.record(
        actor, "stock.in", village_id=item.village_id, target=f"商品 {item.name}",
        summary=f"{STOCK_SOURCES[source]}入库 {quantity}{item.unit}" + (f"，来自 {supplier}" if supplier else ""),
        before={"stock": before}, after={"stock": item.stock},
    )
    return movement


def stocktake(
    actor: Optional[User], item: Item, counted: int, reason: str, *,
    moved_on: Optional[dt.date] = None, today: Optional[dt.date] = None,
) -> StockMovement:
    """Set the stock to the quantity counted on the shelf, recording the difference and why."""
    today = today or dt.date.today()
    if counted is None or not 0 <= counted <= MAX_QUANTITY:
        raise StoreError(f"盘点数量应在0到{MAX_QUANTITY}之间", "counted")
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("请写明盘点调整的原因，如 过期报损、清点有误", "reason")
    day = _check_day(moved_on or today, today, "盘点")
    item = _lock_item(item)
    before = item.stock
    movement = _move(actor, item, "adjust", int(counted) - before, day, counted=int(counted), note=reason)
    db.session.flush()
    audit.record(
        actor, "stock.adjust", village_id=item.village_id, target=f"商品 {item.name}", summary=reason,
        before={"stock": before}, after={"stock": item.stock},
    )
    return movement


def movements_query(item: Item) -> Select:
    """Select an item's stock movements, newest first."""
    return db.select(StockMovement).where(StockMovement.item_id == item.id).order_by(StockMovement.id.desc())


def movement_sum(item: Item) -> int:
    """Sum an item's stock movements: what its stock must equal."""
    return int(db.session.execute(
        db.select(db.func.coalesce(db.func.sum(StockMovement.quantity), 0)).where(StockMovement.item_id == item.id)
    ).scalar_one())


@dataclass
class StockRow:
    item: Item
    value: int


def stock_on_hand(village: Village, include_inactive: bool = True) -> tuple[list[StockRow], int]:
    """Return every item with its stock value in points (stock × current price), and the total."""
    rows = [StockRow(item, item.stock * item.price) for item in village_items(village)
            if include_inactive or item.active]
    return rows, sum(r.value for r in rows)


# --- Redemption --------------------------------------------------------------------


def _by_token(token: str) -> Optional[Redemption]:
    return db.session.execute(db.select(Redemption).where(Redemption.token == token)).scalar_one_or_none()


def _next_receipt_no(village: Village, year: int) -> str:
    """Take the village's next receipt number for the year: DH2026-000123."""
    stmt = (
        db.select(ReceiptCounter).where(ReceiptCounter.village_id == village.id, ReceiptCounter.year == year)
        .with_for_update().execution_options(populate_existing=True)
    )
    counter = db.session.execute(stmt).scalar_one_or_none()
    if counter is None:
        try:
            with db.session.begin_nested():
                counter = ReceiptCounter(village_id=village.id, year=year, last=0)
                db.session.add(counter)
        except IntegrityError:
            # The first receipt of the year was being taken at the same moment elsewhere.
            counter = db.session.execute(stmt).scalar_one()
    counter.last += 1
    db.session.flush()
    return f"{RECEIPT_PREFIX}{year}-{counter.last:06d}"


def _wanted_lines(wanted: Mapping[int, int] | Iterable[tuple[int, int]]) -> dict[int, int]:
    pairs = wanted.items() if isinstance(wanted, Mapping) else wanted
    lines: dict[int, int] = {}
    for item_id, quantity in pairs:
        quantity = int(quantity or 0)
        if quantity < 0:
            raise StoreError("数量不能是负数")
        if quantity:
            lines[int(item_id)] = lines.get(int(item_id), 0) + quantity
    if not lines:
        raise EmptyRedemption("请至少选择一样商品并填写数量")
    return lines


def redeem(
    actor: Optional[User],
    village: Village,
    household: Household,
    wanted: Mapping[int, int] | Iterable[tuple[int, int]],
    *,
    token: Optional[str] = None,
    today: Optional[dt.date] = None,
) -> Redemption:
    """Give a household items for points: all lines or nothing, with a receipt number.

    ``wanted`` maps item ids to quantities. Refused, with how much is missing, when the
    household is inactive, an item is off the shelf, the stock does not cover a line or
    the balance does not cover the total. A ``token`` already used raises
    DuplicateSubmission carrying the redemption it made, so a resubmitted form redeems once.
    """
    today = today or dt.date.today()
    lines = _wanted_lines(wanted)
    if household.village_id != village.id:
        raise StoreError("该农户不属于本村", "household")
    ledger.lock_household(household, reload=True)
    if token:
        # Read after the household lock: a twin of this form for the same household has
        # committed by now (PostgreSQL) or ran before our BEGIN (SQLite).
        twin = _by_token(token)
        if twin is not None:
            raise DuplicateSubmission(twin)
    if not household.is_active:
        raise HouseholdInactive(f"农户 {ledger.household_label(household)} 已注销，不能兑换", "household")
    if any(q > MAX_LINE_QUANTITY for q in lines.values()):
        raise StoreError(f"每样商品一次最多兑换 {MAX_LINE_QUANTITY} 件")
    items = _lock_items(village, lines)
    if len(items) != len(lines):
        raise ItemUnavailable("所选商品有的已不在本村商品目录中，请刷新页面后重新选择")
    for item in items.values():
        if not item.active:
            raise ItemUnavailable(f"“{item.name}”已下架，不能兑换")
    total = sum(items[i].price * q for i, q in lines.items())
    if village.points_expire:
        expire_due(actor, household, today)
    available = ledger.balance(household.id)
    shortages = [(items[i], q, items[i].stock) for i, q in lines.items() if items[i].stock < q]
    if shortages:
        message = "；".join(
            f"“{item.name}”库存只剩 {left}{item.unit}，要兑换 {q}{item.unit}，还差 {q - left}{item.unit}"
            for item, q, left in shortages
        )
        if total > available:
            message += f"；另外可用积分也不够，还差 {total - available} 分"
        raise OutOfStock(message, shortages)
    if total > available:
        raise InsufficientBalance(
            f"农户 {ledger.household_label(household)} 可用积分 {available} 分，本次兑换需 {total} 分，还差 {total - available} 分",
            total - available,
        )
    redemption = Redemption(
        village_id=village.id, household_id=household.id, household=household,
        receipt_no=_next_receipt_no(village, today.year), token=token or None, redeemed_on=today,
        total_points=total, item_count=sum(lines.values()), balance_after=available - total,
        created_by_id=actor.id if actor else None, created_by_name=audit.actor_name(actor),
    )
    try:
        with db.session.begin_nested():
            db.session.add(redemption)
    except IntegrityError:
        # A concurrent twin with the same token won the unique index.
        twin = _by_token(token) if token else None
        if twin is None:
            raise
        raise DuplicateSubmission(twin) from None
    for item_id, quantity in lines.items():
        item = items[item_id]
        db.session.add(RedemptionLine(
            redemption=redemption, item_id=item.id, item=item, item_name=item.name, unit=item.unit,
            price=item.price, quantity=quantity, points=item.price * quantity,
        ))
        _move(actor, item, "redeem", -quantity, today, redemption=redemption)
    db.session.flush()
    audit.record(
        actor, "redemption.create", village_id=village.id, household_id=household.id,
        target=f"兑换单 {redemption.receipt_no} {ledger.household_label(household)}",
        summary=f"兑换 {redemption.item_count} 件，共 {total} 分，余 {redemption.balance_after} 分",
        after={
            "receipt_no": redemption.receipt_no, "points": total,
            "items": [f"{line.item_name}×{line.quantity}" for line in redemption.lines],
        },
    )
    return redemption


def void(actor: Optional[User], redemption: Redemption, reason: str, *, today: Optional[dt.date] = None) -> None:
    """Cancel a redemption with a reason: points and stock come back, the original stays, marked void."""
    today = today or dt.date.today()
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("作废时请写明原因", "reason")
    ledger.lock_household(redemption.household, reload=True)
    db.session.execute(
        db.select(Redemption).where(Redemption.id == redemption.id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if redemption.is_voided:
        raise AlreadyVoided(
            f"兑换单 {redemption.receipt_no} 已由 {redemption.voided_by_name} 作废，不能重复作废"
        )
    village = db.session.get(Village, redemption.village_id)
    items = _lock_items(village, [line.item_id for line in redemption.lines])
    for line in redemption.lines:
        _move(actor, items[line.item_id], "void", line.quantity, today, redemption=redemption,
              note=f"作废兑换单 {redemption.receipt_no}")
    redemption.voided_at = utcnow()
    redemption.voided_by_id = actor.id if actor else None
    redemption.voided_by_name = audit.actor_name(actor)
    redemption.void_reason = reason
    db.session.flush()
    audit.record(
        actor, "redemption.void", village_id=redemption.village_id, household_id=redemption.household_id,
        target=f"兑换单 {redemption.receipt_no} {ledger.household_label(redemption.household)}", summary=reason,
        before={"status": "有效"}, after={"status": "已作废", "points": redemption.total_points},
    )


def get_redemption(village: Village, redemption_id: int) -> Optional[Redemption]:
    """Return one of the village's redemptions, or None."""
    found = db.session.get(Redemption, redemption_id)
    return found if found is not None and found.village_id == village.id else None


def household_redemptions(household: Household, limit: int = PANEL_REDEMPTIONS) -> list[Redemption]:
    """Return a household's latest redemptions, voided ones included."""
    return list(db.session.execute(
        db.select(Redemption).where(Redemption.household_id == household.id)
        .order_by(Redemption.redeemed_on.desc(), Redemption.id.desc()).limit(limit)
        .options(selectinload(Redemption.lines))
    ).scalars())


# --- Expiry ------------------------------------------------------------------------


def set_points_expire(actor: Optional[User], village: Village, on: bool) -> None:
    """Turn the village's points expiry on or off (off by default)."""
    on = bool(on)
    if village.points_expire == on:
        return
    village.points_expire = on
    audit.record(
        actor, "village.update", village_id=village.id, target=f"村 {village.name}",
        before={"points_expire": not on}, after={"points_expire": on},
    )


def expiry_deadline(points_year: int) -> dt.date:
    """Return the last day points earned in ``points_year`` can be spent: the end of the next year."""
    return dt.date(points_year + 1, 12, 31)


def write_offs(
    earned: Mapping[int, int], spent: Mapping[int, int], expired: Mapping[int, int], balance: int, last_year: int,
) -> dict[int, int]:
    """Return the points to write off per points year up to ``last_year``.

    Spending uses the oldest points first: what a year's points and all earlier years'
    leave unspent by the end of the next year, less what already expired, expires. A
    write-off never exceeds the balance, so expiry alone never makes it negative.
    Arguments are per-year sums: earned by entry date, spent by redemption date,
    expired by points year.
    """
    years = [*earned, *expired]
    if not years:
        return {}
    due: dict[int, int] = {}
    for year in range(min(years), last_year + 1):
        unspent = (
            sum(v for y, v in earned.items() if y <= year)
            - sum(v for y, v in spent.items() if y <= year + 1)
            - sum(v for y, v in expired.items() if y <= year)
            - sum(due.values())
        )
        points = min(unspent, balance)
        if points > 0:
            due[year] = points
            balance -= points
    return due


def _year_sums(column, date_column, *where) -> dict[int, int]:
    year = db.extract("year", date_column)
    rows = db.session.execute(db.select(year, db.func.sum(column)).where(*where).group_by(year))
    return {int(y): int(total) for y, total in rows}


def _household_year_sums(household_id: int) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    earned = _year_sums(Entry.points, Entry.entry_date, Entry.household_id == household_id, Entry.status == "approved")
    spent = _year_sums(
        Redemption.total_points, Redemption.redeemed_on,
        Redemption.household_id == household_id, Redemption.voided_at.is_(None),
    )
    expired = {
        int(y): int(total) for y, total in db.session.execute(
            db.select(PointsExpiry.points_year, db.func.sum(PointsExpiry.points))
            .where(PointsExpiry.household_id == household_id).group_by(PointsExpiry.points_year)
        )
    }
    return earned, spent, expired


def expire_due(actor: Optional[User], household: Household, today: Optional[dt.date] = None) -> list[PointsExpiry]:
    """Write off the household's points whose deadline has passed, as ledger records.

    Does nothing where the village's points do not expire. Safe to run again: what
    already expired is counted, and only a difference (e.g. after a void) is added.
    """
    today = today or dt.date.today()
    village = db.session.get(Village, household.village_id)
    if not village.points_expire:
        return []
    earned, spent, expired = _household_year_sums(household.id)
    due = write_offs(earned, spent, expired, ledger.balance(household.id), today.year - 2)
    made = []
    for year, points in due.items():
        record = PointsExpiry(
            village_id=household.village_id, household_id=household.id, household=household,
            points_year=year, points=points, expired_on=expiry_deadline(year),
        )
        db.session.add(record)
        made.append(record)
    if made:
        db.session.flush()
        audit.record(
            actor, "points.expire", village_id=household.village_id, household_id=household.id,
            target=f"农户 {ledger.household_label(household)}",
            summary="；".join(f"{r.points_year}年的积分过期 {r.points} 分（{r.expired_on} 到期）" for r in made),
            after={"points": sum(r.points for r in made)},
        )
    return made


def expire_village(actor: Optional[User], village: Village, today: Optional[dt.date] = None) -> int:
    """Write off every household's points past their deadline; return the points written off."""
    if not village.points_expire:
        return 0
    ids = db.session.execute(
        db.select(Household.id).where(Household.village_id == village.id).order_by(Household.id)
    ).scalars().all()
    total = 0
    for household_id in ids:
        household = db.session.get(Household, household_id)
        ledger.lock_household(household, reload=True)
        total += sum(r.points for r in expire_due(actor, household, today))
    return total


@dataclass
class ExpiryNote:
    points_year: int
    points: int
    deadline: dt.date
    # Past its deadline but not yet written off: the next redemption or `expire-points` does it.
    overdue: bool


def expiry_outlook(household: Household, today: Optional[dt.date] = None) -> list[ExpiryNote]:
    """Say how many of the household's points expire when (nothing where points do not expire)."""
    today = today or dt.date.today()
    village = db.session.get(Village, household.village_id)
    if not village.points_expire:
        return []
    earned, spent, expired = _household_year_sums(household.id)
    balance = ledger.balance(household.id)
    overdue = write_offs(earned, spent, expired, balance, today.year - 2)
    merged = defaultdict(int, expired)
    for year, points in overdue.items():
        merged[year] += points
    coming = write_offs(earned, spent, merged, balance - sum(overdue.values()), today.year - 1)
    notes = [ExpiryNote(y, p, expiry_deadline(y), True) for y, p in sorted(overdue.items())]
    notes += [ExpiryNote(y, p, expiry_deadline(y), False) for y, p in sorted(coming.items())]
    return notes


def spendable(household: Household, today: Optional[dt.date] = None) -> int:
    """Return what the household can spend now: its balance less points past their deadline."""
    overdue = sum(n.points for n in expiry_outlook(household, today) if n.overdue)
    return ledger.balance(household.id) - overdue


@dataclass
class HouseholdStore:
    redemptions: list[Redemption]
    redemption_total: int
    expiry: list[ExpiryNote] = field(default_factory=list)


def household_summary(household: Household, today: Optional[dt.date] = None) -> HouseholdStore:
    """Return a household's latest redemptions, how many it has, and its points' expiry."""
    total = db.session.execute(
        db.select(db.func.count(Redemption.id)).where(Redemption.household_id == household.id)
    ).scalar_one()
    return HouseholdStore(household_redemptions(household), int(total), expiry_outlook(household, today))


# --- Reports -----------------------------------------------------------------------

REPORT_GROUPINGS = {"day": "按日", "month": "按月", "item": "按商品", "household": "按农户"}


@dataclass
class ReportFilters:
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    item_id: Optional[int] = None
    household_ids: Optional[list[int]] = None
    by: str = "day"


@dataclass
class ReportRow:
    key: str
    label: str
    redemptions: int
    quantity: int
    points: int
    household: Optional[Household] = None


@dataclass
class StoreReport:
    rows: list[ReportRow]
    redemptions: int
    quantity: int
    points: int
    voided: int


def _report_where(village: Village, filters: ReportFilters) -> list:
    where = [Redemption.village_id == village.id]
    if filters.date_from:
        where.append(Redemption.redeemed_on >= filters.date_from)
    if filters.date_to:
        where.append(Redemption.redeemed_on <= filters.date_to)
    if filters.household_ids is not None:
        where.append(Redemption.household_id.in_(filters.household_ids or [-1]))
    if filters.item_id:
        where.append(Redemption.id.in_(
            db.select(RedemptionLine.redemption_id).where(RedemptionLine.item_id == filters.item_id)
        ))
    return where


def redemptions_query(village: Village, filters: ReportFilters) -> Select:
    """Select the redemptions matching the filters (voided ones too), newest first."""
    return (
        db.select(Redemption).where(*_report_where(village, filters))
        .order_by(Redemption.redeemed_on.desc(), Redemption.id.desc())
    )


def report(village: Village, filters: ReportFilters) -> StoreReport:
    """Sum redemptions not voided by day, month, item or household: count, items given out, points.

    With an item filter, quantities and points are that item's lines only.
    """
    where = [*_report_where(village, filters), Redemption.voided_at.is_(None)]
    by_lines = filters.by == "item" or bool(filters.item_id)
    if by_lines:
        quantity, points = db.func.sum(RedemptionLine.quantity), db.func.sum(RedemptionLine.points)
        count = db.func.count(db.distinct(Redemption.id))
        base = db.select().select_from(Redemption).join(RedemptionLine, RedemptionLine.redemption_id == Redemption.id)
        line_where = [RedemptionLine.item_id == filters.item_id] if filters.item_id else []
    else:
        quantity, points, count = (
            db.func.sum(Redemption.item_count), db.func.sum(Redemption.total_points), db.func.count(Redemption.id)
        )
        base = db.select().select_from(Redemption)
        line_where = []
    key = {
        "item": RedemptionLine.item_id if by_lines else None,
        "household": Redemption.household_id,
    }.get(filters.by, Redemption.redeemed_on)
    stmt = base.add_columns(key, count, quantity, points).where(*where, *line_where).group_by(key)
    raw = [(k, int(c), int(q or 0), int(p or 0)) for k, c, q, p in db.session.execute(stmt)]
    rows = _label_rows(filters.by, raw)
    totals = db.session.execute(
        base.add_columns(count, quantity, points).where(*where, *line_where)
    ).one()
    voided = db.session.execute(
        db.select(db.func.count(Redemption.id)).where(*_report_where(village, filters), Redemption.voided_at.is_not(None))
    ).scalar_one()
    return StoreReport(rows, int(totals[0]), int(totals[1] or 0), int(totals[2] or 0), int(voided))


def _label_rows(by: str, raw: list[tuple]) -> list[ReportRow]:
    if by == "item":
        names = dict(db.session.execute(
            db.select(Item.id, Item.name).where(Item.id.in_([k for k, *_ in raw]))
        ).all())
        rows = [ReportRow(str(k), names.get(k, f"#{k}"), c, q, p) for k, c, q, p in raw]
        return sorted(rows, key=lambda r: (-r.quantity, r.label))
    if by == "household":
        homes = {h.id: h for h in db.session.execute(
            db.select(Household).where(Household.id.in_([k for k, *_ in raw]))
        ).scalars()}
        rows = [ReportRow(str(k), f"{homes[k].head_name}（{homes[k].code}）", c, q, p, homes[k]) for k, c, q, p in raw]
        return sorted(rows, key=lambda r: (-r.points, r.household.code))
    days = sorted(((_as_date(k), c, q, p) for k, c, q, p in raw), reverse=True)
    if by == "month":
        months: dict[str, list[int]] = {}
        for day, c, q, p in days:
            sums = months.setdefault(f"{day.year}-{day.month:02d}", [0, 0, 0])
            sums[0] += c
            sums[1] += q
            sums[2] += p
        return [ReportRow(m, f"{m[:4]}年{int(m[5:])}月", *sums) for m, sums in months.items()]
    return [ReportRow(day.isoformat(), day.isoformat(), c, q, p) for day, c, q, p in days]


def _as_date(value) -> dt.date:
    # SQLite hands a grouped date column back as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
