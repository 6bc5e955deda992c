"""Importing household lists from spreadsheets, in two phases.

``plan_import`` reads and checks every row without writing anything and says, row by
row, what would be added, updated or left unchanged, and every problem with its sheet,
row and column. ``apply_import`` then writes the plan in the caller's transaction.

Matching: a row updates the household with the same code, else the same ID number,
else (for rows with neither) the only household with the same head name and group.
A blank cell never erases a value already on file: to clear a field, edit the household.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Collection, Iterable, Optional, Union

from sqlalchemy import insert
from sqlalchemy.orm import selectinload

from . import audit, collector, households, sheets, villages
from .extensions import db
from .households import HouseholdFields
from .models import AuditEntry, Group, Household, HouseholdCategory, User, Village, utcnow
from .personal_data import (
    InvalidIdNumber, InvalidPhone, id_check_char, mask_id_number, mask_phone, normalize_id_number, normalize_phone,
)

# Field -> the header names villages use for it; the first one is the template's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("户编号", "户号", "编号", "农户编号"),
    "head_name": ("户主姓名", "户主", "姓名", "户主名", "户主名称", "户名"),
    "id_number": (
        "身份证号", "身份证号码", "证件号码", "户主身份证号", "户主身份证号码", "身份证", "公民身份号码",
    ),
    "group": ("村民小组", "组别", "小组", "网格", "组", "所属小组", "所在小组"),
    "members": ("家庭人口", "人口数", "人数", "家庭人数", "人口", "家庭人口数", "家庭成员数"),
    "phone": ("联系电话", "电话", "手机号码", "手机", "手机号", "联系方式", "电话号码"),
    "categories": ("户类别", "户属性", "类别"),
    "address": ("地址", "家庭住址", "住址", "门牌号", "门牌号码", "门牌"),
    "joined_on": ("入户日期", "登记日期"),
    "note": ("备注",),
}
LABELS = {name: names[0] for name, names in COLUMNS.items()}
# The template's example row carries a valid ID number, so the importer recognises the
# row by it and asks for it to be deleted instead of registering a fictitious 张三.
TEMPLATE_ID = "11010119900307123" + id_check_char("11010119900307123")
TEMPLATE_EXAMPLE = {
    "code": "0001",
    "head_name": "张三",
    "id_number": TEMPLATE_ID,
    "group": "一组",
    "members": 4,
    "phone": "13800138000",
    "categories": "党员户、脱贫户",
    "address": "一组12号",
    "joined_on": dt.date(2024, 3, 1),
    "note": "示例行，导入前请删除",
}
BATCH = 500
# Spaces between Chinese characters in a name are typing slips ("张 三" is 张三).
CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


class ImportRefused(ValueError):
    """Nothing was imported; the message says why and what to do, in Chinese.

    ``field`` names what the preview should point at: "problems" (the rows with problems)
    or "confirm_identity" (the identity changes to tick), else "".
    """

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(slots=True)
class Problem:
    """One thing wrong with one cell (or row) of the file, and how to fix it."""

    sheet: str
    row: int
    column: str
    message: str
    # "invalid" for a bad value; "missing_group" when the row names a group the village lacks;
    # "identity" for an unconfirmed change of an existing household's head or ID number.
    kind: str = "invalid"
    # The household's name as the row writes it.
    name: str = ""

    def line(self, with_sheet: bool = False) -> str:
        """Format as the CLI prints it: 第N行 列名（户主）：问题."""
        prefix = f"【{self.sheet}】" if with_sheet else ""
        who = f"（{self.name}）" if self.name else ""
        return f"{prefix}第{self.row}行 {self.column}{who}：{self.message}"


@dataclass(slots=True)
class Change:
    """One value an update changes, before and after, with the field it is in."""

    field: str
    label: str
    old: Any
    new: Any


@dataclass(slots=True)
class PlannedRow:
    """A valid row and what importing it will do, with the household's values after the import."""

    sheet: str
    row: int
    action: str  # "add", "update" or "unchanged"
    head_name: str
    code: Optional[str]
    id_number: Optional[str]
    phone: Optional[str]
    group: Optional[str]
    members: int
    categories: list[str]
    address: str
    joined_on: Optional[dt.date]
    note: str
    household_id: Optional[int] = None
    # Labels of the columns an update changes (for the preview).
    changes: list[str] = field(default_factory=list)
    # Every value an update changes, old -> new.
    diffs: list[Change] = field(default_factory=list)
    # The update changes the head's name or the ID number: it needs the clerk's confirmation.
    identity: bool = False
    # The key a clerk confirms this row's identity change by (see identity_key).
    identity_key: str = ""
    old_head_name: str = ""


