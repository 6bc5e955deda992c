"""The resident's lookup form on the public board."""
from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from .forms_base import ChineseForm


def _strip(value):
    return (value or "").strip()


class LookupForm(ChineseForm):
    code = StringField(
        "户编号", filters=[_strip],
        validators=[DataRequired("请填写户编号"), Length(max=30, message="户编号不超过30个字符")],
    )
    # A mistyped shape is refused here, so it never counts as a failed guess.
    id_tail = StringField(
        "户主身份证号后4位", filters=[_strip],
        validators=[
            DataRequired("请填写户主身份证号的最后4位"),
            Regexp(r"^[0-9]{3}[0-9Xx]$", message="请填写身份证号的最后4位：前3位是数字，最后一位是数字或X"),
        ],
    )
