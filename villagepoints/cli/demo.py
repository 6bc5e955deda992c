"""`flask --app villagepoints demo`: load a demo village to look around in."""
from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import demo_data
from ..extensions import db
from ..models import Village
from ..quarters import Quarter
from .common import one_transaction

DEMO_USERS_FILE = "demo-users.txt"


@click.command("demo")
@click.option(
    "--households", "count", type=click.IntRange(1, demo_data.MAX_HOUSEHOLDS),
    default=demo_data.DEFAULT_HOUSEHOLDS, show_default=True, help="示范农户数",
)
@click.option("--slug", default=demo_data.DEMO_SLUG, show_default=True, help="示范村的村代码")
@click.option("--if-empty", is_flag=True, help="数据库里已有村时什么也不做（供首次安装脚本使用）")
@with_appcontext
def demo(count: int, slug: str, if_empty: bool) -> None:
    """Load a demo village with households, groups and one demo user per role."""
    if if_empty and db.session.execute(db.select(Village.id).limit(1)).first() is not None:
        click.echo("数据库中已有村，未加载示范数据。")
        return
    password = secrets.token_urlsafe(9)
    try:
        with one_transaction():
            result = demo_data.load_demo(None, password, households_count=count, slug=slug)
    except demo_data.DemoError as exc:
        raise click.ClickException(str(exc)) from exc
    village = result.village
    click.echo(
        f"已加载{village.name}（村代码 {village.slug}）：{len(village.groups)} 个小组，"
        f"{result.households} 户（其中 {result.inactive} 户已迁出）。"
    )
    click.echo(
        f"积分记录 {result.entries} 条（{result.pending} 条待审核），{Quarter.parse(result.published).label}已公示，"
        f"积分超市 {result.redemptions} 笔兑换。"
    )
    lines = [f"用户名: {u.username}（{u.display_name}）" for u in result.users]
    lines.append(f"密码: {password}")
    note = Path(current_app.instance_path) / DEMO_USERS_FILE
    note.write_text("示范用户（只能看到示范村）\n" + "\n".join(lines) + "\n", encoding="utf-8")
    note.chmod(0o600)
    click.echo("示范用户：")
    for line in lines:
        click.echo(f"  {line}")
    click.echo(f"（也保存在 {note}）")


commands = [demo]
