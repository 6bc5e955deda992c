"""The village's rulebook (积分细则): plus and minus situations with their points."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Optional

from . import audit
from .extensions import db
from .models import RULE_KINDS, Rule, User, Village

# (code, kind, title, default points, black-list trigger): the rulebook a new village starts with.
DEFAULT_RULES = (
    ("P01", "plus", "支持村两委工作、积极参加村民会议", 2, False),
    ("P02", "plus", "房前屋后整洁、庭院卫生评比合格", 2, False),
    ("P03", "plus", "参加义务劳动、公益活动", 2, False),
    ("P04", "plus", "参加志愿服务", 2, False),
    ("P05", "plus", "调解邻里矛盾、维护和谐", 3, False),
    ("P06", "plus", "见义勇为、好人好事", 5, False),
    ("P07", "plus", "孝老爱亲、获评文明家庭等荣誉", 5, False),
    ("P08", "plus", "移风易俗、红白事简办", 3, False),
    ("P09", "plus", "发展产业、带动增收", 3, False),
    ("P10", "plus", "按时参加医保、积极参与集体事务", 1, False),
    ("M01", "minus", "不支持村两委工作、无理阻挠村级事务", -3, False),
    ("M02", "minus", "“等靠要”思想严重", -3, False),
    ("M03", "minus", "家庭卫生差、乱堆乱放", -2, False),
    ("M04", "minus", "乱扔垃圾、焚烧秸秆", -3, False),
    ("M05", "minus", "邻里纠纷中无理取闹", -3, False),
    ("M06", "minus", "不赡养老人、家庭暴力", -5, True),
    ("M07", "minus", "大操大办、铺张浪费", -3, False),
    ("M08", "minus", "参与赌博、封建迷信活动", -5, False),
    ("M09", "minus", "违反村规民约、破坏公共设施", -5, False),
    ("M10", "minus", "违法犯罪受到处理", -10, True),
)

_CODE = re.compile(r"^[A-Za-z0-9\-_]{1,20}$")


class RuleError(ValueError):
    """A rule change that breaks a rule of the rulebook; ``field`` names the field at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class RuleFields:
    """A rule's editable values; points are signed (minus rules negative)."""

    code: str
    kind: str
    title: str
    default_points: int
    min_points: int
    max_points: int
    description: str = ""
    quarter_cap: Optional[int] = None
    black_list_trigger: bool = False
    requires_evidence: bool = False
    open_to_applications: bool = False
    active: bool = True
    sort_order: int = 0


def default_range(points: int) -> tuple[int, int]:
    """Return the range a seeded rule allows: up to twice its default, same sign."""
    if points > 0:
        return 1, points * 2
    return points * 2, -1


def _check(village: Village, fields: RuleFields, rule: Optional[Rule]) -> None:
    if not _CODE.match(fields.code or ""):
        raise RuleError("细则编号只能用字母、数字、连字符，最多20位", "code")
    if fields.kind not in RULE_KINDS:
        raise RuleError("请选择加分或扣分", "kind")
    if not (fields.title or "").strip():
        raise RuleError("细则名称不能为空", "title")
    if len(fields.title) > 200:
        raise RuleError("细则名称不能超过200个字", "title")
    lo, hi = fields.min_points, fields.max_points
    if lo > hi:
        raise RuleError("分值范围的下限不能大于上限", "min_points")
    if fields.kind == "plus" and lo < 1:
        raise RuleError("加分细则的分值应为正数", "min_points")
    if fields.kind == "minus" and hi > -1:
        raise RuleError("扣分细则的分值应为负数，例如 -3", "max_points")
    if not lo <= fields.default_points <= hi:
        raise RuleError(f"默认分值应在 {lo} 到 {hi} 之间", "default_points")
    if fields.open_to_applications and fields.kind != "plus":
        raise RuleError("只有加分细则可以开放给农户申请", "open_to_applications")
    if fields.quarter_cap is not None and fields.quarter_cap < abs(fields.default_points):
        raise RuleError("每季度上限不能小于默认分值的绝对值", "quarter_cap")
    other = db.session.execute(
        db.select(Rule.id).filter_by(village_id=village.id, code=fields.code)
    ).scalar_one_or_none()
    if other is not None and (rule is None or other != rule.id):
        raise RuleError(f"细则编号“{fields.code}”已存在", "code")


def create_rule(actor: Optional[User], village: Village, fields: RuleFields) -> Rule:
    """Add a rule to the village's rulebook."""
    fields.code = (fields.code or "").strip().upper()
    fields.title = (fields.title or "").strip()
    _check(village, fields, None)
    rule = Rule(village_id=village.id, **asdict(fields))
    db.session.add(rule)
    db.session.flush()
    audit.record(
        actor, "rule.create", village_id=village.id, target=f"细则 {rule.code} {rule.title}",
        after=asdict(fields),
    )
    return rule


def update_rule(actor: Optional[User], rule: Rule, fields: RuleFields) -> bool:
    """Change a rule and say whether anything changed; entries already made keep their own points, code and title."""
    fields.code = (fields.code or "").strip().upper()
    fields.title = (fields.title or "").strip()
    _check(rule.village, fields, rule)
    before = fields_of(rule)
    for key, value in asdict(fields).items():
        setattr(rule, key, value)
    old, new = audit.changed(asdict(before), asdict(fields_of(rule)))
    if new:
        audit.record(
            actor, "rule.update", village_id=rule.village_id, target=f"细则 {rule.code} {rule.title}",
            before=old, after=new,
        )
    return bool(new)


def fields_of(rule: Rule) -> RuleFields:
    """Return a rule's editable values."""
    return RuleFields(**{k: getattr(rule, k) for k in RuleFields.__dataclass_fields__})


def seed_default_rules(actor: Optional[User], village: Village) -> list[Rule]:
    """Give a new village the standard 20-rule rulebook."""
    made = []
    for order, (code, kind, title, points, trigger) in enumerate(DEFAULT_RULES, start=1):
        lo, hi = default_range(points)
        rule = Rule(
            village_id=village.id, code=code, kind=kind, title=title, description="",
            default_points=points, min_points=lo, max_points=hi, quarter_cap=None,
            black_list_trigger=trigger, requires_evidence=(kind == "minus"),
            active=True, sort_order=order,
        )
        db.session.add(rule)
        made.append(rule)
    db.session.flush()
    audit.record(
        actor, "rule.seed", village_id=village.id, target="积分细则",
        summary=f"新村默认细则 {len(made)} 条",
    )
    return made


def village_rules(village: Village, *, active_only: bool = False) -> list[Rule]:
    """Return the village's rules in display order."""
    stmt = db.select(Rule).where(Rule.village_id == village.id)
    if active_only:
        stmt = stmt.where(Rule.active.is_(True))
    return list(db.session.execute(stmt.order_by(Rule.sort_order, Rule.code)).scalars())


def rule_by_code(village: Village, code: str) -> Optional[Rule]:
    """Return the village's rule with this code (case-insensitive), or None."""
    return db.session.execute(
        db.select(Rule).filter_by(village_id=village.id, code=(code or "").strip().upper())
    ).scalar_one_or_none()
