"""Household card commands: print a village's or a group's cards, reissue one household's card."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import card_pdf, cards, households, villages
from ..ledger import LedgerError
from .common import one_transaction, village_or_fail

BASE_URL_HELP = "农户扫码打开的网址开头，例如 https://jifen.example.cn；默认取配置 PUBLIC_URL"


def _base_url(given: Optional[str]) -> str:
    base = (given or current_app.config.get("PUBLIC_URL") or "").strip()
    if not base.startswith(("http://", "https://")):
        raise click.ClickException(
            "请用 --base-url 给出农户扫码打开的网址（以 http:// 或 https:// 开头），"
            "或在 instance/config.py 中设置 PUBLIC_URL"
        )
    return base


@click.command("cards")
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--group", "group_name", default=None, help="只打印这个小组（填小组名称）；不填则全村")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF 文件路径")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@with_appcontext
def print_cards(slug: str, group_name: Optional[str], out: Path, base_url: Optional[str]) -> None:
    """Issue new cards to the village's (or a group's) active households and write them as an A4 PDF.

    Every card printed before for these households stops working at once.
    """
    village = village_or_fail(slug)
    base = _base_url(base_url)
    group = None
    if group_name:
        group = villages.find_group(village, group_name)
        if group is None:
            raise click.ClickException(f"{village.name}没有名为“{group_name}”的小组")
    if not out.parent.is_dir():
        raise click.ClickException(f"目录“{out.parent}”不存在，请先创建")
    try:
        with one_transaction():
            issued = cards.issue_for_print(None, village, group)
            out.write_bytes(card_pdf.render(card_pdf.faces(issued, base), title=f"{village.name}户码"))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    replaced = sum(1 for card in issued if card.replaced)
    pages = -(-len(issued) // card_pdf.CARDS_PER_PAGE)
    click.echo(f"已为 {len(issued)} 户生成新户码，写入 {out}（{pages} 页）。")
    if replaced:
        click.echo(f"注意：其中 {replaced} 户原有的户码已作废，以前打印的卡扫码将显示“找不到这个户码”，请把新卡发到户。")


@click.command("reissue-card")
@click.option("--village", "slug", required=True, help="村代码")
@click.option("--household", "code", required=True, help="户编号")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path), help="把新户码写成 PDF（可不填）")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@with_appcontext
def reissue_card(slug: str, code: str, out: Optional[Path], base_url: Optional[str]) -> None:
    """Issue a new card to one household; its old card stops working at once."""
    village = village_or_fail(slug)
    base = _base_url(base_url)
    household = households.get_household(village, code)
    if household is None:
        raise click.ClickException(f"{village.name}没有户编号为“{code}”的农户")
    try:
        with one_transaction():
            issued = cards.reissue(None, household)
            if out is not None:
                out.write_bytes(card_pdf.render(card_pdf.faces([issued], base), title=f"{household.code}户码"))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    what = "已补发新户码，原户码已作废" if issued.replaced else "已发放户码"
    click.echo(f"{household.code} {household.head_name}：{what}。")
    click.echo(f"户码网址（只显示这一次，请立即打印）：{cards.card_url(base, issued.token)}")
    if out is not None:
        click.echo(f"已写入 {out}")


commands = [print_cards, reissue_card]
