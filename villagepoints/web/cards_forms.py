"""Forms of the household cards (户码) and the applications for points (积分申请)."""
from __future__ import annotations

import datetime as dt

from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..applications import NOTE_MAX
from .forms_base import ChineseForm


def _to_int(value):
    return int(value) if value not in (None, "") else None


class PrintCardsForm(ChineseForm):
    group = SelectField("小组", coerce=_to_int, validate_choice=False)
    # The second, explicit step: printing makes every earlier card of these households stop working.
    confirm = BooleanField("我知道：这些农户以前打印的户码将立即失效")


class ReissueForm(ChineseForm):
    confirm = BooleanField("我知道：这户原来的户码将立即失效", validators=[DataRequired("请勾选确认：原来的户码将立即失效")])


class ApplyForm(ChineseForm):
    rule = SelectField("申请哪一项加分", coerce=_to_int, validate_choice=False, validators=[DataRequired("请选择申请的加分项")])
    entry_date = DateField("哪一天做的", default=dt.date.today, validators=[DataRequired("请填写日期")])
    note = TextAreaField("做了什么", validators=[
        DataRequired("请简单写明做了什么"), Length(max=NOTE_MAX, message=f"说明不超过{NOTE_MAX}个字"),
    ])
    photos = MultipleFileField("照片（可不传）")


class AcceptForm(ChineseForm):
    points = IntegerField("分值", validators=[Optional()])


class DeclineForm(ChineseForm):
    reason = TextAreaField("不通过的理由", validators=[
        DataRequired("请写明不通过的理由，农户会在本户页面上看到"), Length(max=200, message="理由不超过200个字"),
    ])
