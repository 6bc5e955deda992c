"""User accounts: the admin's user list and forms, and everyone's own password."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from .. import accounts, first_admin, townships, villages
from ..extensions import db
from ..models import ROLE_LABELS, Township, User, Village
from .access import role_required
from .users_forms import ChangePasswordForm, EditUserForm, NewUserForm

bp = Blueprint("users", __name__)


@bp.route("/users")
@role_required("admin", "township_admin")
def index():
    users = db.session.execute(
        db.select(User).options(selectinload(User.villages)).order_by(User.active.desc(), User.username)
    ).scalars()
    return render_template("users/index.html", users=[u for u in users if accounts.can_manage(current_user, u)])


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin", "township_admin")
def new():
    form = NewUserForm(data={"role": "clerk"})
    _offer_choices(form)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                current_user, form.username.data, form.password.data, form.role.data,
                _chosen_villages(form), form.display_name.data or "", township=_chosen_township(form),
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"已新建用户 {user.username}", "success")
            return redirect(url_for("users.index"))
    return render_template("users/new.html", form=form)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required("admin", "township_admin")
def edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not accounts.can_manage(current_user, user):
        abort(404)
    form = EditUserForm(data={
        "display_name": user.display_name,
        "role": user.role,
        "villages": [v.id for v in user.villages],
        "township": user.township_id or 0,
        "active": user.active,
    })
    _offer_choices(form, keep_role=user.role)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                current_user, user,
                role=form.role.data,
                villages=_chosen_villages(form),
                display_name=form.display_name.data or "",
                active=form.active.data,
                password=form.password.data or "",
                township=_chosen_township(form),
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            first_admin.retire_if_stale(current_app.instance_path)
            if user.id == current_user.id:
                login_user(user)  # an admin resetting their own password stays signed in here
            flash(f"用户 {user.username} 已保存", "success")
            return redirect(url_for("users.index"))
    return render_template("users/edit.html", form=form, user=user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            first_admin.retire_if_stale(current_app.instance_path)
            # Every other session of this user has ended; this one carries on under the new version.
            login_user(current_user._get_current_object())
            flash("密码已修改，其他设备上的登录已退出，下次登录请使用新密码", "success")
            return redirect(url_for("main.index"))
    return render_template("users/password.html", form=form)


def _offer_choices(form, keep_role: str = "") -> None:
    """Offer only what the signed-in user may hand out: its own villages, roles and township."""
    form.villages.choices = [SelectChoice(v.id, v.name) for v in villages.villages_for(current_user)]
    roles = accounts.roles_for(current_user)
    if keep_role and keep_role not in roles:
        roles.append(keep_role)
    form.role.choices = [SelectChoice(r, ROLE_LABELS[r]) for r in roles]
    if current_user.is_admin:
        offered = townships.all_townships()
        form.township.choices = [SelectChoice(0, "（不属于乡镇）")] + [SelectChoice(t.id, t.name) for t in offered]
    else:
        own = current_user.township
        form.township.choices = [SelectChoice(own.id, own.name)] if own else []


def _chosen_township(form):
    if not form.township.data:
        return None
    return db.session.get(Township, form.township.data)


def _chosen_villages(form) -> list[Village]:
    ids = form.villages.data or []
    if not ids:
        return []
    return list(db.session.execute(db.select(Village).where(Village.id.in_(ids)).order_by(Village.id)).scalars())
