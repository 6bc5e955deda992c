"""Forms of the household import pages."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp

from .uploads import TOKEN_PATTERN


class UploadForm(FlaskForm):
    file = FileField(
        "农户名册文件",
        validators=[
            FileRequired("请选择要导入的文件"),
            FileAllowed(["xlsx", "csv"], "只能导入 .xlsx 或 .csv 文件（旧版 .xls 请先另存为 .xlsx）"),
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
