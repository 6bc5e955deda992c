"""Forms of the points pages: single entry, bulk entry, edit, review, reversal."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..evidence import MAX_PHOTO_BYTES, MAX_PHOTOS
from ..models import RULE_KINDS, Rule
from .forms_base import ChineseForm

PHOTO_HINT = f"可拍照或从相册选择，最多 {MAX_PHOTOS} 张，每张不超过 {MAX_PHOTO_BYTES // 1024 // 1024} MB"


def rule_choices(rules: Iterable[Rule]) -> list[SelectChoice]:
    """Return the rules as options grouped 加分/扣分, carrying what the page script needs."""
    choices = [SelectChoice("", "请选择细则")]
    for kind, group_label in RULE_KINDS.items():
        for rule in rules:
            if rule.kind != kind:
                continue
            choices.append(SelectChoice(
                str(rule.id),
                f"{rule.code} {rule.title}（{rule.default_points:+d}）",
                render_kw={
                    "data-default": rule.default_points,
                    "data-min": rule.min_points,
                    "data-max": rule.max_points,
                    "data-evidence": "1" if rule.requires_evidence else "",
                },
                optgroup=group_label,
            ))
    return choices


def _to_int(value):
    return int(value) if value not in (None, "") else None


class EntryFields(ChineseForm):
    """What a single, bulk or edited entry shares: rule, date, points, note, photos."""

    # Only active rules are offered; one stopped since the page loaded gets the ledger's
    # message naming it rather than a bare "not a valid choice".
    rule = SelectField(
        "积分细则", coerce=_to_int, validate_choice=False, validators=[DataRequired("请选择积分细则")]
    )
    entry_date = DateField("日期", default=dt.date.today, validators=[DataRequired("请填写日期")])
    points = IntegerField("分值", validators=[InputRequired("请填写分值")])
    note = TextAreaField("说明", validators=[Length(max=500, message="说明不能超过500个字")])
    photos = MultipleFileField("照片（依据）")
    # One-time token of this form, so a resubmission saves nothing twice (ledger.check_token).
    token = HiddenField()

    def set_rules(self, rules: list[Rule]) -> None:
        """Offer these rules; the page script reads each option's default and range."""
        self.rule.choices = rule_choices(rules)


class EntryForm(EntryFields):
    # A household code; the page script fills it from the search list, and without
    # the script a clerk can type a code, or a name / initials that match one household;
    # a handheld scanner types a card's whole address (户码), hence the room.
    household = StringField(
        "农户", validators=[DataRequired("请选择农户"), Length(max=200, message="农户搜索词太长")]
    )
    # The clerk's rejected entry this one corrects (改正后重新提交), if any, and which of
    # its photos come along (ticked when the form opens; the clerk may untick some).
    resubmits = HiddenField()
    keep_photos = SelectMultipleField("原来的照片", coerce=int, validate_choice=False)


class BulkForm(EntryFields):
    # Validated against the village's households in the view, so an inactive one gets
    # the ledger's message naming it instead of a bare "not a valid choice".
    households = SelectMultipleField("农户", coerce=int, validate_choice=False)


class ReviewForm(ChineseForm):
    """Approve or reject the ticked entries; the ids come as repeated ``ids`` fields."""

    reason = StringField("驳回理由", validators=[Optional(), Length(max=500, message="理由不能超过500个字")])


class ReverseForm(ChineseForm):
    reason = StringField(
        "冲正理由", validators=[DataRequired("冲正时请写明理由"), Length(max=500, message="理由不能超过500个字")]
    )


class ConfirmForm(ChineseForm):
    """A button that only needs the CSRF token (withdraw)."""
