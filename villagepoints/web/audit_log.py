"""The audit log browser: every change, newest first, filtered by admins."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import or_
from sqlalchemy.orm import joinedload
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional as Blank

from .. import audit
from ..extensions import db
from ..models import (
    BLACK_NAMING,
    DEACTIVATION_REASONS,
    ENTRY_STATUSES,
    HOUSEHOLD_STATUSES,
    OBJECTION_STATUSES,
    QUARTER_STATUSES,
    ROLE_LABELS,
    STOCK_KINDS,
    STOCK_SOURCES,
    AuditEntry,
    User,
    Village,
)
from .access import role_required
from .forms_base import ChineseForm

bp = Blueprint("audit_log", __name__)

# The column stores naive UTC; villages read times in China Standard Time (no DST).
CHINA_OFFSET = dt.timedelta(hours=8)
CLI_FILTER = "cli"

ACTION_LABELS = {
    "village.create": "新建村",
    "village.update": "修改村设置",
    "group.create": "新增小组",
    "group.update": "小组改名",
    "group.move": "调整小组顺序",
    "user.create": "新增用户",
    "user.update": "修改用户",
    "user.password": "修改密码",
    "household.create": "新增农户",
    "household.update": "修改农户",
    "household.deactivate": "注销农户",
    "household.reactivate": "恢复农户",
    "household.search": "按身份证号或电话查找农户",
    "household.import": "导入农户",
    "rule.create": "新增积分细则",
    "rule.update": "修改积分细则",
    "rule.seed": "载入默认积分细则",
    "entry.create": "录入积分",
    "entry.update": "修改积分",
    "entry.withdraw": "撤回积分",
    "entry.dismiss": "驳回后不再提交",
    "entry.bulk": "批量录入积分",
    "entry.approve": "审核通过积分",
    "entry.reject": "驳回积分",
    "entry.reverse": "冲正积分",
    "entry.import": "导入积分",
    "quarter.publish": "发布公示",
    "quarter.reopen": "重新打开季度",
    "quarter.close": "关闭季度",
    "objection.create": "登记异议",
    "objection.answer": "答复异议",
    "stars.update": "设置星级农户分数线",
    "honour.create": "登记荣誉",
    "aid_suspension.create": "登记歇帮",
    "item.create": "新增商品",
    "item.update": "修改商品",
    "stock.in": "商品入库",
    "stock.adjust": "调整库存",
    "redemption.create": "积分兑换",
    "redemption.void": "作废兑换",
    "points.expire": "积分过期",
    "export.register_full": "导出完整农户台账",
    "card.issue": "发放户码",
    "card.reissue": "补发户码",
    "card.print": "打印户码",
    "application.create": "农户申请积分",
    "application.accept": "申请转为积分记录",
    "application.decline": "申请不通过",
}

FIELD_LABELS = {
    "name": "名称",
    "slug": "村代码",
    "groups": "小组",
    "base_score": "基础分",
    "require_review": "需要审核",
    "red_list_size": "红榜名额",
    "categories": "户类别",
    "username": "用户名",
    "display_name": "显示名",
    "role": "角色",
    "villages": "所属村",
    "active": "启用",
    "password": "密码",
    "code": "户编号",
    "head_name": "户主",
    "id_number": "身份证号",
    "phone": "电话",
    "group": "小组",
    "members": "人口",
    "address": "地址",
    "joined_on": "登记日期",
    "status": "状态",
    "deactivated_on": "注销日期",
    "deactivation_reason": "注销原因",
    "note": "备注",
    "household": "农户",
    "rule": "细则",
    "points": "分值",
    "entry_date": "日期",
    "reverses": "冲正记录",
    "points_expire": "积分按年过期",
    "unit": "单位",
    "price": "兑换积分",
    "category": "类别",
    "stock": "库存",
    "receipt_no": "兑换单号",
    "items": "商品",
    "red_top_enabled": "排名靠前上红榜",
    "red_honours_enabled": "获荣誉上红榜",
    "black_below_base_enabled": "低于基础分上黑榜",
    "black_aid_enabled": "被歇帮上黑榜",
    "black_trigger_enabled": "有黑榜事项上黑榜",
    "black_naming": "黑榜显示方式",
    "notice_days": "公示天数",
    "objection_contact": "异议联系方式",
    "red_list_title": "红榜的公开名称",
    "black_list_title": "黑榜的公开名称",
    "bands": "星级分数线",
    "quarter": "季度",
    "version": "版本",
    "notice_ends_on": "公示截止",
    "contact": "异议联系人及电话",
    "review_note": "驳回理由",
    "reason": "理由",
    "entries": "积分记录",
    "households": "农户",
    "township": "乡镇",
    "village": "村",
    "title": "名称",
    "awarded_on": "获评日期",
    "granted_by": "授予单位",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "raised_by": "提出人",
    "content": "异议内容",
    "answer": "答复",
    "correcting_entry": "更正记录",
    "file": "文件",
    "added": "新增",
    "updated": "更新",
    "unchanged": "不变",
    "refused": "未导入",
    "groups_created": "新建小组",
    "approve": "直接记为已通过",
    "approved": "已通过",
    "pending": "待审核",
    "total_points": "积分",
    "item_count": "件数",
    "balance_after": "兑换后余额",
    "quantity": "数量",
    "kind": "类型",
    "source": "来源",
    "supplier": "供货方或捐赠人",
    "counted": "清点数量",
    "change": "变动",
    "lines": "兑换商品",
    "year": "年份",
    "open_to_applications": "开放申请",
    "replaced": "原户码作废",
}

# Stored codes that read better as their Chinese names, in the words the pages use.
_VALUE_LABELS = {
    "role": ROLE_LABELS,
    "deactivation_reason": DEACTIVATION_REASONS,
    "black_naming": BLACK_NAMING,
    "kind": STOCK_KINDS,
    "source": STOCK_SOURCES,
}
# A status means different things by what was changed: an entry's, a quarter's, an objection's.
_STATUS_LABELS = {
    "entry": ENTRY_STATUSES,
    "quarter": QUARTER_STATUSES,
    "objection": OBJECTION_STATUSES,
    "household": HOUSEHOLD_STATUSES,
}
# A list longer than this is folded, to open on a tap (a bulk action's households or entries).
FOLD_AFTER = 3


class AuditFilterForm(ChineseForm):
    class Meta:
        csrf = False

    village = SelectField("村", validate_choice=False)
    actor = SelectField("操作人", validate_choice=False)
    action = SelectField("操作", validate_choice=False)
    date_from = DateField("从", validators=[Blank()])
    date_to = DateField("到", validators=[Blank()])
    q = StringField("对象或说明包含")


@bp.app_template_filter("china_time")
def china_time(value: Optional[dt.datetime], fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a stored naive-UTC time in China time."""
    return (value + CHINA_OFFSET).strftime(fmt) if value else ""


