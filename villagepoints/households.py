"""The household register: adding, editing, deactivating and searching households."""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from sqlalchemy import Select, or_

from . import audit, throttle
from .extensions import db
from .models import DEACTIVATION_REASONS, Group, Household, HouseholdCategory, User, Village
from .personal_data import mask_id_number, mask_phone

CODE_WIDTH = 4
# The longest word in pypinyin's phrase list (a name's longer stretches cannot be one).
_PHRASE_LONGEST = max(map(len, PHRASES_DICT), default=0)


class HouseholdError(ValueError):
    """A household change that breaks a rule; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class HouseholdFields:
    """Validated values for one household, as forms and imports hand them over."""

    head_name: str
    code: Optional[str] = None
    id_number: Optional[str] = None
    phone: Optional[str] = None
    group: Optional[Group] = None
    members: int = 1
    categories: list[str] = field(default_factory=list)
    address: str = ""
    joined_on: Optional[dt.date] = None
    note: str = ""


def name_initials(name: str) -> str:
    """Return the pinyin initials of a name, lower case: 张三 -> zs.

    Read character by character from a cache (a village's names share a few hundred
    characters), which gives what pypinyin gives for the whole name unless two or more
    of its characters form a word in pypinyin's phrase list (长孙, 尉迟, 单于): such a
    name is read whole, as pypinyin reads it.
    """
    name = name or ""
    if _has_phrase(name):
        return _whole_initials(name)
    cache = _CHAR_INITIALS
    letters = []
    for char in name:
        found = cache.get(char)
        if found is None:
            found = cache[char] = "".join(lazy_pinyin(char, style=Style.FIRST_LETTER, errors="ignore"))
        letters.append(found)
    return "".join(letters).lower()[:50]


# Character -> its initial letters as pypinyin reads it alone ("" for one it has no reading of).
_CHAR_INITIALS: dict[str, str] = {}


def _has_phrase(name: str) -> bool:
    """Tell whether two or more neighbouring characters of the name are a word pypinyin reads as one."""
    size = len(name)
    longest = min(size, _PHRASE_LONGEST)
    for length in range(2, longest + 1):
        for start in range(size - length + 1):
            if name[start:start + length] in PHRASES_DICT:
                return True
    return False


@functools.lru_cache(maxsize=4096)
def _whole_initials(name: str) -> str:
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(letters).lower()[:50]


def state(household: Household) -> dict:
    """Return the household's fields as stored, for the audit log."""
    return state_values(
        code=household.code,
        head_name=household.head_name,
        id_number=household.id_number,
        phone=household.phone,
        group=household.group.name if household.group else None,
        members=household.members,
        categories=[r.name for r in household.category_rows],
        address=household.address,
        joined_on=household.joined_on,
        status=household.status,
        deactivated_on=household.deactivated_on,
        deactivation_reason=household.deactivation_reason,
        note=household.note,
    )


def state_values(
    *,
    code: str,
    head_name: str,
    id_number: Optional[str],
    phone: Optional[str],
    group: Optional[str],
    members: int,
    categories: Iterable[str],
    address: str,
    joined_on: Optional[dt.date],
    note: str,
    status: str = "active",
    deactivated_on: Optional[dt.date] = None,
    deactivation_reason: Optional[str] = None,
) -> dict:
    """Return the audit log's state of a household given as plain values (the group by name).

    The import builds it for rows it inserts without ORM objects; the defaults are
    those of a newly registered household. ID number and phone are masked here.
    """
    return {
        "code": code,
        "head_name": head_name,
        "id_number": mask_id_number(id_number),
        "phone": mask_phone(phone),
        "group": group,
        "members": members,
        "categories": sorted(set(categories)),
        "address": address,
        "joined_on": joined_on,
        "status": status,
        "deactivated_on": deactivated_on,
        "deactivation_reason": deactivation_reason,
        "note": note,
    }


