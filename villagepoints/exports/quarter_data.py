"""A quarter's numbers as the notice and the lists print them, split by group when asked.

A published quarter prints its snapshot in force, with its version; an open quarter
(never published, or reopened) prints the live tally, marked as a draft (草稿).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from ..models import Group, Publication, Village
from ..publication import build_snapshot, current_publication, snapshot_of
from ..quarters import Quarter
from .printing import chinese_date

UNGROUPED = "未分组"


@dataclass
class Section:
    """The rows of one group (or of the whole village) for one sheet."""

    group: str  # "" for the whole village
    tally: list[dict] = field(default_factory=list)
    red: list[dict] = field(default_factory=list)
    black: list[dict] = field(default_factory=list)


@dataclass
class QuarterNumbers:
    village: Village
    quarter: Quarter
    snapshot: dict
    publication: Optional[Publication]

    @property
    def draft(self) -> bool:
        return self.publication is None

    @property
    def label(self) -> str:
        return self.snapshot.get("label") or self.quarter.label

    @property
    def village_name(self) -> str:
        return self.snapshot.get("village") or self.village.name

    def title(self, what: str, group: str = "") -> str:
        """Return a printed title, e.g. 蒋坝村2026年第三季度农户积分公示（一组）（草稿）."""
        text = f"{self.village_name}{self.label}{what}"
        if group:
            text += f"（{group}）"
        if self.draft:
            text += "（草稿）"
        return text

    def status_line(self) -> str:
        """Say which version this is and when the notice runs, or that it is a draft."""
        if self.publication is None:
            return "草稿：本季度尚未公示，积分按目前已审核的记录计算，公示前还可能变动"
        p = self.publication
        return (f"第{p.version}版　公示期：{chinese_date(p.notice_starts_on)}"
                f"至{chinese_date(p.notice_ends_on)}")

    def header_mark(self) -> str:
        """The mark printed at the top right of every page."""
        return "草稿" if self.publication is None else f"第{self.publication.version}版"

    def contact_line(self) -> str:
        """Tell residents where to raise an objection."""
        contact = (self.publication.contact if self.publication else self.village.objection_contact) or ""
        contact = contact.strip() or "村积分管理小组"
        if self.publication is None:
            return f"本表为草稿，仅供核对。如发现错误，请向{contact}反映。"
        ends = chinese_date(self.publication.notice_ends_on)
        return f"如对积分有异议，请在{ends}前（含当天）向{contact}反映。"

    def signed_on(self) -> Optional[dt.date]:
        """Return the date the notice is signed: the day it was published (none for a draft)."""
        return self.publication.notice_starts_on if self.publication else None

    def sections(self, group: Optional[Group] = None, by_group: bool = False) -> list[Section]:
        """Split the rows into one section per sheet: the village, one group, or every group.

        Groups come in the village's order, households without a group last; a group
        with no household in the tally gets no sheet. Ranks stay village-wide.
        """
        snap = self.snapshot
        group_of = {row["household_id"]: row.get("group_id") for row in snap["tally"]}

        def section(name: str, wanted) -> Section:
            return Section(
                name,
                [r for r in snap["tally"] if wanted(r.get("group_id"))],
                [r for r in snap["red"] if wanted(group_of.get(r["household_id"]))],
                [r for r in snap["black"] if wanted(group_of.get(r["household_id"]))],
            )

        if group is not None:
            found = next((r["group"] for r in snap["tally"] if r.get("group_id") == group.id), None)
            return [section(found or group.name, lambda gid: gid == group.id)]
        if not by_group:
            return [section("", lambda gid: True)]
        order = {g.id: i for i, g in enumerate(self.village.groups)}
        names: dict[Optional[int], str] = {}
        for row in snap["tally"]:
            names.setdefault(row.get("group_id"), row["group"] or UNGROUPED)
        ids = sorted(names, key=lambda gid: (gid is None, order.get(gid, len(order)), names[gid]))
        return [section(names[gid], lambda g, gid=gid: g == gid) for gid in ids]


def quarter_numbers(village: Village, quarter: Quarter) -> QuarterNumbers:
    """Return the quarter's published snapshot in force, or the live numbers as a draft."""
    publication = current_publication(village, quarter)
    if publication is not None:
        return QuarterNumbers(village, quarter, snapshot_of(publication), publication)
    return QuarterNumbers(village, quarter, build_snapshot(village, quarter), None)
