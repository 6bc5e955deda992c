"""Schema, users, villages and the register from the command line."""
from __future__ import annotations

import json
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .. import accounts, first_admin, households, townships, villages
from ..extensions import db
from ..models import ROLES, User
from .common import TEXT, one_transaction, read_password, village_or_fail

FIRST_ADMIN = "admin"


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema; safe to run again."""
    upgrade()
    has_users = db.session.execute(db.select(User.id).limit(1)).first() is not None
    click.echo("数据库结构已是最新。")
    if has_users:
        if first_admin.retire_if_stale(current_app.instance_path):
            click.echo(f"首个管理员已改过初始密码，{first_admin.NOTE_NAME} 已删除。")
        return
    password = secrets.token_urlsafe(9)
    with one_transaction():
        accounts.create_user(None, FIRST_ADMIN, password, "admin", display_name="管理员")
    note = first_admin.write_note(current_app.instance_path, FIRST_ADMIN, password)
    click.echo(f"已创建首个管理员：用户名 {FIRST_ADMIN}，密码 {password}")
    click.echo(f"（密码也保存在 {note}；{first_admin.WHERE_TO_CHANGE}，改后这个文件会自动删除）")


@click.command("create-user")
@with_appcontext
@click.argument("name", type=TEXT)
@click.option("--role", type=click.Choice(ROLES), required=True, help="角色")
@click.option("--village", "slugs", multiple=True, help="村代码，可重复")
@click.option("--display-name", type=TEXT, default="", help="显示名")
@click.option("--township", "township_slug", type=TEXT, default="", help="乡镇代码（乡镇管理员、乡镇只读用户）")
def create_user(name: str, role: str, slugs: tuple[str, ...], display_name: str, township_slug: str) -> None:
    """Add a user; the password is read from stdin when it is not a terminal."""
    scoped = [village_or_fail(s) for s in slugs]
    township = townships.get_by_slug(township_slug) if township_slug else None
    if township_slug and township is None:
        raise click.ClickException(f"找不到乡镇代码为“{township_slug}”的乡镇")
    password = read_password()
    try:
        with one_transaction():
            accounts.create_user(None, name, password, role, scoped, display_name, township=township)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建用户 {name}（{role}）")


@click.command("add-village")
@with_appcontext
@click.argument("name", type=TEXT)
@click.option("--slug", type=TEXT, required=True, help="村代码：小写字母、数字、连字符")
@click.option("--groups", type=TEXT, default="", help="小组，用逗号分隔：一组,二组")
def add_village(name: str, slug: str, groups: str) -> None:
    """Add a village with its groups."""
    try:
        with one_transaction():
            village = villages.create_village(None, name, slug, villages.split_names(groups))
    except villages.VillageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已添加 {village.name}（{village.slug}），{len(village.groups)} 个小组")


@click.command("households")
@with_appcontext
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
def list_households(slug: str, fmt: str) -> None:
    """Print the household register, ID numbers and phones masked."""
    village = village_or_fail(slug)
    rows = [households.public_dict(h) for h in db.session.execute(households.register_query(village)).scalars()]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            "\t".join([r["code"], r["head_name"], r["group"], str(r["members"]),
                       "、".join(r["categories"]), r["status"], r["id_masked"]])
        )
    click.echo(f"共 {len(rows)} 户")


commands = [init_db, create_user, add_village, list_households]