@dataclass
class ImportPlan:
    """Everything an import would do, worked out without writing anything."""

    filename: str
    sheets: list[str]
    rows: list[PlannedRow]
    problems: list[Problem]
    missing_groups: list[str]
    refused: int
    skip_invalid: bool = False
    create_groups: bool = False
    # Headers of columns that were not imported, as written (with the sheet's name when several).
    unused: list[str] = field(default_factory=list)
    # Identity changes the clerk confirmed, and those held back for want of confirmation.
    identity_rows: list[PlannedRow] = field(default_factory=list)
    held_back: list[PlannedRow] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def added(self) -> int:
        return self.count("add")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def blocked(self) -> bool:
        """Problems stop an all-or-nothing import; with skip_invalid only their rows are left out."""
        return bool(self.problems) and not self.skip_invalid

    @property
    def several_sheets(self) -> bool:
        return len(self.sheets) > 1

    @property
    def groups_to_create(self) -> list[str]:
        """Missing groups that rows to be written use (rows refused for another reason do not count)."""
        if not self.create_groups:
            return []
        used = {r.group for r in self.rows if r.action != "unchanged"}
        return [name for name in self.missing_groups if name in used]

    def summary(self) -> str:
        return summary_line(self.added, self.updated, self.unchanged, self.refused)


@dataclass
class ImportResult:
    """What apply_import wrote."""

    added: int
    updated: int
    unchanged: int
    refused: int
    groups_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return summary_line(self.added, self.updated, self.unchanged, self.refused)


def summary_line(added: int, updated: int, unchanged: int, refused: int) -> str:
    """Return the one-line summary: 新增 X 户，更新 Y 户，未变 Z 户，拒绝 W 行."""
    return f"新增 {added} 户，更新 {updated} 户，未变 {unchanged} 户，拒绝 {refused} 行"


@dataclass(slots=True)
class _Existing:
    id: int
    code: str
    head_name: str
    id_number: Optional[str]
    phone: Optional[str]
    group: Optional[str]
    members: int
    address: str
    joined_on: Optional[dt.date]
    note: str
    categories: list[str] = field(default_factory=list)


class _Register:
    """The village's households, groups and categories, loaded with a few queries."""

    def __init__(self, village: Village) -> None:
        self.groups = {
            g.name: g.id
            for g in db.session.execute(db.select(Group).where(Group.village_id == village.id)).scalars()
        }
        group_names = {gid: name for name, gid in self.groups.items()}
        rows = db.session.execute(
            db.select(
                Household.id, Household.code, Household.head_name, Household.id_number,
                Household.phone, Household.group_id, Household.members, Household.address,
                Household.joined_on, Household.note,
            ).where(Household.village_id == village.id)
        )
        self.by_id: dict[int, _Existing] = {}
        for r in rows:
            self.by_id[r.id] = _Existing(
                r.id, r.code, r.head_name, r.id_number, r.phone, group_names.get(r.group_id),
                r.members, r.address or "", r.joined_on, r.note or "",
            )
        categories = db.session.execute(
            db.select(HouseholdCategory.household_id, HouseholdCategory.name)
            .join(Household, Household.id == HouseholdCategory.household_id)
            .where(Household.village_id == village.id)
        )
        for household_id, name in categories:
            self.by_id[household_id].categories.append(name)
        self.by_code = {h.code: h for h in self.by_id.values()}
        self.by_number: dict[str, list[_Existing]] = {}
        for h in self.by_id.values():
            if h.code.isdigit():
                self.by_number.setdefault(h.code.lstrip("0") or "0", []).append(h)
        self.by_id_number = {h.id_number: h for h in self.by_id.values() if h.id_number}
        self.by_name_group: dict[tuple[str, Optional[str]], list[_Existing]] = {}
        for h in self.by_id.values():
            self.by_name_group.setdefault((h.head_name, h.group), []).append(h)

    def find_code(self, code: str) -> Optional[_Existing]:
        found = self.by_code.get(code)
        if found is None and code.isdigit():
            # Excel drops leading zeros from a code typed into a number cell: 12 is 0012.
            same = self.by_number.get(code.lstrip("0") or "0", [])
            if len(same) == 1:
                found = same[0]
        return found


