"""Forms of the entry import pages."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Regexp

from .uploads import TOKEN_PATTERN


class UploadForm(FlaskForm):
    file = FileField(
        "积分记录文件",
        validators=[
            FileRequired("请选择要导入的文件"),
            FileAllowed(["xlsx", "xls", "ods", "csv"], "只能导入 .xlsx、.xls、.ods 或 .csv 文件"),
        ],
    )


class PlanForm(FlaskForm):
    """The stored file, carried from the preview to the confirmation."""

    token = HiddenField(validators=[DataRequired(), Regexp(TOKEN_PATTERN)])
    filename = HiddenField(validators=[DataRequired(), Length(max=200)])
