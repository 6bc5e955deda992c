"""Login and logout."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts
from ..extensions import db
from ..text import has_control
from .auth_forms import LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an absolute URL in ?next= would make login an open redirect,
    # and a line break would end the Location header (werkzeug refuses it with a 500).
    if (target and target.startswith("/") and not target.startswith(("//", "/\\"))
            and not has_control(target) and not urlsplit(target).netloc):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.username.data,
                form.password.data,
                request.remote_addr or "",
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                window_minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"],
            )
        except accounts.LoginThrottled as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return render_template("auth/login.html", form=form), 429
        db.session.commit()
        if user is None:
            flash("用户名或密码错误", "danger")
            return render_template("auth/login.html", form=form), 200
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ending the version ends this cookie and any copy of it, and the remember-me cookie.
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