def public_dict(household: Household) -> dict:
    """Return the household with ID number and phone masked, for listings and JSON."""
    return {
        "code": household.code,
        "head_name": household.head_name,
        "group": household.group.name if household.group else "",
        "members": household.members,
        "categories": household.categories,
        "status": household.status,
        "id_masked": mask_id_number(household.id_number),
        "phone_masked": mask_phone(household.phone),
        "address": household.address,
        "joined_on": household.joined_on.isoformat() if household.joined_on else None,
    }


class CodeAllocator:
    """Hands out unused household codes for a village: 0001, 0002, ...

    Loads the village's codes once, so an import of thousands of households
    allocates without a query per row.
    """

    def __init__(self, village: Village) -> None:
        codes = db.session.execute(
            db.select(Household.code).where(Household.village_id == village.id)
        ).scalars()
        self.taken = set(codes)
        numbers = [int(c) for c in self.taken if c.isdigit()]
        self.next_number = max(numbers, default=0) + 1

    def reserve(self, code: str) -> None:
        self.taken.add(code)

    def allocate(self) -> str:
        while True:
            code = str(self.next_number).zfill(CODE_WIDTH)
            self.next_number += 1
            if code not in self.taken:
                self.taken.add(code)
                return code


# Words the register's own pages use in their URLs (/households/new, /households/lookup).
RESERVED_CODES = frozenset({"new", "lookup", "import"})
_CODE = re.compile(r"^[0-9A-Za-z\-_]{1,30}$")


def code_problem(code: str) -> Optional[str]:
    """Say what is wrong with a household code, or return None when it can be used."""
    if not _CODE.match(code or ""):
        return "户编号只能用数字、字母、连字符，最多30位"
    if code.lower() in RESERVED_CODES:
        return f"“{code}”是系统保留字，不能用作户编号"
    return None


def _check(village: Village, fields: HouseholdFields, household: Optional[Household]) -> None:
    if not fields.head_name or not fields.head_name.strip():
        raise HouseholdError("户主姓名不能为空", "head_name")
    if len(fields.head_name.strip()) > 50:
        raise HouseholdError("户主姓名不能超过50个字", "head_name")
    if fields.code is not None:
        problem = code_problem(fields.code)
        if problem:
            raise HouseholdError(problem, "code")
    if not 1 <= fields.members <= 99:
        raise HouseholdError("家庭人口应在1到99之间", "members")
    if fields.group is not None and fields.group.village_id != village.id:
        raise HouseholdError("所选小组不属于本村", "group")
    unknown = [c for c in fields.categories if c not in village.categories]
    if unknown:
        raise HouseholdError(f"户类别“{'、'.join(unknown)}”不在本村的类别列表中", "categories")
    own_id = household.id if household is not None else None
    if fields.code:
        other = db.session.execute(
            db.select(Household.id).filter_by(village_id=village.id, code=fields.code)
        ).scalar_one_or_none()
        if other is not None and other != own_id:
            raise HouseholdError(f"户编号“{fields.code}”已被本村其他农户使用", "code")
    if fields.id_number:
        other = db.session.execute(
            db.select(Household).filter_by(village_id=village.id, id_number=fields.id_number)
        ).scalar_one_or_none()
        if other is not None and other.id != own_id:
            raise HouseholdError(
                f"该身份证号已登记在户编号 {other.code}（{other.head_name}）下", "id_number"
            )


def _apply(household: Household, fields: HouseholdFields) -> None:
    household.head_name = fields.head_name.strip()
    household.name_initials = name_initials(household.head_name)
    household.id_number = fields.id_number or None
    household.phone = fields.phone or None
    household.group = fields.group
    household.members = fields.members
    household.address = (fields.address or "").strip()
    household.joined_on = fields.joined_on
    household.note = (fields.note or "").strip()
    wanted = list(dict.fromkeys(fields.categories))  # a tag named twice is stored once
    household.category_rows = [r for r in household.category_rows if r.name in wanted] + [
        HouseholdCategory(name=name)
        for name in wanted
        if name not in {r.name for r in household.category_rows}
    ]