def describe_changes(r: PlannedRow) -> str:
    """Return an update's changes as the CLI prints them: 户主姓名 张三→张三丰、身份证号 …, masked."""
    def shown(change: Change, value: Any) -> str:
        if value in (None, "", []):
            return "（空）"
        if change.field == "id_number":
            return mask_id_number(value)
        if change.field == "phone":
            return mask_phone(value)
        if isinstance(value, list):
            return "、".join(value)
        return str(value)

    return "、".join(f"{c.label} {shown(c, c.old)}→{shown(c, c.new)}" for c in r.diffs)


def unused_columns(tables: Iterable[sheets.Table]) -> list[str]:
    """Return the headers no field was read from, naming the sheet when the file has several."""
    tables = list(tables)
    several = len(tables) > 1
    found = []
    for table in tables:
        for header in table.unused:
            found.append(f"{header}（工作表“{table.sheet}”）" if several else header)
    return list(dict.fromkeys(found))


def identity_key(sheet: str, row: int, old_name: str, new_name: str, old_id: Optional[str], new_id: Optional[str]) -> str:
    """Return the key a clerk confirms one identity change by: the row and a digest of old and new.

    The digest binds the confirmation to the change the clerk saw (a register edited
    since the preview needs a fresh tick) without putting an ID number in the page.
    """
    digest = hashlib.sha256("\x1f".join([sheet, str(row), old_name, new_name, old_id or "", new_id or ""]).encode())
    return f"{row}-{digest.hexdigest()[:16]}"


def code_key(code: str) -> str:
    """Return the form codes are compared in: digit codes without leading zeros."""
    return (code.lstrip("0") or "0") if code.isdigit() else code


@collector.paused()
def plan_import(
    village: Village,
    source: sheets.Source,
    filename: str,
    *,
    skip_invalid: bool = False,
    create_groups: bool = False,
    confirm_identity: Union[bool, Collection[str]] = (),
    max_bytes: int = sheets.MAX_BYTES,
    max_rows: int = sheets.MAX_ROWS,
) -> ImportPlan:
    """Read and check every row of a household list; write nothing.

    A row that would change an existing household's head name or ID number is an
    identity change: it is held back as a problem (kind "identity", naming both names)
    unless ``confirm_identity`` is True (every such row, the CLI's
    --confirm-identity-changes) or holds the row's ``identity_key`` (a tick in the web
    preview). Raises ImportRefused when the file as a whole cannot be read (wrong
    format, too large, too many rows, no header row).
    """
    register = _Register(village)
    planner = _Planner(village, register, create_groups)
    tables: list[sheets.Table] = []
    try:
        with sheets.SpreadsheetReader(
            source, filename, COLUMNS, required=("head_name",), dates=("joined_on",),
            max_bytes=max_bytes, max_rows=max_rows,
        ) as reader:
            for table in reader.tables():
                tables.append(table)
                for row in table.rows:
                    planner.add(table, row)
            table_sheets = list(reader.table_sheets)
    except sheets.SheetError as exc:
        raise ImportRefused(str(exc)) from exc
    rows, identity_rows, held_back = [], [], []
    for r in planner.rows:
        if not r.identity:
            rows.append(r)
        elif confirm_identity is True or r.identity_key in (confirm_identity or ()):
            rows.append(r)
            identity_rows.append(r)
        else:
            held_back.append(r)
            planner.hold_back(r)
    order = {name: i for i, name in enumerate(table_sheets)}
    problems = sorted(planner.problems, key=lambda p: (order.get(p.sheet, 0), p.row))
    return ImportPlan(
        filename=filename,
        sheets=table_sheets,
        rows=rows,
        problems=problems,
        missing_groups=planner.missing_groups,
        refused=len(planner.refused_rows),
        skip_invalid=skip_invalid,
        create_groups=create_groups,
        unused=unused_columns(tables),
        identity_rows=identity_rows,
        held_back=held_back,
    )


