"""Village administration: the village list, new villages, settings and groups."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import store, villages
from ..extensions import db
from ..models import Group
from .access import role_required, village_view
from .villages_forms import GroupNameForm, MoveGroupForm, NewVillageForm, SettingsForm

bp = Blueprint("villages", __name__)


@bp.route("/villages")
@role_required("admin")
def index():
    return render_template("villages/index.html", rows=villages.village_overview())


@bp.route("/villages/new", methods=["GET", "POST"])
@role_required("admin")
def new():
    form = NewVillageForm()
    if form.validate_on_submit():
        try:
            village = villages.create_village(
                current_user, form.name.data, form.slug.data, villages.split_names(form.groups.data)
            )
        except villages.VillageError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"已新建{village.name}，共{len(village.groups)}个小组", "success")
            return redirect(url_for("villages.edit", slug=village.slug))
    return render_template("villages/new.html", form=form)


@bp.route("/v/<slug>/settings", methods=["GET", "POST"])
@village_view("admin")
def edit(village):
    form = SettingsForm(data={
        "name": village.name,
        "base_score": village.base_score,
        "require_review": village.require_review,
        "points_expire": village.points_expire,
        "red_list_size": village.red_list_size,
        "categories": "、".join(village.categories),
        **{key: getattr(village, key) for key in villages.LIST_SETTINGS},
    })
    if form.validate_on_submit():
        try:
            villages.update_village(
                current_user, village,
                name=form.name.data,
                base_score=form.base_score.data,
                require_review=form.require_review.data,
                red_list_size=form.red_list_size.data,
                categories=villages.split_names(form.categories.data),
                **{key: getattr(form, key).data for key in villages.LIST_SETTINGS},
            )
            store.set_points_expire(current_user, village, form.points_expire.data)
        except villages.VillageError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash("村设置已保存", "success")
            return redirect(url_for("villages.edit", slug=village.slug))
    return render_template(
        "villages/edit.html",
        village=village,
        form=form,
        counts=villages.group_household_counts(village),
    )


@bp.route("/v/<slug>/groups", methods=["POST"])
@village_view("admin")
def add_group(village):
    form = GroupNameForm()
    if _valid(form):
        try:
            group = villages.add_group(current_user, village, form.name.data)
        except villages.VillageError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"已添加小组“{group.name}”", "success")
    return redirect(url_for("villages.edit", slug=village.slug, _anchor="groups"))


@bp.route("/v/<slug>/groups/<int:group_id>/rename", methods=["POST"])
@village_view("admin")
def rename_group(village, group_id):
    group = _group_or_404(village, group_id)
    form = GroupNameForm()
    if _valid(form):
        old = group.name
        try:
            villages.rename_group(current_user, group, form.name.data)
        except villages.VillageError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            if group.name != old:
                flash(f"小组“{old}”已改名为“{group.name}”", "success")
    return redirect(url_for("villages.edit", slug=village.slug, _anchor="groups"))


@bp.route("/v/<slug>/groups/<int:group_id>/move", methods=["POST"])
@village_view("admin")
def move_group(village, group_id):
    group = _group_or_404(village, group_id)
    form = MoveGroupForm()
    if _valid(form):
        villages.move_group(current_user, group, -1 if form.direction.data == "up" else 1)
        db.session.commit()
    return redirect(url_for("villages.edit", slug=village.slug, _anchor="groups"))


def _group_or_404(village, group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None or group.village_id != village.id:
        abort(404)
    return group


def _valid(form) -> bool:
    # The group forms post from rows of the settings page, so their errors are flashed there.
    if form.validate_on_submit():
        return True
    for errors in form.errors.values():
        for error in errors:
            flash(error, "danger")
    return False