def create_household(
    actor: Optional[User],
    village: Village,
    fields: HouseholdFields,
    codes: Optional[CodeAllocator] = None,
    *,
    check: bool = True,
) -> Household:
    """Register a household; a code is generated when none is given.

    ``check=False`` is for callers (the import) that validated the whole batch already.
    """
    if check:
        _check(village, fields, None)
    if fields.code:
        code = fields.code
        if codes is not None:
            codes.reserve(code)
    else:
        code = (codes or CodeAllocator(village)).allocate()
    household = Household(village_id=village.id, village=village, code=code, status="active")
    _apply(household, fields)
    # No date means registered before the scheme began: such a household is in every tally.
    household.joined_on = fields.joined_on
    db.session.add(household)
    db.session.flush()
    audit.record(
        actor, "household.create", village_id=village.id, household_id=household.id,
        target=f"农户 {household.code} {household.head_name}", after=state(household),
    )
    return household


def update_household(
    actor: Optional[User], household: Household, fields: HouseholdFields, *, check: bool = True
) -> bool:
    """Change a household's fields; return whether anything changed."""
    if check:
        _check(household.village, fields, household)
    before = state(household)
    if fields.code and fields.code != household.code:
        household.code = fields.code
    joined = household.joined_on
    _apply(household, fields)
    household.joined_on = fields.joined_on or joined
    old, new = audit.changed(before, state(household))
    if new:
        db.session.flush()
        audit.record(
            actor, "household.update", village_id=household.village_id, household_id=household.id,
            target=f"农户 {household.code} {household.head_name}", before=old, after=new,
        )
    return bool(new)


def deactivate_household(
    actor: Optional[User], household: Household, on: dt.date, reason: str, note: str = ""
) -> None:
    """Mark a household as no longer active (moved, merged, ended); it is never deleted."""
    if not household.is_active:
        raise HouseholdError(f"农户 {household.code} 已于 {household.deactivated_on} 注销")
    if reason not in DEACTIVATION_REASONS:
        raise HouseholdError("请选择注销原因：迁出、合户或户消亡", "reason")
    if on is None:
        raise HouseholdError("请填写注销日期", "on")
    if household.joined_on and on < household.joined_on:
        raise HouseholdError("注销日期不能早于登记日期", "on")
    before = state(household)
    household.status = "inactive"
    household.deactivated_on = on
    household.deactivation_reason = reason
    household.deactivation_note = (note or "").strip()
    old, new = audit.changed(before, state(household))
    audit.record(
        actor, "household.deactivate", village_id=household.village_id, household_id=household.id,
        target=f"农户 {household.code} {household.head_name}", before=old, after=new,
        summary=f"{DEACTIVATION_REASONS[reason]}：{household.deactivation_note}".rstrip("："),
    )


def reactivate_household(actor: Optional[User], household: Household) -> None:
    """Undo a deactivation made in error."""
    if household.is_active:
        return
    before = state(household)
    household.status = "active"
    household.deactivated_on = None
    household.deactivation_reason = None
    household.deactivation_note = ""
    old, new = audit.changed(before, state(household))
    audit.record(
        actor, "household.reactivate", village_id=household.village_id, household_id=household.id,
        target=f"农户 {household.code} {household.head_name}", before=old, after=new,
    )