class _Planner:
    """Turns sheet rows into planned rows and problems, remembering what the file said before."""

    def __init__(self, village: Village, register: _Register, create_groups: bool) -> None:
        self.register = register
        self.create_groups = create_groups
        self.categories = village.categories
        self.rows: list[PlannedRow] = []
        self.problems: list[Problem] = []
        self.missing_groups: list[str] = []
        self.refused_rows: set[tuple[str, int]] = set()
        # Earlier rows of the file, to catch the same household listed twice.
        self.seen_code: dict[str, tuple[str, int]] = {}
        self.seen_id: dict[str, tuple[str, int]] = {}
        self.seen_target: dict[int, tuple[str, int]] = {}
        self.seen_name: dict[tuple[str, Optional[str]], tuple[str, int]] = {}
        # sheet -> field -> header as written, for problems raised after reading
        self.columns: dict[str, dict[str, str]] = {}

    def hold_back(self, r: PlannedRow) -> None:
        """Turn an unconfirmed identity change into a problem that names both names."""
        parts = []
        if r.old_head_name != r.head_name:
            parts.append(f"户主由“{r.old_head_name}”改为“{r.head_name}”")
        id_change = next((c for c in r.diffs if c.field == "id_number"), None)
        if id_change is not None:
            parts.append(f"身份证号由 {mask_id_number(id_change.old)} 改为 {mask_id_number(id_change.new)}")
        field_name = "head_name" if r.old_head_name != r.head_name else "id_number"
        column = self.columns.get(r.sheet, {}).get(field_name, LABELS[field_name])
        self.problems.append(Problem(
            r.sheet, r.row, column,
            f"这一行对应已登记的农户 {r.code}（户主“{r.old_head_name}”），{'，'.join(parts)}。"
            "这是身份变更，需要逐行确认后才会导入；如果不是同一户，请核对户编号和身份证号",
            "identity", name=r.head_name,
        ))
        self.refused_rows.add((r.sheet, r.row))

    def add(self, table: sheets.Table, row: sheets.Row) -> None:
        problems: list[Problem] = []
        self.columns[row.sheet] = table.columns
        written = sheets.text(row.values.get("head_name"))
        written = CJK_GAP.sub("", written) if written else ""

        def problem(name: str, message: str, kind: str = "invalid") -> None:
            column = table.columns.get(name, LABELS[name])
            problems.append(Problem(row.sheet, row.number, column, message, kind, name=written))

        values = self._parse(row.values, written, problem)
        if not problems:
            self._match(row, values, problem)
        if problems:
            self.problems.extend(problems)
            self.refused_rows.add((row.sheet, row.number))

    # -- cell by cell --

    def _parse(self, cells: dict[str, Any], name: str, problem) -> dict[str, Any]:
        """Parse a row's cells; ``name`` is its head's name as written, without gaps between characters."""
        values: dict[str, Any] = {}

        if not name:
            problem("head_name", "户主姓名为空，请填写")
        elif len(name) > 50:
            problem("head_name", "户主姓名不能超过50个字")
        values["head_name"] = name or None

        code = sheets.text(cells.get("code"))
        if code:
            code = code.replace(" ", "")
            code_problem = households.code_problem(code)
            if code_problem:
                problem("code", code_problem)
        values["code"] = code or None

        try:
            raw_id = sheets.id_text(cells.get("id_number"))
            if raw_id == TEMPLATE_ID:
                problem("id_number", "这是导入模板里的示例行，请删除后再导入")
            values["id_number"] = normalize_id_number(raw_id) if raw_id else None
        except sheets.CellError as exc:
            problem("id_number", f"{exc}")
            values["id_number"] = None
        except InvalidIdNumber as exc:
            shown = mask_id_number(raw_id.strip().replace(" ", "").upper())
            problem("id_number", f"{shown} {str(exc).removeprefix('身份证号')}")
            values["id_number"] = None

        try:
            phone = sheets.text(cells.get("phone"))
            values["phone"] = normalize_phone(phone) if phone else None
        except InvalidPhone as exc:
            problem("phone", f"{mask_phone(re.sub(r'[^0-9+-]', '', phone))} {exc}")

        group = sheets.text(cells.get("group"))
        if group:
            group = sheets.compact(group)
            if group not in self.register.groups:
                if len(group) > 50:
                    problem("group", "小组名称不能超过50个字")
                else:
                    if group not in self.missing_groups:
                        self.missing_groups.append(group)
                    if not self.create_groups:
                        known = "、".join(self.register.groups) or "（本村还没有小组）"
                        problem(
                            "group",
                            f"本村没有“{group}”这个小组。可以选择自动新建缺少的小组，或改成已有的小组：{known}",
                            "missing_group",
                        )
        values["group"] = group or None

        try:
            members = sheets.to_int(cells.get("members"))
            if members is not None and not 1 <= members <= 99:
                problem("members", f"家庭人口应在1到99之间，这里是{members}")
            values["members"] = members
        except sheets.CellError as exc:
            problem("members", f"家庭人口{exc}")

        if "categories" in cells:
            names = sheets.split_list(cells.get("categories"))
            unknown = [c for c in names if c not in self.categories]
            if unknown:
                problem(
                    "categories",
                    f"户类别“{'、'.join(unknown)}”不在本村的类别列表中（本村类别：{'、'.join(self.categories)}）",
                )
            values["categories"] = names or None
        address = sheets.text(cells.get("address"))
        if address and len(address) > 200:
            problem("address", "地址不能超过200个字")
        values["address"] = address

        try:
            values["joined_on"] = sheets.to_date(cells.get("joined_on"))
        except sheets.CellError as exc:
            problem("joined_on", str(exc))
        values["note"] = sheets.text(cells.get("note"))
        return values

    # -- against the file so far and the register --

    @staticmethod
    def _label(here_sheet: str, where: tuple[str, int]) -> str:
        return f"第{where[1]}行" if where[0] == here_sheet else f"工作表“{where[0]}”第{where[1]}行"

    def _match(self, row: sheets.Row, values: dict[str, Any], problem) -> None:
        here = (row.sheet, row.number)
        code, id_number = values["code"], values["id_number"]
        if code:
            earlier = self.seen_code.get(code_key(code))
            if earlier:
                problem("code", f"户编号“{code}”与{self._label(row.sheet, earlier)}重复，同一户只能出现一次，请删除或改正重复的行")
                return
        if id_number:
            earlier = self.seen_id.get(id_number)
            if earlier:
                problem("id_number", f"身份证号与{self._label(row.sheet, earlier)}相同，同一户只能出现一次，请删除或改正重复的行")
                return

        register = self.register
        by_code = register.find_code(code) if code else None
        by_id = register.by_id_number.get(id_number) if id_number else None
        if by_code is not None and by_id is not None and by_code.id != by_id.id:
            problem(
                "id_number",
                f"该身份证号已登记在户编号 {by_id.code}（{by_id.head_name}）下，"
                f"与本行户编号 {by_code.code}（{by_code.head_name}）不是同一户，请核对户编号和身份证号",
            )
            return
        target = by_code or by_id
        if target is None and not code and not id_number:
            same = register.by_name_group.get((values["head_name"], values["group"]), [])
            if len(same) == 1:
                target = same[0]
            key = (values["head_name"], values["group"])
            earlier = self.seen_name.get(key)
            if earlier:
                problem(
                    "head_name",
                    f"与{self._label(row.sheet, earlier)}户主姓名和小组都相同，又都没有户编号和身份证号，"
                    "无法区分。如果是同一户请删除一行；如果是两户，请填写户编号或身份证号",
                )
                return
            self.seen_name[key] = here
        if target is not None:
            earlier = self.seen_target.get(target.id)
            if earlier:
                problem(
                    "code" if code else "id_number" if id_number else "head_name",
                    f"与{self._label(row.sheet, earlier)}对应的是同一户（户编号 {target.code}），同一户只能出现一次",
                )
                return
            self.seen_target[target.id] = here
        if code:
            self.seen_code[code_key(code)] = here
        if id_number:
            self.seen_id[id_number] = here
        self.rows.append(self._planned(row, values, target))

    def _planned(self, row: sheets.Row, values: dict[str, Any], target: Optional[_Existing]) -> PlannedRow:
        def pick(name: str, current: Any) -> Any:
            value = values.get(name)
            return current if value is None else value

        if target is None:
            return PlannedRow(
                sheet=row.sheet, row=row.number, action="add",
                head_name=values["head_name"], code=values["code"], id_number=values["id_number"],
                phone=values.get("phone"), group=values["group"], members=values["members"] or 1,
                categories=values.get("categories") or [], address=values["address"] or "",
                joined_on=values["joined_on"], note=values["note"] or "",
            )
        # A code matched by its digits (12 for 0012) keeps the register's spelling.
        code = values["code"]
        if code and code_key(code) == code_key(target.code):
            code = target.code
        planned = PlannedRow(
            sheet=row.sheet, row=row.number, action="update", household_id=target.id,
            head_name=values["head_name"], code=code or target.code,
            id_number=pick("id_number", target.id_number), phone=pick("phone", target.phone),
            group=pick("group", target.group), members=pick("members", target.members),
            categories=pick("categories", target.categories), address=pick("address", target.address),
            joined_on=pick("joined_on", target.joined_on), note=pick("note", target.note),
        )
        before = {
            "code": target.code, "head_name": target.head_name, "id_number": target.id_number,
            "phone": target.phone, "group": target.group, "members": target.members,
            "categories": sorted(target.categories), "address": target.address,
            "joined_on": target.joined_on, "note": target.note,
        }
        after = {
            "code": planned.code, "head_name": planned.head_name, "id_number": planned.id_number,
            "phone": planned.phone, "group": planned.group, "members": planned.members,
            "categories": sorted(planned.categories), "address": planned.address,
            "joined_on": planned.joined_on, "note": planned.note,
        }
        planned.diffs = [Change(k, LABELS[k], before[k], after[k]) for k in before if before[k] != after[k]]
        planned.changes = [c.label for c in planned.diffs]
        if not planned.changes:
            planned.action = "unchanged"
        planned.old_head_name = target.head_name
        # Filling in a missing ID number is no change of identity; replacing one is.
        planned.identity = before["head_name"] != after["head_name"] or (
            bool(target.id_number) and before["id_number"] != after["id_number"]
        )
        if planned.identity:
            planned.identity_key = identity_key(
                row.sheet, row.number, target.head_name, planned.head_name, target.id_number, planned.id_number,
            )
        return planned


