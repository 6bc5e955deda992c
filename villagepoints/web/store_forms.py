"""Forms of the points store: items, stock-in, stocktake, the counter, voids."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import STOCK_SOURCES, Item
from ..store import MAX_LINE_QUANTITY, MAX_PRICE, MAX_QUANTITY
from .forms_base import ChineseForm


class ItemForm(ChineseForm):
    name = StringField("商品名称", validators=[DataRequired("请填写商品名称"), Length(max=100, message="商品名称不能超过100个字")])
    unit = StringField("单位", validators=[DataRequired("请填写单位，如 袋、瓶、个"), Length(max=10, message="单位不能超过10个字")])
    price = IntegerField(
        "兑换积分", validators=[InputRequired("请填写兑换积分"), NumberRange(1, MAX_PRICE, f"兑换积分应在1到{MAX_PRICE}之间")]
    )
    category = StringField("类别", validators=[Length(max=50, message="类别不能超过50个字")])
    active = BooleanField("上架（可兑换）", default=True)
    note = TextAreaField("备注", validators=[Length(max=500, message="备注不能超过500个字")])


class StockInForm(ChineseForm):
    quantity = IntegerField(
        "入库数量", validators=[InputRequired("请填写入库数量"), NumberRange(1, MAX_QUANTITY, f"入库数量应在1到{MAX_QUANTITY}之间")]
    )
    source = SelectField(
        "来源", default="purchase", choices=[SelectChoice(k, v) for k, v in STOCK_SOURCES.items()]
    )
    supplier = StringField("供货方 / 捐赠人", validators=[Length(max=100, message="供货方或捐赠人不能超过100个字")])
    moved_on = DateField("入库日期", default=dt.date.today, validators=[DataRequired("请填写入库日期")])
    note = TextAreaField("备注", validators=[Length(max=500, message="备注不能超过500个字")])


class StocktakeForm(ChineseForm):
    counted = IntegerField(
        "盘点数量", validators=[InputRequired("请填写清点出的数量"), NumberRange(0, MAX_QUANTITY, f"盘点数量应在0到{MAX_QUANTITY}之间")]
    )
    reason = StringField(
        "调整原因", validators=[DataRequired("请写明盘点调整的原因，如 过期报损、清点有误"), Length(max=500, message="原因不能超过500个字")]
    )
    moved_on = DateField("盘点日期", default=dt.date.today, validators=[DataRequired("请填写盘点日期")])


class VoidForm(ChineseForm):
    reason = StringField(
        "作废原因", validators=[DataRequired("作废时请写明原因"), Length(max=500, message="原因不能超过500个字")]
    )


class RedeemForm(ChineseForm):
    """The counter's confirm: the household, an idempotency token and one quantity per item.

    Quantity fields are named ``qty_<item id>``; build the form with redeem_form().
    """

    household = HiddenField(validators=[DataRequired("请先找到农户")])
    # Made when the page is drawn; the same token posted twice redeems once.
    token = HiddenField(validators=[DataRequired("页面已过期，请刷新后重新兑换"), Length(max=64)])

    def quantities(self) -> dict[int, int]:
        """Return item id → quantity for every quantity filled in above zero."""
        return {
            int(name[4:]): field.data
            for name, field in self._fields.items()
            if name.startswith("qty_") and field.data
        }


def redeem_form(items: Iterable[Item], **kwargs) -> RedeemForm:
    """Build the counter form with a quantity field for each item."""

    class CounterForm(RedeemForm):
        pass

    for item in items:
        setattr(CounterForm, f"qty_{item.id}", IntegerField(
            item.name, validators=[
                Optional(), NumberRange(0, MAX_LINE_QUANTITY, f"数量应在0到{MAX_LINE_QUANTITY}之间"),
            ],
        ))
    return CounterForm(**kwargs)