def register_query(
    village: Village,
    q: str = "",
    group_id: Optional[int] = None,
    category: str = "",
    status: str = "",
    *,
    full_data: bool = False,
) -> Select:
    """Select the village's households matching a search and filters, ordered by code.

    ``q`` matches the head's name, code or pinyin initials; and ID numbers and phones
    by their last 4 characters exactly (1234 finds ...1234), the part the masks show.
    Only with ``full_data`` (admins) do longer fragments match: an ID number's last
    3 to 18 characters, any 3 to 11 digits of a phone. Letting anyone else search by a
    growing suffix would unmask the numbers one digit at a time.
    """
    stmt = db.select(Household).where(Household.village_id == village.id)
    q = (q or "").strip()
    if q:
        like = f"%{_escape_like(q)}%"
        conditions = [
            Household.head_name.like(like, escape="\\"),
            Household.code.like(like, escape="\\"),
        ]
        if q.isascii() and q.isalpha():
            conditions.append(Household.name_initials.like(f"{_escape_like(q.lower())}%", escape="\\"))
        if full_data:
            if re.fullmatch(r"[0-9Xx]{3,18}", q):
                conditions.append(Household.id_number.like(f"%{q.upper()}", escape="\\"))
            if re.fullmatch(r"\d{3,11}", q):
                conditions.append(Household.phone.like(like, escape="\\"))
        else:
            if _TAIL.fullmatch(q):
                conditions.append(Household.id_number.like(f"%{q.upper()}", escape="\\"))
            if q.isdigit() and len(q) == TAIL_LENGTH:
                conditions.append(Household.phone.like(f"%{q}", escape="\\"))
        stmt = stmt.where(or_(*conditions))
    if group_id:
        stmt = stmt.where(Household.group_id == group_id)
    if category:
        stmt = stmt.where(
            Household.id.in_(db.select(HouseholdCategory.household_id).where(HouseholdCategory.name == category))
        )
    if status in ("active", "inactive"):
        stmt = stmt.where(Household.status == status)
    return stmt.order_by(Household.code)


TAIL_LENGTH = 4
_TAIL = re.compile(r"[0-9Xx]{4}")
_FULL_DATA_QUERY = re.compile(r"[0-9Xx]{3,18}")
SEARCH_LIMIT = 60
SEARCH_WINDOW_MINUTES = 10


class SearchThrottled(HouseholdError):
    """A user searched by ID or phone digits too often; the message says how long to wait."""


def searches_personal_data(q: str, *, full_data: bool = False) -> bool:
    """Tell whether a search text would be matched against ID numbers or phones."""
    q = (q or "").strip()
    return bool((_FULL_DATA_QUERY if full_data else _TAIL).fullmatch(q))


def record_search(
    actor: User, village: Village, q: str, *, full_data: bool, remote_addr: str = "",
    limit: int = SEARCH_LIMIT, window_minutes: int = SEARCH_WINDOW_MINUTES, now: Optional[dt.datetime] = None,
) -> None:
    """Count a search by ID or phone digits against the user's limit; audit an admin's full-data search.

    Raises SearchThrottled once the user has made ``limit`` such searches in the last
    ``window_minutes``; the search itself is then not run.
    """
    done = throttle.spend("search", f"user:{actor.id}", remote_addr, limit=limit,
                          window_minutes=window_minutes, now=now)
    if done:
        raise SearchThrottled(
            f"按身份证号或电话查找过于频繁（{window_minutes}分钟内已查{done}次），请{window_minutes}分钟后再试，"
            "或按姓名、户编号查找"
        )
    if full_data and not _TAIL.fullmatch(q.strip()):  # a last-4 search shows no more than the mask
        audit.record(actor, "household.search", village_id=village.id, target=f"{village.name} 农户台账",
                     summary=f"按完整身份证号或电话片段“{q}”查找")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_household(village: Village, code: str) -> Optional[Household]:
    """Return the village's household with this code, or None."""
    return db.session.execute(
        db.select(Household).filter_by(village_id=village.id, code=code)
    ).scalar_one_or_none()


def households_by_codes(village: Village, codes: Iterable[str]) -> dict[str, Household]:
    """Return the village's households with these codes, keyed by code."""
    codes = list(codes)
    if not codes:
        return {}
    rows = db.session.execute(
        db.select(Household).where(Household.village_id == village.id, Household.code.in_(codes))
    ).scalars()
    return {h.code: h for h in rows}