@collector.paused()
def apply_import(actor: Optional[User], village: Village, plan: ImportPlan) -> ImportResult:
    """Write a plan in the caller's transaction (flush, never commit).

    Refuses a plan with problems unless it was made with skip_invalid, so an import is
    all or nothing by default.
    """
    if plan.blocked:
        raise ImportRefused(
            f"有 {plan.refused} 行有问题，没有导入任何数据。请改正后重新导入，或选择只导入无误的行", "problems"
        )
    confirmed = {id(r) for r in plan.identity_rows}
    if any(r.identity and id(r) not in confirmed for r in plan.rows):
        raise ImportRefused("有身份变更没有逐行确认，没有导入任何数据。请在预览里勾选确认后再导入", "confirm_identity")
    groups = {
        g.name: g for g in db.session.execute(db.select(Group).where(Group.village_id == village.id)).scalars()
    }
    created: list[str] = []
    for name in plan.groups_to_create:
        if name not in groups:
            try:
                groups[name] = villages.add_group(actor, village, name)
            except villages.VillageError as exc:
                raise ImportRefused(str(exc)) from exc
            created.append(name)

    codes = households.CodeAllocator(village)
    # Every code the file names is spoken for, including new codes given to matched households.
    for r in plan.rows:
        if r.code:
            codes.reserve(r.code)
    adds = [r for r in plan.rows if r.action == "add"]
    _insert_households(actor, village, adds, groups, codes)

    updates = [r for r in plan.rows if r.action == "update"]
    targets = _load(village, [r.household_id for r in updates])
    updated = 0
    for index, r in enumerate(updates, start=1):
        fields = HouseholdFields(
            head_name=r.head_name, code=r.code, id_number=r.id_number, phone=r.phone,
            group=groups.get(r.group) if r.group else None, members=r.members,
            categories=list(r.categories), address=r.address, joined_on=r.joined_on, note=r.note,
        )
        if households.update_household(actor, targets[r.household_id], fields, check=False):
            updated += 1
        if index % BATCH == 0:
            db.session.flush()
    result = ImportResult(len(adds), updated, plan.unchanged + len(updates) - updated, plan.refused, created)
    audit.record(
        actor, "household.import", village_id=village.id, target=f"导入文件 {plan.filename}"[:100],
        summary=result.summary() + (f"；新建小组：{'、'.join(created)}" if created else ""),
        after={"file": plan.filename, "added": result.added, "updated": result.updated,
               "unchanged": result.unchanged, "refused": result.refused, "groups_created": created},
    )
    db.session.flush()
    return result


