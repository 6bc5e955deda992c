"""The rule form: every editable value of a rule (积分细则)."""
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .forms_base import ChineseForm

KIND_LABELS = {"plus": "加分", "minus": "扣分"}
# Wide enough for any real rule; stops a slip of the finger (30000 for 3) at the form.
POINTS_LIMIT = 1000


def _points(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(f"请填写{label}"),
            NumberRange(-POINTS_LIMIT, POINTS_LIMIT, f"{label}应在 -{POINTS_LIMIT} 到 {POINTS_LIMIT} 之间"),
        ],
    )


class RuleForm(ChineseForm):
    code = StringField(
        "细则编号", validators=[DataRequired("请填写细则编号"), Length(max=20, message="细则编号最多20位")]
    )
    kind = SelectField(
        "类型", choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()],
        validators=[DataRequired("请选择加分或扣分")],
    )
    title = StringField(
        "细则名称", validators=[DataRequired("请填写细则名称"), Length(max=200, message="细则名称不能超过200个字")]
    )
    description = TextAreaField("说明", validators=[Length(max=2000, message="说明不能超过2000个字")])
    default_points = _points("默认分值")
    min_points = _points("最低分值")
    max_points = _points("最高分值")
    quarter_cap = IntegerField(
        "每户每季度上限",
        validators=[Optional(), NumberRange(1, 10 * POINTS_LIMIT, f"每季度上限应在 1 到 {10 * POINTS_LIMIT} 之间")],
    )
    requires_evidence = BooleanField("需要照片（录入时必须上传照片作为依据）")
    black_list_trigger = BooleanField("黑榜触发（季度内有此项记录的农户上黑榜）")
    open_to_applications = BooleanField("开放申请（农户可用户码页面申请此项加分，录入员核实后记分）")
    active = BooleanField("启用（停用后不能再用此细则记分，已有记录不变）", default=True)
    sort_order = IntegerField(
        "显示顺序", default=0,
        validators=[InputRequired("请填写显示顺序"), NumberRange(0, 9999, "显示顺序应在 0 到 9999 之间")],
    )
