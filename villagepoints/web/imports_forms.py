"""Forms of the household import pages."""
import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectMultipleField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp

from .uploads import TOKEN_PATTERN

IDENTITY_KEY = r"\d{1,7}-[0-9a-f]{16}"


class UploadForm(FlaskForm):
    file = FileField(
        "农户名册文件",
        validators=[
            FileRequired("请选择要导入的文件"),
            FileAllowed(["xlsx", "xls", "ods", "csv"], "只能导入 .xlsx、.xls、.ods 或 .csv 文件"),
        ],
    )
    skip_invalid = BooleanField("只导入无误的行（有问题的行跳过，不导入）")
    create_groups = BooleanField("自动新建缺少的小组")


class PlanForm(FlaskForm):
    """The stored file and the options, carried from the preview to the next step."""

    token = HiddenField(validators=[DataRequired(), Regexp(TOKEN_PATTERN)])
    filename = HiddenField(validators=[DataRequired(), Length(max=200)])
    skip_invalid = HiddenField(validators=[AnyOf(["", "1"])])
    create_groups = HiddenField(validators=[AnyOf(["", "1"])])
    # The identity changes the clerk ticked, by household_import.identity_key.
    confirm_identity = SelectMultipleField(choices=[], validate_choice=False)

    def confirmed(self) -> set[str]:
        """Return the ticked identity keys, ignoring anything not shaped like one."""
        return {key for key in (self.confirm_identity.data or []) if re.fullmatch(IDENTITY_KEY, key)}
