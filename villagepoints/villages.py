"""Villages, their groups (村民小组 / 网格) and their settings."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from . import audit
from .rules import seed_default_rules
from .extensions import db
from .models import BLACK_NAMING, DEFAULT_CATEGORIES, Group, Household, HouseholdCategory, User, Village

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,49}$")
# The settings of the red and black lists and of publishing (DESIGN §4–§5).
LIST_SETTINGS = (
    "red_top_enabled",
    "red_honours_enabled",
    "black_below_base_enabled",
    "black_aid_enabled",
    "black_trigger_enabled",
    "black_naming",
    "notice_days",
    "objection_contact",
    "red_list_title",
    "black_list_title",
)


class VillageError(ValueError):
    """A village or group change that breaks a rule; the message is shown to the user."""


def split_names(text: str) -> list[str]:
    """Split a list typed as 一组,二组、三组 (ASCII or Chinese commas) into clean names."""
    parts = re.split(r"[,，、;；\s]+", text or "")
    seen: list[str] = []
    for part in parts:
        name = part.strip()
        if name and name not in seen:
            seen.append(name)
    return seen


def get_by_slug(slug: str) -> Optional[Village]:
    """Return the village with this slug, or None."""
    return db.session.execute(db.select(Village).filter_by(slug=slug)).scalar_one_or_none()


def create_village(
    actor: Optional[User],
    name: str,
    slug: str,
    groups: Iterable[str] = (),
    *,
    base_score: int = 100,
    require_review: bool = True,
    red_list_size: int = 3,
) -> Village:
    """Add a village with its groups and default settings."""
    name = (name or "").strip()
    slug = (slug or "").strip().lower()
    if not name:
        raise VillageError("村名不能为空")
    if len(name) > 100:
        raise VillageError("村名不能超过100个字")
    if not _SLUG.match(slug):
        raise VillageError("村代码只能用小写字母、数字和连字符，2到50位，例如 jiangba")
    if get_by_slug(slug) is not None:
        raise VillageError(f"村代码“{slug}”已被使用")
    _check_settings(base_score, red_list_size)
    groups = [g.strip() for g in groups if g.strip()]
    for group_name in groups:
        _check_group_name(group_name)
    if len(set(groups)) != len(groups):
        raise VillageError("小组名称有重复，请检查")
    village = Village(
        name=name,
        slug=slug,
        base_score=base_score,
        require_review=require_review,
        red_list_size=red_list_size,
        category_list="、".join(DEFAULT_CATEGORIES),
    )
    db.session.add(village)
    db.session.flush()
    for order, group_name in enumerate(groups, start=1):
        db.session.add(Group(village_id=village.id, name=group_name, sort_order=order))
    db.session.flush()
    audit.record(
        actor,
        "village.create",
        village_id=village.id,
        target=f"村 {name}",
        after={"name": name, "slug": slug, "groups": groups, **settings_of(village)},
    )
    seed_default_rules(actor, village)
    return village


def settings_of(village: Village) -> dict:
    """Return the village's settings as a plain dict (for the audit log and forms)."""
    return {
        "base_score": village.base_score,
        "require_review": village.require_review,
        "red_list_size": village.red_list_size,
        "categories": village.categories,
        **{key: getattr(village, key) for key in LIST_SETTINGS},
    }


def _check_settings(base_score: int, red_list_size: int) -> None:
    if not 0 <= base_score <= 10000:
        raise VillageError("基础分应在0到10000之间")
    if not 1 <= red_list_size <= 100:
        raise VillageError("红榜名额应在1到100之间")


def _check_list_settings(changes: dict) -> None:
    if "black_naming" in changes and changes["black_naming"] not in BLACK_NAMING:
        raise VillageError("黑榜显示方式只能是：" + "、".join(BLACK_NAMING.values()))
    # The same bounds as publishing: a notice period outside them could never be used.
    if "notice_days" in changes and not 1 <= int(changes["notice_days"]) <= 60:
        raise VillageError("公示期应在1到60天之间")
    if "objection_contact" in changes and len(changes["objection_contact"]) > 200:
        raise VillageError("异议联系方式不能超过200个字")
    for key, which in (("red_list_title", "红榜"), ("black_list_title", "黑榜")):
        if key in changes and not 1 <= len(changes[key]) <= 10:
            raise VillageError(f"{which}的公开名称应为1到10个字")
    if changes.get("red_list_title") and changes.get("red_list_title") == changes.get("black_list_title"):
        raise VillageError("红榜和黑榜的公开名称不能相同")


def update_village(
    actor: Optional[User],
    village: Village,
    *,
    name: str,
    base_score: int,
    require_review: bool,
    red_list_size: int,
    categories: Iterable[str],
    red_top_enabled: Optional[bool] = None,
    red_honours_enabled: Optional[bool] = None,
    black_below_base_enabled: Optional[bool] = None,
    black_aid_enabled: Optional[bool] = None,
    black_trigger_enabled: Optional[bool] = None,
    black_naming: Optional[str] = None,
    notice_days: Optional[int] = None,
    objection_contact: Optional[str] = None,
    red_list_title: Optional[str] = None,
    black_list_title: Optional[str] = None,
) -> None:
    """Change a village's name and settings; list and publishing settings left as None keep their value."""
    name = (name or "").strip()
    if not name:
        raise VillageError("村名不能为空")
    if len(name) > 100:
        raise VillageError("村名不能超过100个字")
    _check_settings(base_score, red_list_size)
    categories = [c.strip() for c in categories if c.strip()]
    if not categories:
        raise VillageError("户类别至少要有一个")
    if any(len(c) > 20 for c in categories):
        raise VillageError("户类别名称不能超过20个字")
    _refuse_dropping_used_categories(village, [c for c in village.categories if c not in categories])
    given = dict(
        red_top_enabled=red_top_enabled, red_honours_enabled=red_honours_enabled,
        black_below_base_enabled=black_below_base_enabled, black_aid_enabled=black_aid_enabled,
        black_trigger_enabled=black_trigger_enabled, black_naming=black_naming,
        notice_days=notice_days, objection_contact=objection_contact,
        red_list_title=red_list_title, black_list_title=black_list_title,
    )
    list_settings = {k: (v.strip() if isinstance(v, str) else v) for k, v in given.items() if v is not None}
    _check_list_settings(list_settings)
    before = {"name": village.name, **settings_of(village)}
    village.name = name
    village.base_score = base_score
    village.require_review = require_review
    village.red_list_size = red_list_size
    village.category_list = "、".join(categories)
    for key, value in list_settings.items():
        setattr(village, key, bool(value) if key.endswith("_enabled") else value)
    old, new = audit.changed(before, {"name": village.name, **settings_of(village)})
    if new:
        audit.record(actor, "village.update", village_id=village.id, target=f"村 {village.name}", before=old, after=new)