def _insert_households(
    actor: Optional[User],
    village: Village,
    rows: list[PlannedRow],
    groups: dict[str, Group],
    codes: households.CodeAllocator,
) -> None:
    """Register new households with a few multi-row statements.

    This is households.create_household for many rows at once: the same field
    rules and the same per-household audit entry, without an ORM object and a flush
    per household (which made 10,000 rows take over 10 s).
    """
    if not rows:
        return
    now = utcnow()
    village_id = village.id
    records = []
    for r in rows:
        group = groups.get(r.group) if r.group else None
        records.append({
            "village_id": village_id,
            "code": r.code or codes.allocate(),
            "head_name": r.head_name.strip(),
            "name_initials": households.name_initials(r.head_name.strip()),
            "id_number": r.id_number or None,
            "phone": r.phone or None,
            "group_id": group.id if group else None,
            "members": r.members,
            "address": (r.address or "").strip(),
            # No date means on the register all along, as create_household stores it.
            "joined_on": r.joined_on,
            "status": "active",
            "deactivation_note": "",
            "note": (r.note or "").strip(),
            "created_at": now,
            "updated_at": now,
        })
    insert_rows(Household, records)
    # One query for the new ids: an IN list per batch grew slow on PostgreSQL. A Core
    # statement on the table: the ORM's row loading cost more than the query.
    table = Household.__table__
    ids = dict(db.session.connection().execute(
        db.select(table.c.code, table.c.id).where(table.c.village_id == village.id)
    ).all())
    insert_rows(HouseholdCategory, [
        {"household_id": ids[record["code"]], "name": name}
        for record, r in zip(records, rows)
        for name in dict.fromkeys(r.categories)
    ])
    logged = audit.RowBuilder(actor, "household.create", village_id=village.id, at=now)
    entries = []
    for record, r in zip(records, rows):
        state = households.state_values(
            code=record["code"], head_name=record["head_name"], id_number=record["id_number"],
            phone=record["phone"], group=r.group if record["group_id"] else None,
            members=record["members"], categories=r.categories, address=record["address"],
            joined_on=record["joined_on"], note=record["note"],
        )
        entries.append(logged(ids[record["code"]], f"农户 {record['code']} {record['head_name']}", state))
    insert_rows(AuditEntry, entries)


