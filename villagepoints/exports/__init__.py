"""Excel exports for printing and for the township: notices, lists, ledgers, the register.

``export`` is the one entry point the CLI and the web share: it checks the options for
the kind, writes the workbook to a binary stream and returns the file name to offer.
Pure module: no Flask. Page setup lives in ``printing``; each kind has its own module.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import BinaryIO, Optional

from .. import audit, household_import
from ..models import Group, User, Village
from ..quarters import Quarter, year_bounds
from . import annual, entries, lists, notice, register, store
from .quarter_data import quarter_numbers

# Kind -> the words its file name and the exports page use.
KINDS = {
    "notice": "积分公示",
    "lists": "红黑榜",
    "entries": "积分记录",
    "store": "积分超市台账",
    "register": "农户台账",
    "annual": "年度积分",
    "template": "农户导入模板",
}
QUARTER_KINDS = ("notice", "lists", "entries")
YEAR_KINDS = ("annual",)
# Kinds for a quarter or a whole year, whichever is given.
PERIOD_KINDS = ("store",)
GROUP_KINDS = ("notice", "lists")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class ExportError(ValueError):
    """Options that do not fit the export asked for; the message says why in Chinese."""


@dataclass
class Options:
    """What to export: the period, which groups, and whether personal data is shown in full."""

    quarter: Optional[Quarter] = None
    year: Optional[int] = None
    group: Optional[Group] = None
    by_group: bool = False
    full_personal_data: bool = False


def _check(village: Village, kind: str, options: Options) -> None:
    if kind not in KINDS:
        raise ExportError(f"没有“{kind}”这种导出，可选：{'、'.join(KINDS)}")
    if kind in QUARTER_KINDS and options.quarter is None:
        raise ExportError(f"导出{KINDS[kind]}请选择季度，例如 2026Q3")
    if kind in YEAR_KINDS and options.year is None:
        raise ExportError(f"导出{KINDS[kind]}请选择年份，例如 2026")
    if kind in PERIOD_KINDS and (options.quarter is None) == (options.year is None):
        raise ExportError(f"导出{KINDS[kind]}请选择一个季度（例如 2026Q3）或一个年份（例如 2026），只选一个")
    if (options.group is not None or options.by_group) and kind not in GROUP_KINDS:
        raise ExportError("只有积分公示和红黑榜可以按小组导出")
    if options.group is not None and options.by_group:
        raise ExportError("请在“某一个小组”和“每个小组一张表”之间选一个")
    if options.group is not None and options.group.village_id != village.id:
        raise ExportError("所选小组不属于本村")
    if options.full_personal_data and kind != "register":
        raise ExportError("只有农户台账可以导出完整的身份证号和电话")


@dataclass(frozen=True)
class FileName:
    """The name to offer for a download: in Chinese, and in ASCII for clients that cannot read it."""

    name: str
    ascii_name: str


def filename(village: Village, kind: str, options: Options, *, draft: bool = False) -> FileName:
    """Return the file name to offer, e.g. 蒋坝村-2026Q3-积分公示.xlsx (jiangba-2026Q3-notice.xlsx)."""
    if kind == "template":
        return FileName(f"{KINDS[kind]}.xlsx", "household-import-template.xlsx")
    words = [(village.name, village.slug)]
    if options.group is not None:
        words.append((options.group.name, f"group{options.group.id}"))
    if options.quarter is not None and kind in QUARTER_KINDS + PERIOD_KINDS:
        words.append((str(options.quarter), str(options.quarter)))
    if options.year is not None and kind in YEAR_KINDS + PERIOD_KINDS:
        words.append((f"{options.year}年", str(options.year)))
    words.append((KINDS[kind], kind))
    if options.by_group:
        words.append(("分组", "by-group"))
    if options.full_personal_data:
        words.append(("完整信息", "full"))
    if draft:
        words.append(("草稿", "draft"))

    def join(parts) -> str:
        return _UNSAFE_FILENAME.sub("_", "-".join(p.strip() for p in parts if p.strip())) + ".xlsx"

    return FileName(join(w[0] for w in words), join(w[1] for w in words))


def export(
    actor: Optional[User], village: Village, kind: str, out: BinaryIO, options: Optional[Options] = None,
    *, today: Optional[dt.date] = None,
) -> FileName:
    """Write one export to ``out`` and return the file name to offer.

    Exporting the register with ID numbers and phones in full is recorded in the audit
    log (the caller commits); deciding who may ask for it is the caller's job.
    """
    options = options or Options()
    _check(village, kind, options)
    draft = False
    if kind in ("notice", "lists"):
        numbers = quarter_numbers(village, options.quarter)
        draft = numbers.draft
        module = notice if kind == "notice" else lists
        module.write(numbers, out, options.group, options.by_group)
    elif kind == "entries":
        entries.write(village, options.quarter, out)
    elif kind == "store":
        if options.quarter is not None:
            q = options.quarter
            store.write(village, q.label, q.first_day, q.last_day, out, today)
        else:
            first, last = year_bounds(options.year)
            store.write(village, f"{options.year}年", first, last, out, today)
    elif kind == "register":
        register.write(village, out, full_personal_data=options.full_personal_data, today=today)
        if options.full_personal_data:
            audit.record(actor, "export.register_full", village_id=village.id, target=register.title(village),
                         summary="导出含完整身份证号和电话的农户台账")
    elif kind == "annual":
        annual.write(village, options.year, out)
    elif kind == "template":
        out.write(household_import.template_bytes())
    return filename(village, kind, options, draft=draft)
