"""Points store commands: writing off expired points once a year."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import click
from flask.cli import with_appcontext

from .. import store
from ..extensions import db
from ..models import Village
from .common import one_transaction, village_or_fail


@click.command("expire-points")
@click.option("--village", "slug", default=None, help="村代码；不填则处理所有开启了积分过期的村")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="按哪一天结算，默认今天")
@with_appcontext
def expire_points(slug: Optional[str], on: Optional[dt.datetime]) -> None:
    """Write off points past their deadline as ledger records; run it on 1 January (safe to repeat)."""
    today = on.date() if on else dt.date.today()
    if slug:
        chosen = [village_or_fail(slug)]
        if not chosen[0].points_expire:
            raise click.ClickException(f"{chosen[0].name}没有开启积分按年过期（在村设置中开启）")
    else:
        chosen = list(db.session.execute(
            db.select(Village).where(Village.points_expire.is_(True)).order_by(Village.id)
        ).scalars())
        if not chosen:
            click.echo("没有开启积分按年过期的村。")
            return
    with one_transaction():
        for village in chosen:
            points = store.expire_village(None, village, today)
            click.echo(f"{village.name}：{today.year - 2}年及以前获得、到期未用的积分共作废 {points} 分")


commands = [expire_points]
