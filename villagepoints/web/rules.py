"""The rulebook (积分细则): everyone in the village reads it, admins add and edit rules."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import rules
from ..extensions import db
from ..models import Entry, Rule, Village
from ..rules import RuleError, RuleFields
from .access import village_view
from .forms_base import show_error
from .rules_forms import KIND_LABELS, RuleForm

bp = Blueprint("rules", __name__)


@bp.route("/v/<slug>/rules")
@village_view()
def index(village: Village):
    all_rules = rules.village_rules(village)
    return render_template(
        "rules/index.html", village=village,
        plus=[r for r in all_rules if r.is_plus], minus=[r for r in all_rules if not r.is_plus],
        inactive=sum(1 for r in all_rules if not r.active),
    )


@bp.route("/v/<slug>/rules/new", methods=["GET", "POST"])
@village_view("admin")
def create(village: Village):
    kind = request.args.get("kind") if request.args.get("kind") in KIND_LABELS else "plus"
    # Minus rules need a photo unless the admin says otherwise (issue 3).
    form = RuleForm(data={"kind": kind, "requires_evidence": kind == "minus", "sort_order": _next_order(village)})
    if form.validate_on_submit():
        try:
            rule = rules.create_rule(current_user, village, _fields(form))
        except RuleError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"已新增细则 {rule.code} {rule.title}", "success")
            return redirect(url_for(".index", slug=village.slug, _anchor=f"rule-{rule.id}"))
    return render_template("rules/form.html", village=village, form=form, rule=None, used=0)


@bp.route("/v/<slug>/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@village_view("admin")
def edit(village: Village, rule_id: int):
    rule = db.session.get(Rule, rule_id)
    if rule is None or rule.village_id != village.id:
        abort(404)
    form = RuleForm(obj=rule)
    if form.validate_on_submit():
        was_active = rule.active
        try:
            changed = rules.update_rule(current_user, rule, _fields(form))
        except RuleError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(_saved_message(rule, changed, was_active), "success" if changed else "info")
            return redirect(url_for(".index", slug=village.slug, _anchor=f"rule-{rule.id}"))
    used = db.session.execute(db.select(db.func.count()).where(Entry.rule_id == rule.id)).scalar_one()
    return render_template("rules/form.html", village=village, form=form, rule=rule, used=used)


def _next_order(village: Village) -> int:
    """Return a display order that puts a new rule after the existing ones."""
    last = db.session.execute(
        db.select(db.func.max(Rule.sort_order)).where(Rule.village_id == village.id)
    ).scalar_one()
    return (last or 0) + 1


def _fields(form: RuleForm) -> RuleFields:
    return RuleFields(
        code=form.code.data or "",
        kind=form.kind.data,
        title=form.title.data or "",
        description=(form.description.data or "").strip(),
        default_points=form.default_points.data,
        min_points=form.min_points.data,
        max_points=form.max_points.data,
        quarter_cap=form.quarter_cap.data,
        black_list_trigger=form.black_list_trigger.data,
        requires_evidence=form.requires_evidence.data,
        open_to_applications=form.open_to_applications.data,
        active=form.active.data,
        sort_order=form.sort_order.data,
    )


def _saved_message(rule: Rule, changed: bool, was_active: bool) -> str:
    if not changed:
        return "没有改动，无需保存"
    if was_active and not rule.active:
        return f"细则 {rule.code} 已停用，不能再用它记分；已有的积分记录不变"
    if rule.active and not was_active:
        return f"细则 {rule.code} 已重新启用"
    return f"已保存细则 {rule.code} 的修改；已有的积分记录不变"
