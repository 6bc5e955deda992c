"""Forms of the household register: add, edit, deactivate, reactivate."""
from __future__ import annotations

import datetime as dt

from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..models import DEACTIVATION_REASONS, Group, Village
from ..personal_data import InvalidIdNumber, InvalidPhone, normalize_id_number, normalize_phone
from .forms_base import ChineseForm, MultiCheckboxField






class HouseholdForm(ChineseForm):
    code = StringField("户编号", validators=[Optional(), Length(max=30, message="户编号最多30位")])
    head_name = StringField(
        "户主姓名", validators=[DataRequired("请填写户主姓名"), Length(max=50, message="户主姓名不能超过50个字")]
    )
    id_number = StringField("身份证号", validators=[Optional()])
    phone = StringField("联系电话", validators=[Optional()])
    group = SelectField("村民小组", coerce=int, default=0)
    members = IntegerField(
        "家庭人口", default=1,
        validators=[InputRequired("请填写家庭人口"), NumberRange(1, 99, "家庭人口应在1到99之间")],
    )
    categories = MultiCheckboxField("户类别")
    address = StringField("住址", validators=[Length(max=200, message="住址不能超过200个字")])
    # New households default to today; clearing it means "on the register all along".
    joined_on = DateField("登记日期", default=dt.date.today, validators=[Optional()])
    note = TextAreaField("备注", validators=[Length(max=2000, message="备注不能超过2000个字")])

    def __init__(self, village: Village, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group.choices = [SelectChoice("0", "未分组")] + [
            SelectChoice(str(g.id), g.name) for g in village.groups
        ]
        self.categories.choices = [SelectChoice(c) for c in village.categories]

    def validate_id_number(self, field: StringField) -> None:
        try:
            field.data = normalize_id_number(field.data)
        except InvalidIdNumber as exc:
            raise ValidationError(str(exc)) from exc

    def validate_phone(self, field: StringField) -> None:
        try:
            field.data = normalize_phone(field.data)
        except InvalidPhone as exc:
            raise ValidationError(str(exc)) from exc

    def chosen_group(self, village: Village) -> Group | None:
        """Return the selected group of the village, or None for 未分组."""
        return next((g for g in village.groups if g.id == self.group.data), None)


class DeactivateForm(ChineseForm):
    on = DateField("注销日期", default=dt.date.today, validators=[DataRequired("请填写注销日期")])
    reason = SelectField(
        "注销原因",
        choices=[SelectChoice(key, label) for key, label in DEACTIVATION_REASONS.items()],
        validators=[DataRequired("请选择注销原因")],
    )
    note = TextAreaField("说明", validators=[Length(max=2000, message="说明不能超过2000个字")])


class ConfirmForm(ChineseForm):
    """A button that only needs the CSRF token (reactivate)."""
