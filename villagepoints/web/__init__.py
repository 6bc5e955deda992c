"""The web interface: blueprints, error pages and template helpers."""
from __future__ import annotations

from flask import Flask, render_template
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import chart_data
from ..extensions import db, login_manager
from ..models import (
    DEACTIVATION_REASONS,
    HOUSEHOLD_STATUSES,
    ROLE_LABELS,
    User,
)
from ..personal_data import mask_id_number, mask_phone, sees_in_full


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """Load the cookie's user while the session version it names is still current.

    Logout and a password change raise the version, so a replayed session cookie or an
    old remember-me cookie (both carry ``"id:version"``) finds nobody.
    """
    number, _, version = (user_id or "").partition(":")
    if not (number.isdigit() and version.isdigit() and len(number) < 10 and len(version) < 10):
        return None
    user = db.session.get(User, int(number))
    if user is None or user.session_version != int(version):
        return None
    return user


# Scripts only from our own files (no inline script, no inline handler), no framing,
# forms posting only back to us. Styles from app.css only: templates use classes.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def register_web(app: Flask) -> None:
    """Attach blueprints, error handlers and template helpers to the app."""
    from . import params

    # Before the first route: the converters are bound when a rule is added.
    params.install(app)

    from . import audit_log, auth, households, imports, main, rules, users, villages
    from . import entries, entry_imports, household_records, review
    from . import public
    from . import quarters
    from . import exports
    from . import store
    from . import health
    from . import cards, passbook, township

    for module in (
        auth, main, villages, users, households, imports, audit_log, rules, entries, review, household_records,
        entry_imports,
        public,
        quarters,
        exports,
        store,
        health,
        cards,
        passbook,
        township,
    ):
        app.register_blueprint(module.bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"

    app.jinja_env.filters["mask_id"] = mask_id_number
    # Chart partials (templates/charts/) fetch their own numbers, so the pages that include
    # them need no change to their views.
    app.jinja_env.globals.update(
        household_charts=chart_data.household_charts,
        quarter_charts=chart_data.quarter_charts,
        store_charts=chart_data.store_charts,
    )
    app.jinja_env.filters["mask_phone"] = mask_phone
    # The one masking rule, for templates: sees_personal_data(village).
    app.jinja_env.globals["sees_personal_data"] = lambda village: sees_in_full(current_user, village)

    @app.context_processor
    def _labels() -> dict:
        return {
            "ROLE_LABELS": ROLE_LABELS,
            "HOUSEHOLD_STATUSES": HOUSEHOLD_STATUSES,
            "DEACTIVATION_REASONS": DEACTIVATION_REASONS,
        }

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _error(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(403)
    def _forbidden(_e):
        return _error(403, "没有权限", "您的账号没有权限查看此页面或执行此操作。")

    @app.errorhandler(404)
    def _not_found(_e):
        return _error(404, "页面不存在", "您要找的页面不存在，可能已被移动或链接有误。")

    @app.errorhandler(413)
    def _too_large(_e):
        return _error(413, "文件太大", "上传的文件超过10 MB，请拆分后分批导入。")

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return _error(400, "页面已过期", "表单已过期或来源不明，请刷新页面后重新提交。")

    @app.errorhandler(500)
    def _server_error(_e):
        db.session.rollback()
        return _error(500, "系统出错", "系统出错了，刚才的操作没有保存。请稍后重试，或联系管理员。")
