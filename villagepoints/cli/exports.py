"""`flask --app villagepoints export KIND …`: the printable Excel exports from the command line."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

import click
from flask.cli import with_appcontext

from .. import exports, villages
from ..quarters import BadQuarter, Quarter
from .common import one_transaction, village_or_fail


@click.command("export")
@click.argument("kind", type=click.Choice(list(exports.KINDS)))
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--quarter", "quarter_text", help="季度，例如 2026Q3（积分公示、红黑榜、积分记录）")
@click.option("--year", type=click.IntRange(2000, 2100), help="年份，例如 2026（年度积分）")
@click.option("--group", "group_name", help="只导出这个村民小组（积分公示、红黑榜）")
@click.option("--by-group", is_flag=True, help="每个小组一张表，分开打印（积分公示、红黑榜）")
@click.option("--full-personal-data", is_flag=True, help="农户台账显示完整身份证号和电话（会记入操作日志）")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="保存到的 .xlsx 文件")
@with_appcontext
def export(
    kind: str, slug: str, quarter_text: Optional[str], year: Optional[int], group_name: Optional[str],
    by_group: bool, full_personal_data: bool, out: Path,
) -> None:
    """Write a printable Excel export (notice, lists, entries, register, annual, template)."""
    village = village_or_fail(slug)
    try:
        quarter = Quarter.parse(quarter_text) if quarter_text else None
    except BadQuarter as exc:
        raise click.ClickException(str(exc)) from exc
    group = None
    if group_name:
        group = villages.find_group(village, group_name.strip())
        if group is None:
            names = "、".join(g.name for g in village.groups) or "（本村还没有小组）"
            raise click.ClickException(f"本村没有叫“{group_name}”的小组，可选：{names}")
    options = exports.Options(quarter=quarter, year=year, group=group, by_group=by_group,
                              full_personal_data=full_personal_data)
    # Written beside the target and renamed at the end, so a failed export never
    # leaves a half-written file under the name asked for.
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(suffix=".xlsx", dir=out.parent)
    try:
        with one_transaction(), os.fdopen(handle, "wb") as stream:
            exports.export(None, village, kind, stream, options)
        os.replace(partial, out)
    except exports.ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    click.echo(f"{exports.KINDS[kind]}已保存到 {out}")


commands = [export]
