"""Forms of the quarter pages: publish, reopen, close, objections, the year's star bands."""
from __future__ import annotations

from typing import Iterable

from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import ENTRY_STATUSES, Entry
from .forms_base import ChineseForm

MAX_STARS = 5


def _to_int(value):
    return int(value) if value not in (None, "") else None


class PublishForm(ChineseForm):
    notice_days = IntegerField(
        "公示天数", validators=[InputRequired("请填写公示天数"), NumberRange(1, 60, "公示期应在1到60天之间")]
    )
    contact = StringField(
        "异议联系人及电话",
        validators=[DataRequired("请填写异议联系人及电话，公示上要写明村民对公示有异议时找谁"),
                    Length(max=200, message="联系方式不能超过200个字")],
    )
    # The second step: "yes" once the reviewer has read what will be frozen; ``expected``
    # carries the numbers they read, so a change in between shows the confirmation again.
    confirm = HiddenField()
    expected = HiddenField()


class ReopenForm(ChineseForm):
    reason = TextAreaField(
        "重新开放的理由",
        validators=[DataRequired("重新开放时请写明理由"), Length(max=2000, message="理由不能超过2000个字")],
    )


class CloseForm(ChineseForm):
    """A button that only needs the CSRF token."""


class ObjectionForm(ChineseForm):
    household = StringField(
        "户编号", validators=[DataRequired("请填写户编号"), Length(max=30, message="户编号最多30位")]
    )
    raised_by = StringField(
        "提出人", validators=[DataRequired("请填写提出异议的人"), Length(max=50, message="提出人不能超过50个字")]
    )
    content = TextAreaField(
        "异议内容", validators=[DataRequired("请填写异议内容"), Length(max=2000, message="异议内容不能超过2000个字")]
    )


class AnswerForm(ChineseForm):
    upheld = RadioField(
        "异议是否成立",
        choices=[SelectChoice("no", "不成立"), SelectChoice("yes", "成立")],
        validators=[DataRequired("请选择异议是否成立")],
    )
    answer = TextAreaField(
        "答复", validators=[DataRequired("请填写答复内容"), Length(max=2000, message="答复不能超过2000个字")]
    )
    correcting_entry = SelectField("更正它的积分记录", coerce=_to_int, validators=[Optional()])

    def offer_entries(self, entries: Iterable[Entry]) -> None:
        """Offer the household's entries in the quarter (newest first) as the correction."""
        self.correcting_entry.choices = [SelectChoice("", "（不成立时不用选）")] + [
            SelectChoice(
                str(e.id),
                f"#{e.id} {e.entry_date} {e.rule_code} {e.rule_title} {e.points:+d}分"
                f"{'（冲正）' if e.is_reversal else ''}（{ENTRY_STATUSES.get(e.status, e.status)}）",
            )
            for e in entries
        ]


class StarBandsForm(ChineseForm):
    """The minimum year score of each star rating; a blank one is not awarded."""

    star1 = IntegerField("1星", validators=[Optional(), NumberRange(0, 100000, "分数线应在0到100000之间")])
    star2 = IntegerField("2星", validators=[Optional(), NumberRange(0, 100000, "分数线应在0到100000之间")])
    star3 = IntegerField("3星", validators=[Optional(), NumberRange(0, 100000, "分数线应在0到100000之间")])
    star4 = IntegerField("4星", validators=[Optional(), NumberRange(0, 100000, "分数线应在0到100000之间")])
    star5 = IntegerField("5星", validators=[Optional(), NumberRange(0, 100000, "分数线应在0到100000之间")])

    def star_fields(self) -> list:
        """Return the five band fields, one star first."""
        return [getattr(self, f"star{n}") for n in range(1, MAX_STARS + 1)]

    def bands(self) -> list[tuple[int, int]]:
        """Return the filled-in bands as (stars, min score)."""
        return [(n, f.data) for n, f in enumerate(self.star_fields(), start=1) if f.data is not None]
