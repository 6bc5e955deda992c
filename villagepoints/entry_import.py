"""Importing points entries from spreadsheets, in two phases, like the household import.

``plan_entry_import`` reads every row, finds its household and rule and runs the
ledger's own checks on it without writing anything; each refusal becomes a problem
with its sheet, row and column. ``apply_entry_import`` then locks the households,
runs the same checks again on what the database holds now, and records the entries
in the caller's transaction: all of them or none.

A row names its household by 户编号, or by 户主姓名 (with 村民小组 where the name is
not unique). 分值 may be left blank for the rule's default. A rule that requires
evidence is met by a 说明 that says where the paper record is kept.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from sqlalchemy.orm import lazyload

from . import audit, collector, ledger, sheets
from .extensions import db
from .household_import import CJK_GAP, ImportRefused, Problem, code_key, insert_rows, unused_columns
from .ledger import LedgerError
from .models import AuditEntry, Entry, Group, Household, Rule, User, Village, utcnow
from .quarters import Quarter

# Field -> the header names villages use for it; the first one is the template's.
# A bare "编号" is left out: in a points sheet it could be the household's or the rule's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("户编号", "户号", "农户编号"),
    "head_name": ("户主姓名", "户主", "姓名", "户主名", "户名"),
    "group": ("村民小组", "组别", "小组", "网格", "组", "所属小组", "所在小组"),
    # A paper score sheet names the situation; the column may hold a code or a title.
    "rule": (
        "细则编号", "细则", "细则代码", "积分细则编号", "积分细则", "细则名称", "加扣分事项", "积分项目",
        "加分事项", "扣分事项", "积分事项", "加扣分项目", "事项",
    ),
    "points": ("分值", "分数", "积分", "得分", "加扣分", "加减分"),
    "entry_date": ("日期", "记分日期", "记录日期", "时间", "记分时间", "发生时间", "发生日期"),
    "note": ("说明", "备注", "事由"),
}
LABELS = {name: names[0] for name, names in COLUMNS.items()}
TEMPLATE_NOTE = "示例行，导入前请删除"
# Cells are read folded to half-width (the comma above comes back as ",").
_TEMPLATE_NOTE_READ = sheets.clean_text(TEMPLATE_NOTE)
NOTE_MAX = 500
BATCH = 500
_POINTS = re.compile(r"^([+-]?)(\d+)分?$")
# Where each ledger refusal points in the sheet; "photos" is evidence, which a sheet gives in 说明.
_LEDGER_COLUMNS = {"rule": "rule", "entry_date": "entry_date", "points": "points", "photos": "note"}


class EntryImportRefused(ImportRefused):
    """Nothing was imported; ``problems`` holds the rows refused while writing, if any."""

    def __init__(self, message: str, problems: Iterable[Problem] = (), field: str = "") -> None:
        super().__init__(message, field)
        self.problems = list(problems)


@dataclass(slots=True)
class PlannedEntry:
    """A row that passed every check, with the household and rule it names."""

    sheet: str
    row: int
    household_id: int
    household_code: str
    head_name: str
    group: Optional[str]
    rule_id: int
    rule_code: str
    rule_title: str
    points: int
    entry_date: dt.date
    note: str
    # True when 分值 was blank and the rule's default applies.
    default_points: bool = False
    # The rule as the sheet wrote it, when it was found by its title rather than its code.
    rule_written: str = ""


@dataclass
class EntryImportPlan:
    """Everything an entry import would record, worked out without writing anything."""

    filename: str
    sheets: list[str]
    rows: list[PlannedEntry]
    problems: list[Problem]
    refused: int
    today: dt.date
    # Headers of columns that were not imported, as written (with the sheet's name when several).
    unused: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """Any problem stops the import: entries are imported all or nothing."""
        return bool(self.problems)

    @property
    def several_sheets(self) -> bool:
        return len(self.sheets) > 1

    @property
    def households(self) -> int:
        return len({r.household_id for r in self.rows})

    @property
    def plus_total(self) -> int:
        return sum(r.points for r in self.rows if r.points > 0)

    @property
    def minus_total(self) -> int:
        return sum(r.points for r in self.rows if r.points < 0)

    def summary(self) -> str:
        """Return the one-line summary: 可导入 X 条（涉及 Y 户），拒绝 Z 行."""
        return f"可导入 {len(self.rows)} 条（涉及 {self.households} 户），拒绝 {self.refused} 行"


@dataclass
class EntryImportResult:
    """What apply_entry_import recorded."""

    filename: str
    created: int
    households: int
    approved: int
    pending: int

    def summary(self) -> str:
        """Return the one-line summary: 导入 X 条积分记录（涉及 Y 户）：待审核 A 条，已通过 B 条."""
        parts = [f"待审核 {self.pending} 条"] if self.pending else []
        if self.approved:
            parts.append(f"已通过 {self.approved} 条")
        return f"导入 {self.created} 条积分记录（涉及 {self.households} 户）：{'，'.join(parts)}"


@collector.paused()
def plan_entry_import(
    village: Village,
    source: sheets.Source,
    filename: str,
    *,
    today: Optional[dt.date] = None,
    max_bytes: int = sheets.MAX_BYTES,
    max_rows: int = sheets.MAX_ROWS,
) -> EntryImportPlan:
    """Read and check every row of a points sheet; write nothing.

    Raises ImportRefused when the file as a whole cannot be read (wrong format, too
    large, no header row, no column naming the household).
    """
    today = today or dt.date.today()
    parsed: list[_Parsed] = []
    problems: list[Problem] = []
    tables: list[sheets.Table] = []
    try:
        with sheets.SpreadsheetReader(
            source, filename, COLUMNS, required=("rule", "entry_date"), dates=("entry_date",),
            max_bytes=max_bytes, max_rows=max_rows,
        ) as reader:
            for table in reader.tables():
                if "code" not in table.columns and "head_name" not in table.columns:
                    raise ImportRefused(
                        f"工作表“{table.sheet}”没有“户编号”或“户主姓名”列，无法知道每一行是哪一户。请用导入模板"
                    )
                tables.append(table)
                for row in table.rows:
                    parsed.append(_parse(table, row, problems))
            table_sheets = list(reader.table_sheets)
    except sheets.SheetError as exc:
        raise ImportRefused(str(exc)) from exc
    checker = _Checker(village, [p.entry_date for p in parsed if p.ok], today)
    rows = [planned for p in parsed if p.ok and (planned := checker.check(p, problems)) is not None]
    problems.sort(key=lambda p: (table_sheets.index(p.sheet) if p.sheet in table_sheets else 0, p.row))
    return EntryImportPlan(
        filename=filename,
        sheets=table_sheets,
        rows=rows,
        problems=problems,
        refused=len({(p.sheet, p.row) for p in problems}),
        today=today,
        unused=unused_columns(tables),
    )


@collector.paused()
def apply_entry_import(
    actor: Optional[User], village: Village, plan: EntryImportPlan, *, approve: bool = False
) -> EntryImportResult:
    """Record a plan's entries in the caller's transaction (flush, never commit): all or none.

    Refuses a plan with problems. The households are locked and every row is checked
    again as the plan checked it (the ledger's checks, caps counting earlier rows), so a
    household or rule changed since the preview is still refused; then nothing is
    written. Each entry is made and logged as ``ledger.make_entry`` makes it, in a few
    statements for the whole file. ``approve`` is the CLI's --approve: the entries are
    approved by 命令行.
    """
    if plan.blocked:
        raise EntryImportRefused(f"有 {plan.refused} 行有问题，没有导入任何数据。请改正后重新导入", field="problems")
    if not plan.rows:
        raise EntryImportRefused("文件里没有积分记录，没有导入任何数据")
    # Locked before anything is read from them, as ledger.lock_households does for make_entry,
    # so cap checks see a settled state.
    households = {
        i: HouseholdView.of(h)
        for i, h in _by_id(Household, village, {r.household_id for r in plan.rows}, lock=True).items()
    }
    checker = _Checker(village, [r.entry_date for r in plan.rows], plan.today)
    rules = {r.id: r for r in checker.rules.values()}
    problems: list[Problem] = []
    for r in plan.rows:
        household, rule = households.get(r.household_id), rules.get(r.rule_id)
        if household is None or rule is None:
            problems.append(Problem(r.sheet, r.row, LABELS["code"], "这一户或这条细则已不在本村，请重新上传"))
            continue
        refusal = checker.admit(household, rule, r.entry_date, r.points, r.note, (r.sheet, r.row))
        if refusal is not None:
            name, message = refusal
            problems.append(Problem(r.sheet, r.row, LABELS["code" if name == "household" else name], message))
    if problems:
        raise EntryImportRefused(
            f"有 {len({(p.sheet, p.row) for p in problems})} 行在写入时被拒绝（数据刚被他人修改），没有导入任何数据。"
            "请核对后重新导入",
            problems, field="problems",
        )
    made = _record_rows(actor, village, plan.rows, households, rules, approve)
    statuses = Counter(status for _id, status in made)
    result = EntryImportResult(
        filename=plan.filename, created=len(made), households=plan.households,
        approved=statuses["approved"], pending=statuses["pending"],
    )
    audit.record(
        actor, "entry.import", village_id=village.id, target=f"导入文件 {plan.filename}"[:100],
        summary=result.summary() + ("（命令行 --approve 直接通过）" if approve else ""),
        after={"file": plan.filename, "entries": result.created, "households": result.households,
               "approved": result.approved, "pending": result.pending, "approve": approve},
    )
    db.session.flush()
    return result


def _record_rows(
    actor: Optional[User], village: Village, rows: list[PlannedEntry], households: dict, rules: dict, approve: bool,
) -> list[tuple[int, str]]:
    """Insert checked entries and their entry.create audit rows in a few statements; return (id, status).

    This is ledger.record_checked for a whole file: the same columns and the same audit
    entry per entry, without an ORM object per row (50,000 rows took over a minute).
    """
    status = ledger.initial_status(village, approve)
    reviewer = ledger.reviewer_name(village, approve)
    now = utcnow()
    approved = status == "approved"
    # The columns every entry of the file shares.
    shared = {
        "village_id": village.id, "status": status, "source": "import",
        "created_by_id": actor.id if actor else None, "created_by_name": audit.actor_name(actor), "created_at": now,
        "reviewed_by_id": None, "reviewed_by_name": reviewer if approved else "",
        "reviewed_at": now if approved else None, "review_note": "", "reverses_id": None, "submit_token": None,
    }
    records = []
    for r in rows:
        rule = rules[r.rule_id]
        records.append({
            **shared, "household_id": r.household_id, "rule_id": rule.id, "rule_code": rule.code,
            "rule_title": rule.title, "kind": rule.kind, "points": r.points, "entry_date": r.entry_date,
            "note": (r.note or "").strip(),
        })
    insert_rows(Entry, records)
    # The new ids, in insertion order: the rows are told apart from any other by their
    # creation time to the microsecond (RETURNING made SQLite insert row by row).
    table = Entry.__table__
    ids = list(db.session.connection().execute(
        db.select(table.c.id)
        .where(table.c.village_id == village.id, table.c.source == "import", table.c.created_at == now)
        .order_by(table.c.id)
    ).scalars())
    if len(ids) != len(records):
        raise EntryImportRefused("写入积分记录时出错，没有导入任何数据。请重新导入")
    logged = audit.RowBuilder(actor, "entry.create", village_id=village.id, at=now)
    labels = {h.id: ledger.household_label(h) for h in households.values()}
    audits = []
    for entry_id, record in zip(ids, records):
        household_id = record["household_id"]
        audits.append(logged(household_id, f"积分记录 #{entry_id} {labels[household_id]}", {
            "household": households[household_id].code, "rule": record["rule_code"], "points": record["points"],
            "entry_date": record["entry_date"], "note": record["note"], "status": status, "reverses": None,
        }))
    insert_rows(AuditEntry, audits)
    return [(entry_id, status) for entry_id in ids]


def template_bytes(example_day: Optional[dt.date] = None) -> bytes:
    """Return the entry import template: the headers and one example row, as .xlsx."""
    example = {
        "code": "0001", "head_name": "张三", "group": "一组", "rule": "P01", "points": 2,
        "entry_date": example_day or dt.date.today(), "note": TEMPLATE_NOTE,
    }
    names = list(COLUMNS)
    return sheets.workbook_bytes(
        "积分记录", [LABELS[n] for n in names], [[example[n] for n in names]],
        text_columns=[names.index("code"), names.index("rule")], widths=[10, 12, 10, 10, 8, 12, 36],
    )


# -- reading a row --------------------------------------------------------------------


@dataclass(slots=True)
class _Parsed:
    sheet: str
    row: int
    columns: dict[str, str]
    ok: bool
    code: Optional[str] = None
    head_name: Optional[str] = None
    group: Optional[str] = None
    rule: str = ""
    points: Optional[int] = None
    entry_date: Optional[dt.date] = None
    note: str = ""

    def column(self, name: str) -> str:
        """Return the column's header as the sheet writes it."""
        return self.columns.get(name, LABELS[name])

    def problem(self, name: str, message: str) -> Problem:
        """Return a problem in this row's column ``name``, naming the household as written."""
        return Problem(self.sheet, self.row, self.column(name), message, name=self.head_name or "")


def _parse(table: sheets.Table, row: sheets.Row, problems: list[Problem]) -> _Parsed:
    cells = row.values
    parsed = _Parsed(row.sheet, row.number, table.columns, ok=True)

    def problem(name: str, message: str) -> None:
        problems.append(parsed.problem(name, message))
        parsed.ok = False

    code = sheets.text(cells.get("code"))
    parsed.code = code.replace(" ", "") if code else None
    name = sheets.text(cells.get("head_name"))
    parsed.head_name = CJK_GAP.sub("", name) if name else None
    group = sheets.text(cells.get("group"))
    parsed.group = sheets.compact(group) if group else None
    if not parsed.code and not parsed.head_name:
        problem("code" if "code" in table.columns else "head_name", "户编号和户主姓名都为空，请至少填写一项")

    rule = sheets.text(cells.get("rule"))
    parsed.rule = sheets.compact(rule or "")
    if not parsed.rule:
        problem("rule", "细则为空，请填写细则编号或名称，例如 P01")

    try:
        parsed.points = _points(cells.get("points"))
    except sheets.CellError as exc:
        problem("points", str(exc))

    try:
        parsed.entry_date = sheets.to_date(cells.get("entry_date"))
        if parsed.entry_date is None:
            problem("entry_date", "日期为空，请填写，例如 2026-07-01")
    except sheets.CellError as exc:
        problem("entry_date", str(exc))

    parsed.note = sheets.text(cells.get("note")) or ""
    if parsed.note == _TEMPLATE_NOTE_READ:
        problem("note", "这是导入模板里的示例行，请删除后再导入")
    elif len(parsed.note) > NOTE_MAX:
        problem("note", f"说明不能超过{NOTE_MAX}个字")
    return parsed


def _points(value: Any) -> Optional[int]:
    """Return signed whole points from a number cell or a text like "-3", "+2" or "5分"."""
    if value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise sheets.CellError(f"分值应为整数，这里是{value:g}")
        return int(value)
    if isinstance(value, int):
        return value
    match = _POINTS.match(str(value).replace(" ", "").replace("\u2212", "-"))
    if not match:
        raise sheets.CellError(f"分值应为整数，例如 3 或 -2，这里是“{value}”")
    return int(match.group(2)) * (-1 if match.group(1) == "-" else 1)


# -- checking a row against the register, the rulebook and the ledger ---------------------


@dataclass(slots=True)
class HouseholdView:
    """A household's columns that the checks read, as plain attributes.

    ledger.check_entry reads these; a plain attribute costs a fraction of an ORM one,
    and an import checks every row twice (at the preview and again under lock).
    """

    id: int
    village_id: int
    code: str
    head_name: str
    group_id: Optional[int]
    joined_on: Optional[dt.date]
    status: str
    is_active: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        self.is_active = self.status == "active"

    @staticmethod
    def columns() -> tuple:
        return (Household.id, Household.village_id, Household.code, Household.head_name, Household.group_id,
                Household.joined_on, Household.status)

    @classmethod
    def of(cls, h: Household) -> "HouseholdView":
        return cls(h.id, h.village_id, h.code, h.head_name, h.group_id, h.joined_on, h.status)


@dataclass(slots=True)
class RuleView:
    """A rule's columns that the checks and the written entries read, as plain attributes."""

    id: int
    village_id: int
    code: str
    title: str
    kind: str
    active: bool
    default_points: int
    min_points: int
    max_points: int
    quarter_cap: Optional[int]
    requires_evidence: bool
    is_plus: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.is_plus = self.kind == "plus"

    @classmethod
    def of(cls, r: Rule) -> "RuleView":
        return cls(r.id, r.village_id, r.code, r.title, r.kind, r.active, r.default_points, r.min_points,
                   r.max_points, r.quarter_cap, r.requires_evidence)


class _Checker:
    """Finds each row's household and rule and runs the ledger's checks, remembering earlier rows."""

    def __init__(self, village: Village, days: list[dt.date], today: dt.date) -> None:
        self.village = village
        self.today = today
        self.rules = {
            r.code: RuleView.of(r)
            for r in db.session.execute(db.select(Rule).where(Rule.village_id == village.id)).scalars()
        }
        self.finder = RuleFinder(self.rules.values())
        self.group_names = {
            g.id: g.name for g in db.session.execute(db.select(Group).where(Group.village_id == village.id)).scalars()
        }
        # The register, loaded when a sheet row is first matched (applying a plan needs none).
        self.by_code: Optional[dict[str, HouseholdView]] = None
        self.by_number: dict[str, list[HouseholdView]] = {}
        self.by_name: dict[str, list[HouseholdView]] = {}
        self.group_set = set(self.group_names.values())
        self.days: dict[dt.date, tuple[Quarter, Optional[LedgerError]]] = {}
        days = [d for d in days if d is not None]
        self.nets = self._nets(days)
        self.existing = self._existing(days)
        self.quarter_checks: dict[Quarter, Optional[LedgerError]] = {}
        # Rows accepted so far, by what a repeated row would repeat -> (sheet, row).
        self.seen: dict[tuple, tuple[str, int]] = {}

    def _nets(self, days: list[dt.date]) -> dict[tuple[int, int, Quarter], int]:
        """Net points of live entries per household, capped rule and quarter, from one query."""
        capped = [r.id for r in self.rules.values() if r.quarter_cap is not None]
        if not days or not capped:
            return {}
        rows = db.session.execute(
            db.select(Entry.household_id, Entry.rule_id, Entry.entry_date, db.func.sum(Entry.points))
            .where(
                Entry.village_id == self.village.id,
                Entry.rule_id.in_(capped),
                Entry.status.in_(ledger.LIVE_STATUSES),
                Entry.entry_date.between(Quarter.of(min(days)).first_day, Quarter.of(max(days)).last_day),
            )
            .group_by(Entry.household_id, Entry.rule_id, Entry.entry_date)
        )
        nets: dict[tuple[int, int, Quarter], int] = {}
        for household_id, rule_id, day, total in rows:
            key = (household_id, rule_id, Quarter.of(day))
            nets[key] = nets.get(key, 0) + int(total)
        return nets

    def _existing(self, days: list[dt.date]) -> dict[tuple, int]:
        """Live entries in the file's date range, by what a duplicate row would repeat."""
        if not days:
            return {}
        rows = db.session.execute(
            db.select(Entry.id, Entry.household_id, Entry.rule_id, Entry.entry_date, Entry.points, Entry.note)
            .where(
                Entry.village_id == self.village.id,
                Entry.status.in_(ledger.LIVE_STATUSES),
                Entry.reverses_id.is_(None),
                Entry.entry_date.between(min(days), max(days)),
            )
        )
        return {(r.household_id, r.rule_id, r.entry_date, r.points, r.note or ""): r.id for r in rows}

    def check(self, parsed: _Parsed, problems: list[Problem]) -> Optional[PlannedEntry]:
        """Return the row as a planned entry, or add its problem and return None."""
        here = len(problems)
        household = self._household(parsed, problems)
        try:
            rule, by_title = self.finder.find(parsed.rule)
        except RuleNotFound as exc:
            problems.append(parsed.problem("rule", str(exc)))
        if len(problems) > here:
            return None
        points = rule.default_points if parsed.points is None else parsed.points
        refusal = self.admit(household, rule, parsed.entry_date, points, parsed.note, (parsed.sheet, parsed.row))
        if refusal is not None:
            name, message = refusal
            if name == "household":
                name = "code" if parsed.code else "head_name"
            problems.append(parsed.problem(name, message))
            return None
        return PlannedEntry(
            sheet=parsed.sheet, row=parsed.row, household_id=household.id, household_code=household.code,
            head_name=household.head_name, group=self.group_names.get(household.group_id),
            rule_id=rule.id, rule_code=rule.code, rule_title=rule.title, points=points,
            entry_date=parsed.entry_date, note=parsed.note, default_points=parsed.points is None,
            rule_written=parsed.rule if by_title else "",
        )

    def admit(
        self, household: HouseholdView, rule: RuleView, day: dt.date, points: int, note: str, where: tuple[str, int]
    ) -> Optional[tuple[str, str]]:
        """Run the ledger's checks on one entry, then the file's own; count it in if it passes.

        Returns (field, message) of a refusal, or None. Fields: household, rule,
        entry_date, points, note. The message names the household and the rule.
        """
        quarter, closed = self._day(day)
        # Only a capped rule counts its net (check_entry reads net_before for those alone).
        key = (household.id, rule.id, quarter) if rule.quarter_cap is not None else None
        try:
            ledger.check_entry(
                self.village, household, rule, day, points, today=self.today,
                evidence=bool(note), net_before=self.nets.get(key, 0) if key else 0, check_quarter=False,
            )
            if closed is not None:
                raise closed
        except LedgerError as exc:
            field = _LEDGER_COLUMNS.get(exc.field, "household")
            return field, _naming(_message(exc, rule, household), household, rule)
        same = (household.id, rule.id, day, points, note)
        if same in self.seen:
            sheet, number = self.seen[same]
            earlier = f"第{number}行" if sheet == where[0] else f"工作表“{sheet}”第{number}行"
            return "rule", _naming(
                f"与{earlier}完全相同（同一户、细则、日期、分值和说明），同一条记录只能出现一次", household, rule,
            )
        if same in self.existing:
            return "rule", _naming(
                f"与已有的积分记录 #{self.existing[same]} 完全相同，可能已经导入过。如确是另一次，请在说明里写明区别",
                household, rule,
            )
        self.seen[same] = where
        # Later rows of the file count this one against the rule's quarterly cap.
        if key is not None:
            self.nets[key] = self.nets.get(key, 0) + points
        return None

    def _day(self, day: dt.date) -> tuple[Quarter, Optional[LedgerError]]:
        """Return the day's quarter and the refusal of a published or closed one, looked up once per day."""
        found = self.days.get(day)
        if found is None:
            quarter = Quarter.of(day)
            if quarter not in self.quarter_checks:
                try:
                    ledger.check_quarter_open(self.village, day)
                    self.quarter_checks[quarter] = None
                except LedgerError as exc:
                    self.quarter_checks[quarter] = exc
            found = self.days[day] = (quarter, self.quarter_checks[quarter])
        return found

    def _load_register(self) -> None:
        # Inactive households are kept, so the ledger's own message refuses them.
        self.by_code = {}
        for row in db.session.execute(
            db.select(*HouseholdView.columns()).where(Household.village_id == self.village.id)
        ):
            h = HouseholdView(*row)
            self.by_code[h.code] = h
            if h.code.isdigit():
                self.by_number.setdefault(code_key(h.code), []).append(h)
            self.by_name.setdefault(h.head_name, []).append(h)

    def _household(self, parsed: _Parsed, problems: list[Problem]) -> Optional[HouseholdView]:
        if self.by_code is None:
            self._load_register()

        def problem(name: str, message: str) -> None:
            problems.append(parsed.problem(name, message))

        if parsed.group and parsed.group not in self.group_set:
            known = "、".join(self.group_names.values()) or "（本村还没有小组）"
            problem("group", f"本村没有“{parsed.group}”这个小组（本村小组：{known}）")
            return None
        if parsed.code:
            found = self.by_code.get(parsed.code)
            if found is None and parsed.code.isdigit():
                # Excel drops leading zeros from a code typed into a number cell: 12 is 0012.
                same = self.by_number.get(code_key(parsed.code), [])
                found = same[0] if len(same) == 1 else None
            if found is None:
                problem("code", f"本村没有户编号为“{parsed.code}”的农户")
                return None
            if parsed.head_name and parsed.head_name != found.head_name:
                problem(
                    "head_name",
                    f"户编号 {found.code} 的户主是“{found.head_name}”，与这里的“{parsed.head_name}”不符，请核对是哪一户",
                )
                return None
            return found
        where = f"{parsed.group}" if parsed.group else "本村"
        candidates = [
            h for h in self.by_name.get(parsed.head_name, [])
            if not parsed.group or self.group_names.get(h.group_id) == parsed.group
        ]
        if len(candidates) > 1:
            # Of several households with one name, the only one still registered is meant.
            active = [h for h in candidates if h.is_active]
            if len(active) == 1:
                candidates = active
        if not candidates:
            problem("head_name", f"{where}没有户主叫“{parsed.head_name}”的农户，请核对姓名和小组，或填写户编号")
            return None
        if len(candidates) > 1:
            listed = "、".join(
                f"{h.code}（{self.group_names.get(h.group_id) or '未分组'}）" for h in candidates[:5]
            )
            hint = "请填写户编号" if parsed.group else "请填写村民小组或户编号"
            problem("head_name", f"{where}有 {len(candidates)} 户户主叫“{parsed.head_name}”（户编号 {listed}），无法确定是哪一户，{hint}")
            return None
        return candidates[0]


class RuleNotFound(LookupError):
    """A sheet's rule cell names no rule, or several; the message lists the candidates."""


# Punctuation a clerk may add or leave out of a rule's title.
_TITLE_NOISE = re.compile(r"[\s，。、；;：:,.“”\"'‘’（）()【】\[\]！!？?—-]+")
# How alike a written title must be to a rule's title to count as a close match (difflib ratio).
CLOSE_MATCH = 0.6


def title_key(title: str) -> str:
    """Return the form rule titles are compared in: without spaces and punctuation."""
    return _TITLE_NOISE.sub("", sheets.clean_text(title))


class RuleFinder:
    """Find the rule a sheet names: its code, its exact title, or one unambiguous close match."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self.by_code = {r.code.upper(): r for r in self.rules}
        self.by_title: dict[str, list[Rule]] = {}
        for r in self.rules:
            self.by_title.setdefault(title_key(r.title), []).append(r)
        self._found: dict[str, tuple[Rule, bool] | RuleNotFound] = {}

    def find(self, written: str) -> tuple[Rule, bool]:
        """Return (rule, found by title); raise RuleNotFound naming the candidates."""
        found = self._found.get(written)
        if found is None:
            try:
                found = self._find(written)
            except RuleNotFound as exc:
                found = exc
            self._found[written] = found
        if isinstance(found, RuleNotFound):
            raise found
        return found

    def _find(self, written: str) -> tuple[Rule, bool]:
        rule = self.by_code.get(written.upper())
        if rule is not None:
            return rule, False
        key = title_key(written)
        same = self.by_title.get(key, [])
        if len(same) == 1:
            return same[0], True
        candidates = same or self._close(key)
        # Of several candidates, a single rule still in use is meant.
        active = [r for r in candidates if r.active]
        if len(candidates) > 1 and len(active) == 1:
            candidates = active
        if len(candidates) == 1:
            return candidates[0], True
        if not candidates:
            raise RuleNotFound(f"本村没有编号或名称为“{written}”的积分细则，请对照积分细则页面填写编号或名称")
        listed = "、".join(f"{r.code}“{r.title}”" for r in candidates[:6])
        raise RuleNotFound(f"“{written}”对应不到唯一的积分细则，可能是：{listed}。请填写细则编号")

    def _close(self, key: str) -> list[Rule]:
        """Return the rules a title is close to: those containing it (or contained in it), else
        the best difflib match when it is clearly ahead of the next, else every passable one."""
        if len(key) < 2:
            return []
        contained = [r for title, rules in self.by_title.items() if title and (key in title or title in key) for r in rules]
        if contained:
            return contained
        scored = sorted(
            ((difflib.SequenceMatcher(None, key, title).ratio(), rules) for title, rules in self.by_title.items() if title),
            key=lambda item: -item[0],
        )
        passable = [(score, rules) for score, rules in scored if score >= CLOSE_MATCH]
        if len(passable) > 1 and passable[0][0] - passable[1][0] >= 0.1:
            passable = passable[:1]
        return [r for _score, rules in passable for r in rules]


def _message(exc: LedgerError, rule: Rule, household: Household) -> str:
    """Return the ledger's refusal as a sheet row reads it."""
    if isinstance(exc, ledger.EvidenceRequired):
        # On paper the evidence is the record itself; the sheet says where it is kept.
        return (
            f"细则 {rule.code}“{rule.title}”需要依据：请在说明里写明纸质记录或照片存放在哪里"
            f"（给 {household.code} {household.head_name}）"
        )
    return str(exc)


def _naming(message: str, household: Household, rule: Rule) -> str:
    """Add the household and the rule to a message that does not name them already."""
    missing = []
    if f"{household.code} {household.head_name}" not in message:
        missing.append(f"农户 {household.code} {household.head_name}")
    if f"细则 {rule.code}" not in message:
        missing.append(f"细则 {rule.code}“{rule.title}”")
    return f"{message}（{'，'.join(missing)}）" if missing else message


def _by_id(model, village: Village, ids: set[int], *, lock: bool = False) -> dict:
    """Load the village's rows of a model by id, in batches; ``lock`` takes their row locks (PostgreSQL)."""
    # Sorted, so concurrent imports take their locks in one order and never deadlock.
    ids_list = sorted(ids)
    found = {}
    for start in range(0, len(ids_list), BATCH):
        stmt = (
            db.select(model).where(model.village_id == village.id, model.id.in_(ids_list[start:start + BATCH]))
            .order_by(model.id)
        )
        if model is Household:
            stmt = stmt.options(lazyload(Household.category_rows))
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found.update((row.id, row) for row in db.session.execute(stmt).scalars())
    return found
