"""`backup --out FILE` and `restore FILE`: the whole database to a file and back."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import backup as backups
from ..extensions import db


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="备份文件路径，如 /var/backups/villagepoints/vp-2026-07-01.backup")
@with_appcontext
def backup_command(out: Path) -> None:
    """Back up the whole database to a file while the app keeps running."""
    try:
        info = backups.backup(db.engine.url, out)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    kind = "SQLite" if info.kind == "sqlite" else "PostgreSQL（pg_dump）"
    click.echo(f"已备份到 {info.path}（{kind}，{_size(info.size)}）。")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再询问，直接恢复（在脚本里运行时必须加）")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace all data in the database with a backup file's contents."""
    url = db.engine.url
    try:
        backups.inspect_backup(url, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    target = url.render_as_string(hide_password=True)
    if not yes:
        if not _stdin_is_terminal():
            raise click.ClickException(
                "恢复会用备份覆盖当前数据库里的全部数据，没有执行。在脚本里运行时请加 --yes 确认。"
            )
        click.confirm(f"恢复会用 {path} 覆盖 {target} 里的全部数据，恢复前请先停止网站。确定恢复吗？",
                      abort=True)
    # The app's own pooled connections would block the restore (SQLite's lock, PostgreSQL's
    # table locks for DROP); they reconnect on next use.
    db.session.remove()
    db.engine.dispose()
    try:
        backups.restore(url, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已从 {path} 恢复 {target}。如果备份来自旧版本，请再运行一次 init-db 升级数据库结构。")


commands = [backup_command, restore_command]