def insert_rows(model, rows: list[dict]) -> None:
    """Insert plain rows (every dict with the same keys) into the model's table in one statement.

    Columns left out get their scalar Python default (Entry.version's 1), as an ORM insert
    would; a column with a callable default must be given. The values go to the driver
    as they are, once converted by their column type (dates as SQLite stores them).
    """
    if not rows:
        return
    table = model.__table__
    names, filled = _columns(table, rows[0])
    # Pending ORM rows first (a new group, its audit entry), as a session.execute would.
    db.session.flush()
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, table.name, names, filled, rows)
    elif dialect.name == "sqlite":
        _executemany(connection, table, names, filled, rows)
    else:
        defaults = dict(zip(names[len(names) - len(filled):], filled))
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(table), [{**row, **defaults} for row in rows[start:start + BATCH]])


def _columns(table, given: dict) -> tuple[list[str], list[Any]]:
    """Return the columns to insert (the given keys, then defaulted ones) and the defaulted values."""
    names = list(given)
    filled = []
    for column in table.columns:
        if column.key in given or column.primary_key or column.default is None:
            continue
        if not column.default.is_scalar:
            raise TypeError(f"insert_rows: give {table.name}.{column.key}, its default is computed per row")
        names.append(column.key)
        filled.append(column.default.arg)
    return names, filled


