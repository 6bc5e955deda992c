"""A quarter's tally and lists, and publishing it, from the command line."""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Optional, Sequence

import click
from flask.cli import with_appcontext

from .. import applications, publication, quarter_points
from ..models import Publication, Village
from ..quarters import BadQuarter, Quarter
from .common import TEXT, one_transaction, village_or_fail

# The fields of the tally and list rows, in the order the JSON and CSV give them.
TALLY_FIELDS = ("code", "head_name", "group", "base", "plus", "minus", "score", "rank")
LIST_FIELDS = ("code", "head_name", "group", "score", "rank", "reasons")
TALLY_HEADINGS = ("排名", "户编号", "户主", "小组", "基础分", "加分", "扣分", "季度积分")
LIST_HEADINGS = ("排名", "户编号", "户主", "小组", "季度积分", "上榜原因")


class QuarterParam(click.ParamType):
    name = "quarter"

    def convert(self, value, param, ctx) -> Quarter:
        if isinstance(value, Quarter):
            return value
        try:
            quarter = Quarter.parse(value)
        except BadQuarter as exc:
            self.fail(str(exc), param, ctx)
        if not 2000 <= quarter.year <= 2100:
            self.fail(f"季度“{value}”的年份不对", param, ctx)
        return quarter


QUARTER = QuarterParam()


@click.command("tally")
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--quarter", "quarter", type=QUARTER, required=True, help="季度，如 2026Q3")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@with_appcontext
def tally(slug: str, quarter: Quarter, fmt: str) -> None:
    """Print a quarter's tally in rank order; a published quarter prints its snapshot."""
    village = village_or_fail(slug)
    numbers, pub = publication.shown_numbers(village, quarter)
    rows = [{k: row[k] for k in TALLY_FIELDS} for row in numbers["tally"]]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=TALLY_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
    else:
        click.echo(_title(village, quarter, pub))
        click.echo(_table(TALLY_HEADINGS, [
            (r["rank"], r["code"], r["head_name"], r["group"] or "未分组", r["base"], _signed(r["plus"]),
             r["minus"], r["score"])
            for r in rows
        ], numeric=(0, 4, 5, 6, 7)))
        click.echo(f"共 {len(rows)} 户")


@click.command("lists")
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--quarter", "quarter", type=QUARTER, required=True, help="季度，如 2026Q3")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_appcontext
def lists(slug: str, quarter: Quarter, fmt: str) -> None:
    """Print a quarter's red and black lists with their reasons; a published quarter prints its snapshot."""
    village = village_or_fail(slug)
    numbers, pub = publication.shown_numbers(village, quarter)
    chosen = {kind: [{k: row[k] for k in LIST_FIELDS} for row in numbers[kind]] for kind in ("red", "black")}
    if fmt == "json":
        click.echo(json.dumps(chosen, ensure_ascii=False, indent=2))
        return
    click.echo(_title(village, quarter, pub))
    for kind, heading in (("red", "红榜"), ("black", "黑榜")):
        rows = chosen[kind]
        click.echo("")
        click.echo(f"{heading}（{len(rows)} 户）")
        if rows:
            click.echo(_table(LIST_HEADINGS, [
                (r["rank"], r["code"], r["head_name"], r["group"] or "未分组", r["score"], "；".join(r["reasons"]))
                for r in rows
            ], numeric=(0, 4)))


@click.command("publish")
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--quarter", "quarter", type=QUARTER, required=True, help="季度，如 2026Q3")
@click.option("--notice-days", type=click.IntRange(1, 60), default=None, help="公示天数（默认用村设置）")
@click.option("--contact", type=TEXT, default=None, help="异议联系人及电话（默认用村设置）")
@with_appcontext
def publish(slug: str, quarter: Quarter, notice_days: Optional[int], contact: Optional[str]) -> None:
    """Publish a quarter: freeze its tally and lists as the next version and open the notice period."""
    village = village_or_fail(slug)
    try:
        with one_transaction():
            pub = publication.publish(None, village, quarter, notice_days=notice_days, contact=contact)
            waiting = applications.waiting_in_quarter(village, quarter)
    except publication.PublicationError as exc:
        raise click.ClickException(str(exc)) from exc
    snap = publication.snapshot_of(pub)
    click.echo(
        f"已公示{village.name}{quarter.label}（第{pub.version}版）：{len(snap['tally'])} 户，"
        f"红榜 {len(snap['red'])} 户，黑榜 {len(snap['black'])} 户"
    )
    click.echo(f"公示期 {pub.notice_starts_on} 至 {pub.notice_ends_on}" + (f"，异议联系：{pub.contact}" if pub.contact else ""))
    if waiting:
        click.echo(f"注意：{applications.waiting_warning(quarter, waiting)}。"
                   f"待核实的申请见网页“申请待核实”（/v/{village.slug}/applications?quarter={quarter}）。")


@click.command("check-tallies")
@click.option("--village", "slug", help="村代码；不写则检查所有村")
@click.option("--repair", is_flag=True, help="按积分记录重算，改正不符的季度累计")
@with_appcontext
def check_tallies(slug: Optional[str], repair: bool) -> None:
    """Compare the kept quarter sums with the entries; with --repair, rewrite them from the entries."""
    ids = [village_or_fail(slug).id] if slug else None
    found = quarter_points.drift(ids)
    for line in found[:50]:
        click.echo(line.line())
    if len(found) > 50:
        click.echo(f"……另有 {len(found) - 50} 处不符")
    if not found:
        click.echo("季度累计与积分记录一致")
        return
    if not repair:
        raise click.ClickException(f"有 {len(found)} 处季度累计与积分记录不符；加 --repair 按记录重算")
    with one_transaction():
        written = quarter_points.rebuild(ids)
    click.echo(f"已按积分记录重算季度累计（{written} 行），现在一致")


def _title(village: Village, quarter: Quarter, pub: Optional[Publication]) -> str:
    if pub is None:
        return f"{village.name} {quarter.label}（未公示，实时计算）"
    state = "公示中" if publication.quarter_state(village, quarter).status == "published" else "已结束"
    return f"{village.name} {quarter.label}（{state}，第{pub.version}版，公示期 {pub.notice_starts_on} 至 {pub.notice_ends_on}）"


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _width(text: str) -> int:
    """Count wide (CJK) characters as two columns, as a terminal shows them."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(headings: Sequence[str], rows: Sequence[Sequence], numeric: Sequence[int] = ()) -> str:
    """Lay rows out in columns aligned for a terminal; numeric columns are right-aligned."""
    cells = [[str(h) for h in headings]] + [[str(v) for v in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headings))]
    lines = []
    for row in cells:
        parts = []
        for i, text in enumerate(row):
            pad = " " * (widths[i] - _width(text))
            last = i == len(row) - 1
            parts.append(pad + text if i in numeric else (text if last else text + pad))
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


commands = [tally, lists, publish, check_tallies]