def action_label(action: str) -> str:
    """Name an audit action in Chinese; unknown actions are shown as stored."""
    return ACTION_LABELS.get(action, action)


def _labels(key: str, action: str) -> dict:
    if key == "status":
        return _STATUS_LABELS.get(action.split(".")[0], {})
    return _VALUE_LABELS.get(key, {})


def _show(key: str, value: Any, action: str = "") -> Any:
    """Show a logged value in words; a long list stays a list, for the page to fold."""
    if _empty(value):
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        shown = [_show(key, v, action) for v in value]
        return shown if len(shown) > FOLD_AFTER else "、".join(map(str, shown))
    if isinstance(value, str):
        return _labels(key, action).get(value, value)
    if isinstance(value, dict):
        return "；".join(f"{FIELD_LABELS.get(k, k)} {_show(k, v, action)}" for k, v in value.items())
    return str(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def changes(entry: AuditEntry) -> list[tuple[str, Optional[str], Optional[str]]]:
    """List (field, before, after) for an entry; a side is None when the entry has no such state.

    Fields follow FIELD_LABELS' order; a record created or removed leaves out its empty fields.
    """
    before, after = audit.decode(entry.before), audit.decode(entry.after)
    order = {k: i for i, k in enumerate(FIELD_LABELS)}
    keys = sorted(set(before) | set(after), key=lambda k: (order.get(k, len(order)), k))
    if entry.before is None or entry.after is None:
        keys = [k for k in keys if not _empty(before.get(k, after.get(k)))]
    return [
        (
            FIELD_LABELS.get(k, k),
            # A field only one side logs (a reason given with a status) is shown without a "（空） →".
            _show(k, before.get(k), entry.action) if entry.before is not None and k in before else None,
            _show(k, after.get(k), entry.action) if entry.after is not None and k in after else None,
        )
        for k in keys
    ]


def filtered(form: AuditFilterForm):
    """Select audit entries matching the filter form, newest first."""
    stmt = db.select(AuditEntry).options(joinedload(AuditEntry.village))
    if form.village.data and form.village.data.isdigit():
        stmt = stmt.where(AuditEntry.village_id == int(form.village.data))
    if form.actor.data == CLI_FILTER:
        stmt = stmt.where(AuditEntry.user_id.is_(None))
    elif form.actor.data and form.actor.data.isdigit():
        stmt = stmt.where(AuditEntry.user_id == int(form.actor.data))
    if form.action.data:
        stmt = stmt.where(AuditEntry.action == form.action.data)
    # Dates are picked in China time: a China day starts at 16:00 UTC the day before.
    if form.date_from.data and not form.date_from.errors:
        stmt = stmt.where(AuditEntry.at >= _utc_start(form.date_from.data))
    if form.date_to.data and not form.date_to.errors:
        stmt = stmt.where(AuditEntry.at < _utc_start(form.date_to.data + dt.timedelta(days=1)))
    text = (form.q.data or "").strip()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(AuditEntry.target.ilike(like, escape="\\"), AuditEntry.summary.ilike(like, escape="\\")))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _utc_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) - CHINA_OFFSET


def _offer_choices(form: AuditFilterForm) -> None:
    villages = db.session.execute(db.select(Village.id, Village.name).order_by(Village.id)).all()
    users = db.session.execute(db.select(User.id, User.username, User.display_name).order_by(User.username)).all()
    actions = db.session.execute(db.select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars()
    form.village.choices = [SelectChoice("", "全部村")] + [SelectChoice(str(i), name) for i, name in villages]
    form.actor.choices = [SelectChoice("", "全部操作人"), SelectChoice(CLI_FILTER, audit.CLI_ACTOR)] + [
        SelectChoice(str(i), f"{username}（{display}）" if display else username) for i, username, display in users
    ]
    form.action.choices = [SelectChoice("", "全部操作")] + [SelectChoice(a, action_label(a)) for a in actions]


@bp.route("/audit")
@role_required("admin")
def index():
    form = AuditFilterForm(formdata=request.args)
    _offer_choices(form)
    form.validate()
    page = db.paginate(
        filtered(form),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    rows = [(entry, changes(entry)) for entry in page.items]
    return render_template("audit_log/index.html", form=form, page=page, rows=rows, args=args,
                           action_label=action_label)
