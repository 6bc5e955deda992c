"""Townships from the command line: grouping villages and the township roll-up."""
from __future__ import annotations

import csv
import io
import json

import click
from flask.cli import with_appcontext

from .. import rollup, townships, villages
from ..quarters import BadQuarter, Quarter
from .common import one_transaction


def _township_or_fail(slug: str):
    township = townships.get_by_slug(slug)
    if township is None:
        raise click.ClickException(f"找不到乡镇代码为“{slug}”的乡镇，可用 add-township 先添加")
    return township


@click.command("add-township")
@with_appcontext
@click.argument("name")
@click.option("--slug", required=True, help="乡镇代码：小写字母、数字、连字符")
@click.option("--villages", "village_slugs", default="", help="村代码，用逗号分隔：a,b,c")
@click.option("--add-village", "add", multiple=True, help="把村划入已有的乡镇（村代码，可重复）")
@click.option("--remove-village", "remove", multiple=True, help="把村移出乡镇（村代码，可重复）")
def add_township(name: str, slug: str, village_slugs: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Add a township with its villages, or change the villages of an existing one."""
    try:
        with one_transaction():
            township = townships.get_by_slug(slug)
            if township is None:
                township = townships.create_township(None, name, slug, villages.split_names(village_slugs))
                made = True
            else:
                townships.add_villages(None, township, villages.split_names(village_slugs))
                made = False
            townships.add_villages(None, township, add)
            townships.remove_villages(None, township, remove)
            names = [v.name for v in townships.villages_of(township)]
    except townships.TownshipError as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "已添加" if made else "已更新"
    click.echo(f"{verb} {township.name}（{township.slug}），{len(names)} 个村：{'、'.join(names) or '无'}")


@click.command("township")
@with_appcontext
@click.option("--township", "slug", required=True, help="乡镇代码")
@click.option("--quarter", "quarter_text", required=True, help="季度，如 2026Q3")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "table"]), default="table")
def township_report(slug: str, quarter_text: str, fmt: str) -> None:
    """Print one row of numbers per village of the township for a quarter."""
    township = _township_or_fail(slug)
    try:
        quarter = Quarter.parse(quarter_text)
    except BadQuarter as exc:
        raise click.ClickException(str(exc)) from exc
    rows = [r.as_dict() for r in rollup.township_rows(township, quarter)]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=rollup.FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
        return
    click.echo(f"{township.name} {quarter.label}")
    click.echo("\t".join(rollup.FIELD_LABELS[f] for f in rollup.FIELDS))
    for r in rows:
        shown = {**r, "participation_rate": f"{r['participation_rate']:.1%}",
                 "published": f"第{r['published']}版" if r["published"] else "未公示"}
        click.echo("\t".join(str(shown[f]) for f in rollup.FIELDS))
    click.echo(f"共 {len(rows)} 个村")


commands = [add_township, township_report]
