"""Forms for villages, their settings and groups."""
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from ..models import BLACK_NAMING
from .forms_base import ChineseForm




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
    points_expire = BooleanField("积分超市：积分按年过期（当年的积分可用到次年年底）")
    red_list_size = IntegerField(
        "红榜名额", validators=[InputRequired("请填写红榜名额"), NumberRange(1, 100, "红榜名额应在1到100之间")]
    )
    categories = TextAreaField(
        "户类别", validators=[DataRequired("户类别至少要有一个"), Length(max=2000, message="户类别列表太长")]
    )
    red_top_enabled = BooleanField("季度排名靠前的农户上红榜")
    red_honours_enabled = BooleanField("本季度获得荣誉的农户上红榜")
    black_below_base_enabled = BooleanField("季度积分低于基础分的农户上黑榜")
    black_aid_enabled = BooleanField("本季度被歇帮的农户上黑榜")
    black_trigger_enabled = BooleanField("有黑榜事项（细则标为“上黑榜”）的农户上黑榜")
    black_naming = SelectField(
        "公开栏中黑榜农户的显示方式",
        choices=[SelectChoice(key, label) for key, label in BLACK_NAMING.items()],
    )
    notice_days = IntegerField(
        "公示天数", validators=[InputRequired("请填写公示天数"), NumberRange(1, 60, "公示期应在1到60天之间")]
    )
    objection_contact = StringField(
        "异议联系人及电话", validators=[Length(max=200, message="异议联系方式不能超过200个字")]
    )
    red_list_title = StringField(
        "红榜的公开名称",
        validators=[DataRequired("请填写红榜的公开名称"), Length(max=10, message="红榜的公开名称不能超过10个字")],
    )
    black_list_title = StringField(
        "黑榜的公开名称",
        validators=[DataRequired("请填写黑榜的公开名称"), Length(max=10, message="黑榜的公开名称不能超过10个字")],
    )


class GroupNameForm(ChineseForm):
    name = StringField("小组名称", validators=[DataRequired("请填写小组名称"), Length(max=50, message="小组名称不能超过50个字")])


class MoveGroupForm(ChineseForm):
    direction = SelectField(choices=[SelectChoice("up", "上移"), SelectChoice("down", "下移")])
