"""Importing household lists from the command line, and the import template."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import household_import
from .common import one_transaction, village_or_fail


def echo_problems(plan, problems) -> None:
    """Print each problem on its own line, naming the sheet when the file has several."""
    for problem in problems:
        click.echo(problem.line(with_sheet=plan.several_sheets))


def echo_unused(plan) -> None:
    """Say which columns of the file were not imported, so none is dropped silently."""
    if plan.unused:
        click.echo(f"这些列没有导入：{'、'.join(plan.unused)}")


def refuse_if_blocked(plan, hint: str = "") -> None:
    """Stop with the plan's summary when problem rows keep the whole file out."""
    if plan.blocked:
        click.echo(f"检查结果（未写入）：{plan.summary()}")
        raise click.ClickException(f"有 {plan.refused} 行有问题，没有导入任何数据。请改正后重新导入{hint}")


@click.command("import-households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@click.option("--skip-invalid", is_flag=True, help="跳过有问题的行，只导入无误的行")
@click.option("--create-groups", is_flag=True, help="自动新建文件里有、本村还没有的小组")
@click.option(
    "--confirm-identity-changes", "confirm_identity", is_flag=True,
    help="确认文件里所有改动已登记农户户主姓名或身份证号的行（逐行列出）",
)
@with_appcontext
def import_households(
    file: Path, slug: str, dry_run: bool, skip_invalid: bool, create_groups: bool, confirm_identity: bool
) -> None:
    """Import households from an .xlsx, .xls, .ods or .csv file; exit non-zero when problems stop it.

    A row that changes an existing household's head name or ID number is held back
    unless --confirm-identity-changes is given; with --skip-invalid it is skipped.
    """
    village = village_or_fail(slug)
    try:
        plan = household_import.plan_import(
            village, file, file.name, skip_invalid=skip_invalid, create_groups=create_groups,
            confirm_identity=confirm_identity,
            max_bytes=current_app.config["IMPORT_MAX_BYTES"], max_rows=current_app.config["IMPORT_MAX_ROWS"],
        )
    except household_import.ImportRefused as exc:
        raise click.ClickException(str(exc)) from exc
    echo_unused(plan)
    for r in plan.identity_rows:
        click.echo(f"已确认身份变更：第{r.row}行 户编号 {r.code}：{household_import.describe_changes(r)}")
    echo_problems(plan, plan.problems)
    if plan.held_back:
        if skip_invalid:
            click.echo(
                f"跳过 {len(plan.held_back)} 行身份变更（未确认）："
                + "；".join(f"第{r.row}行 “{r.old_head_name}”→“{r.head_name}”" for r in plan.held_back)
            )
        else:
            click.echo("核对无误后，可加上 --confirm-identity-changes 确认这些身份变更")
    if plan.missing_groups and not create_groups:
        click.echo(f"本村还没有这些小组：{'、'.join(plan.missing_groups)}。加上 --create-groups 可自动新建")
    refuse_if_blocked(plan, "，或加上 --skip-invalid 只导入无误的行")
    if dry_run:
        for r in plan.rows:
            if r.action == "update":
                click.echo(f"将更新 第{r.row}行 户编号 {r.code}：{household_import.describe_changes(r)}")
        click.echo(f"试运行（未写入）：{plan.summary()}")
        return
    try:
        with one_transaction():
            result = household_import.apply_import(None, village, plan)
    except household_import.ImportRefused as exc:
        raise click.ClickException(str(exc)) from exc
    if result.groups_created:
        click.echo(f"已新建小组：{'、'.join(result.groups_created)}")
    click.echo(result.summary())


@click.command("import-template")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="保存到的 .xlsx 文件")
def import_template(out: Path) -> None:
    """Write the household import template (.xlsx with the headers and one example row)."""
    out.write_bytes(household_import.template_bytes())
    click.echo(f"导入模板已保存到 {out}")


commands = [import_households, import_template]
