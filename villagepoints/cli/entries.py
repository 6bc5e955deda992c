"""Importing points entries from the command line."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import entry_import
from .common import one_transaction, village_or_fail
from .imports import echo_problems, echo_unused, refuse_if_blocked


@click.command("import-entries")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@click.option("--approve", is_flag=True, help="直接记为已通过（审核人记为“命令行”），不进入审核")
@with_appcontext
def import_entries(file: Path, slug: str, dry_run: bool, approve: bool) -> None:
    """Import points entries from an .xlsx, .xls, .ods or .csv file; exit non-zero when problems stop it."""
    village = village_or_fail(slug)
    try:
        plan = entry_import.plan_entry_import(
            village, file, file.name,
            max_bytes=current_app.config["IMPORT_MAX_BYTES"], max_rows=current_app.config["IMPORT_MAX_ROWS"],
        )
    except entry_import.ImportRefused as exc:
        raise click.ClickException(str(exc)) from exc
    echo_unused(plan)
    echo_problems(plan, plan.problems)
    refuse_if_blocked(plan)
    if not plan.rows:
        raise click.ClickException("文件里没有积分记录，没有导入任何数据")
    if dry_run:
        click.echo(f"试运行（未写入）：{plan.summary()}")
        return
    try:
        with one_transaction():
            result = entry_import.apply_entry_import(None, village, plan, approve=approve)
    except entry_import.EntryImportRefused as exc:
        echo_problems(plan, exc.problems)
        raise click.ClickException(str(exc)) from exc
    click.echo(result.summary())


commands = [import_entries]
