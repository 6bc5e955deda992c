"""Forms of a household's honours (荣誉) and aid suspensions (歇帮)."""
from __future__ import annotations

import datetime as dt

from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .forms_base import ChineseForm

# Both forms share the household page, so their field names never overlap.
class HonourForm(ChineseForm):
    title = StringField(
        "荣誉名称", validators=[DataRequired("请填写荣誉名称"), Length(max=100, message="荣誉名称不能超过100个字")]
    )
    awarded_on = DateField("获评日期", default=dt.date.today, validators=[DataRequired("请填写获评日期")])
    granted_by = StringField("授予单位", validators=[Length(max=100, message="授予单位不能超过100个字")])
    note = TextAreaField("说明", validators=[Length(max=500, message="说明不能超过500个字")])


class AidSuspensionForm(ChineseForm):
    starts_on = DateField("开始日期", default=dt.date.today, validators=[DataRequired("请填写开始日期")])
    ends_on = DateField("结束日期", validators=[DataRequired("请填写结束日期")])
    reason = TextAreaField(
        "歇帮原因", validators=[DataRequired("请写明歇帮原因"), Length(max=500, message="原因不能超过500个字")]
    )
