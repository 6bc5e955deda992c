"""GET /healthz: for the load balancer, systemd watchdogs and uptime checks; no login."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        # The reason goes to the log only: the endpoint is public.
        current_app.logger.error("health check: database unreachable: %s", exc)
        response = jsonify(status="error", database="unreachable", message="数据库无法连接")
        response.status_code = 503
    else:
        response = jsonify(status="ok", database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
