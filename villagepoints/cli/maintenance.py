"""`purge-old-rows`: delete bookkeeping rows nobody reads any more, e.g. nightly after the backup."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import import_claims, throttle
from .common import one_transaction


@click.command("purge-old-rows")
@click.option("--claims-days", type=click.IntRange(1, 3650), default=import_claims.KEEP_DAYS, show_default=True,
              help="导入确认记录保留的天数")
@click.option("--throttle-hours", type=click.IntRange(1, 24 * 365), default=throttle.KEEP_HOURS, show_default=True,
              help="登录失败、查询计数记录保留的小时数（限流窗口最长15分钟）")
@with_appcontext
def purge_old_rows(claims_days: int, throttle_hours: int) -> None:
    """Delete throttle rows past every window and import claims older than the days given, in one transaction."""
    with one_transaction():
        failures, keys = throttle.purge(keep_hours=throttle_hours)
        claims = import_claims.purge(keep_days=claims_days)
    click.echo(
        f"已清理：{throttle_hours}小时前的登录失败和查询计数记录 {failures} 条、不再使用的限流记录 {keys} 条、"
        f"{claims_days}天前的导入确认记录 {claims} 条。"
    )


commands = [purge_old_rows]