def _refuse_dropping_used_categories(village: Village, dropped: list[str]) -> None:
    # Households keep their category rows, and their edit form would then refuse the
    # unknown category; so a category still in use has to be cleared from them first.
    if not dropped:
        return
    rows = db.session.execute(
        db.select(HouseholdCategory.name, db.func.count())
        .join(Household, Household.id == HouseholdCategory.household_id)
        .where(Household.village_id == village.id, HouseholdCategory.name.in_(dropped))
        .group_by(HouseholdCategory.name)
        .order_by(HouseholdCategory.name)
    ).all()
    if rows:
        used = "、".join(f"“{name}”（{count}户）" for name, count in rows)
        raise VillageError(f"户类别{used}还有农户在用，不能删除；请先修改这些农户的类别")


def _check_group_name(name: str) -> None:
    if not name:
        raise VillageError("小组名称不能为空")
    if len(name) > 50:
        raise VillageError(f"小组名称“{name[:10]}…”超过50个字")


def add_group(actor: Optional[User], village: Village, name: str) -> Group:
    """Add a group at the end of the village's group list."""
    name = (name or "").strip()
    _check_group_name(name)
    if find_group(village, name) is not None:
        raise VillageError(f"小组“{name}”已存在")
    last = db.session.execute(
        db.select(db.func.max(Group.sort_order)).where(Group.village_id == village.id)
    ).scalar_one()
    group = Group(village_id=village.id, name=name, sort_order=(last or 0) + 1)
    db.session.add(group)
    db.session.flush()
    db.session.expire(village, ["groups"])
    audit.record(actor, "group.create", village_id=village.id, target=f"小组 {name}", after={"name": name})
    return group


def rename_group(actor: Optional[User], group: Group, name: str) -> None:
    """Rename a group; its households move with it."""
    name = (name or "").strip()
    _check_group_name(name)
    if name == group.name:
        return
    if find_group(group.village, name) is not None:
        raise VillageError(f"小组“{name}”已存在")
    before = group.name
    group.name = name
    audit.record(
        actor, "group.update", village_id=group.village_id, target=f"小组 {name}",
        before={"name": before}, after={"name": name},
    )


def move_group(actor: Optional[User], group: Group, step: int) -> bool:
    """Move a group up (step -1) or down (step +1) in its village's list; return whether it moved."""
    ordered = list(
        db.session.execute(
            db.select(Group).filter_by(village_id=group.village_id).order_by(Group.sort_order, Group.id)
        ).scalars()
    )
    before = [g.name for g in ordered]
    index = ordered.index(group)
    target = index + step
    if step not in (-1, 1) or not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    # Renumber the whole list: older rows may share a sort_order, and a swap of equal
    # numbers would change nothing.
    for order, g in enumerate(ordered, start=1):
        g.sort_order = order
    db.session.flush()
    db.session.expire(group.village, ["groups"])
    audit.record(
        actor, "group.move", village_id=group.village_id, target=f"小组 {group.name}",
        before={"groups": before}, after={"groups": [g.name for g in ordered]},
    )
    return True


def group_household_counts(village: Village) -> dict[Optional[int], int]:
    """Count the village's active households per group id (None: households without a group)."""
    rows = db.session.execute(
        db.select(Household.group_id, db.func.count())
        .where(Household.village_id == village.id, Household.status == "active")
        .group_by(Household.group_id)
    ).all()
    return {group_id: count for group_id, count in rows}


def village_overview() -> list[tuple[Village, int, int]]:
    """Return every village with its number of groups and of active households, in one query."""
    group_count = (
        db.select(db.func.count(Group.id))
        .where(Group.village_id == Village.id)
        .correlate(Village)
        .scalar_subquery()
    )
    stmt = (
        db.select(Village, group_count, db.func.count(Household.id))
        .outerjoin(Household, db.and_(Household.village_id == Village.id, Household.status == "active"))
        .group_by(Village.id)
        .order_by(Village.id)
    )
    return [(village, groups, households) for village, groups, households in db.session.execute(stmt)]


def find_group(village: Village, name: str) -> Optional[Group]:
    """Return the village's group with exactly this name, or None."""
    return db.session.execute(
        db.select(Group).filter_by(village_id=village.id, name=name)
    ).scalar_one_or_none()


def villages_for(user: User) -> list[Village]:
    """Return the villages a user may open, in creation order."""
    if user.is_admin:
        return list(db.session.execute(db.select(Village).order_by(Village.id)).scalars())
    if user.is_township_user:
        if user.township_id is None:
            return []
        return list(db.session.execute(
            db.select(Village).where(Village.township_id == user.township_id).order_by(Village.id)
        ).scalars())
    return list(user.villages)
