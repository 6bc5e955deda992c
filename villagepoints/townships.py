"""Townships (乡镇): villages grouped under one township, whose township users reach all of them."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from . import audit
from .extensions import db
from .models import Township, User, Village

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,49}$")


class TownshipError(ValueError):
    """A township change that breaks a rule; the message is shown to the user."""


def get_by_slug(slug: str) -> Optional[Township]:
    """Return the township with this slug, or None."""
    return db.session.execute(db.select(Township).filter_by(slug=(slug or "").strip())).scalar_one_or_none()


def all_townships() -> list[Township]:
    """Return every township in creation order."""
    return list(db.session.execute(db.select(Township).order_by(Township.id)).scalars())


def villages_of(township: Township) -> list[Village]:
    """Return the township's villages in creation order."""
    return list(db.session.execute(
        db.select(Village).where(Village.township_id == township.id).order_by(Village.id)
    ).scalars())


def _villages(slugs: Iterable[str]) -> list[Village]:
    found = []
    for slug in slugs:
        slug = slug.strip()
        if not slug:
            continue
        village = db.session.execute(db.select(Village).filter_by(slug=slug)).scalar_one_or_none()
        if village is None:
            raise TownshipError(f"找不到村代码为“{slug}”的村")
        if village not in found:
            found.append(village)
    return found


def _join(actor: Optional[User], township: Township, village: Village) -> None:
    if village.township_id == township.id:
        return
    if village.township_id is not None:
        other = db.session.get(Township, village.township_id)
        raise TownshipError(f"{village.name}已属于{other.name}，一个村只能属于一个乡镇；请先把它从{other.name}移出")
    village.township_id = township.id
    audit.record(
        actor, "township.add_village", village_id=village.id, target=f"乡镇 {township.name}",
        summary=f"{village.name}划入{township.name}", after={"township": township.slug, "village": village.slug},
    )


def create_township(actor: Optional[User], name: str, slug: str, village_slugs: Iterable[str] = ()) -> Township:
    """Add a township with its villages; a village already in another township is refused."""
    name = (name or "").strip()
    slug = (slug or "").strip().lower()
    if not name:
        raise TownshipError("乡镇名称不能为空")
    if len(name) > 100:
        raise TownshipError("乡镇名称不能超过100个字")
    if not _SLUG.match(slug):
        raise TownshipError("乡镇代码只能用小写字母、数字和连字符，2到50位，例如 jiangba-town")
    if get_by_slug(slug) is not None:
        raise TownshipError(f"乡镇代码“{slug}”已被使用")
    township = Township(name=name, slug=slug)
    db.session.add(township)
    db.session.flush()
    audit.record(actor, "township.create", target=f"乡镇 {name}", after={"name": name, "slug": slug})
    for village in _villages(village_slugs):
        _join(actor, township, village)
    db.session.flush()
    return township


def add_villages(actor: Optional[User], township: Township, village_slugs: Iterable[str]) -> list[Village]:
    """Put villages into the township; return them."""
    chosen = _villages(village_slugs)
    for village in chosen:
        _join(actor, township, village)
    db.session.flush()
    return chosen


def remove_villages(actor: Optional[User], township: Township, village_slugs: Iterable[str]) -> list[Village]:
    """Take villages out of the township; its users no longer reach them."""
    chosen = _villages(village_slugs)
    for village in chosen:
        if village.township_id != township.id:
            raise TownshipError(f"{village.name}不属于{township.name}，无需移出")
        village.township_id = None
        audit.record(
            actor, "township.remove_village", village_id=village.id, target=f"乡镇 {township.name}",
            summary=f"{village.name}移出{township.name}", before={"township": township.slug, "village": village.slug},
        )
    db.session.flush()
    return chosen
