"""Forms for villages, their settings and groups."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp


class ChineseForm(FlaskForm):
    """A Flask-WTF form whose built-in messages ("不是有效的整数。") are in Chinese."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            # Flask-WTF only translates through Flask-Babel, which the app does not use;
            # WTForms' own catalogues cover the messages we do not write ourselves.
            return DefaultMeta.get_translations(self, form)


def _slug(value):
    return (value or "").strip().lower()


class NewVillageForm(ChineseForm):
    name = StringField("村名", validators=[DataRequired("请填写村名"), Length(max=100, message="村名不能超过100个字")])
    slug = StringField(
        "村代码",
        filters=[_slug],
        validators=[
            DataRequired("请填写村代码"),
            Regexp(r"^[a-z0-9][a-z0-9-]{1,49}$", message="村代码只能用小写字母、数字和连字符，2到50位，例如 jiangba"),
        ],
    )
    groups = TextAreaField("村民小组", validators=[Length(max=2000, message="小组列表太长")])


class SettingsForm(ChineseForm):
    name = StringField("村名", validators=[DataRequired("请填写村名"), Length(max=100, message="村名不能超过100个字")])
    base_score = IntegerField(
        "基础分", validators=[InputRequired("请填写基础分"), NumberRange(0, 10000, "基础分应在0到10000之间")]
    )
    require_review = BooleanField("录入的积分需经审核后生效")
    red_list_size = IntegerField(
        "红榜名额", validators=[InputRequired("请填写红榜名额"), NumberRange(1, 100, "红榜名额应在1到100之间")]
    )
    categories = TextAreaField(
        "户类别", validators=[DataRequired("户类别至少要有一个"), Length(max=2000, message="户类别列表太长")]
    )


class GroupNameForm(ChineseForm):
    name = StringField("小组名称", validators=[DataRequired("请填写小组名称"), Length(max=50, message="小组名称不能超过50个字")])


class MoveGroupForm(ChineseForm):
    direction = SelectField(choices=[SelectChoice("up", "上移"), SelectChoice("down", "下移")])
