"""Forms for user accounts and passwords."""
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts import MIN_PASSWORD_LENGTH
from ..models import ROLE_LABELS
from .forms_base import ChineseForm

_SHORT = f"密码至少需要{MIN_PASSWORD_LENGTH}位"
_MISMATCH = "两次输入的密码不一致"


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes, which work better on a phone than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _UserFields(ChineseForm):
    display_name = StringField("显示名", filters=[_strip], validators=[Length(max=50, message="显示名不能超过50个字")])
    role = SelectField("角色", choices=[SelectChoice(role, label) for role, label in ROLE_LABELS.items()])
    # The scope is checked by accounts (a township admin may give only its own villages),
    # which says in words which village is out of reach.
    villages = CheckboxesField("所属村", coerce=int, validate_choice=False)
    # Only for the township roles: they reach every village of the township.
    township = SelectField("所属乡镇", coerce=int, validate_choice=False)


class NewUserForm(_UserFields):
    username = StringField(
        "用户名", filters=[_strip],
        validators=[DataRequired("请填写用户名"), Length(max=50, message="用户名不能超过50个字符")],
    )
    password = PasswordField(
        "密码", validators=[DataRequired("请填写密码"), Length(min=MIN_PASSWORD_LENGTH, message=_SHORT)]
    )
    confirm = PasswordField("再次输入密码", validators=[DataRequired("请再次输入密码"), EqualTo("password", _MISMATCH)])


class EditUserForm(_UserFields):
    active = BooleanField("启用（停用后不能登录）")
    password = PasswordField(
        "新密码", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, message=_SHORT)]
    )
    confirm = PasswordField("再次输入新密码", validators=[EqualTo("password", _MISMATCH)])


class ChangePasswordForm(ChineseForm):
    current = PasswordField("当前密码", validators=[DataRequired("请填写当前密码")])
    password = PasswordField(
        "新密码", validators=[DataRequired("请填写新密码"), Length(min=MIN_PASSWORD_LENGTH, message=_SHORT)]
    )
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"), EqualTo("password", _MISMATCH)])