def _executemany(connection, table, names: list[str], filled: list[Any], rows: list[dict]) -> None:
    # One prepared statement and the driver's executemany over plain tuples: building
    # SQLAlchemy's per-row parameter dicts cost more than SQLite's own inserting.
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    given = names[:len(names) - len(filled)]
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    tail = tuple(p(v) if p else v for p, v in zip(processors[len(given):], filled))
    # Converted values are remembered per column: a file's rows share one creation time
    # and a few hundred dates.
    convert = [(i, p, {}) for i, p in enumerate(processors[:len(given)]) if p is not None]
    pick = itemgetter(*given)
    values = []
    for row in rows:
        cells = list(pick(row)) if len(given) > 1 else [pick(row)]
        for i, process, known in convert:
            cell = cells[i]
            if cell is not None:
                done = known.get(cell)
                if done is None:
                    done = known[cell] = process(cell)
                cells[i] = done
        values.append((*cells, *tail))
    connection.exec_driver_sql(sql, values)


def _copy(connection, table: str, names: list[str], filled: list[Any], rows: list[dict]) -> None:
    # COPY streams the rows as data. A multi-row INSERT spent most of its time in
    # psycopg rewriting thousands of placeholders, and executemany sends a statement
    # per row: 10,000 households took 3-4 s on PostgreSQL either way.
    from psycopg import sql

    command = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    given = names[:len(names) - len(filled)]
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            copy.write_row([*(row[c] for c in given), *filled])


def _load(village: Village, ids: Iterable[int]) -> dict[int, Household]:
    """Load the households an import updates, in batches, with their groups and categories."""
    ids = list(ids)
    found: dict[int, Household] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = db.session.execute(
            db.select(Household)
            .where(Household.village_id == village.id, Household.id.in_(chunk))
            .options(selectinload(Household.group), selectinload(Household.category_rows))
        ).scalars()
        found.update((h.id, h) for h in rows)
    return found


def template_bytes() -> bytes:
    """Return the import template: the headers and one example row, as .xlsx."""
    example = TEMPLATE_EXAMPLE
    names = list(COLUMNS)
    text_columns = [names.index(n) for n in ("code", "id_number", "phone")]
    widths = [10, 12, 22, 12, 10, 15, 18, 24, 12, 24]
    return sheets.workbook_bytes(
        "农户", [LABELS[n] for n in names], [[example[n] for n in names]],
        text_columns=text_columns, widths=widths,
    )
