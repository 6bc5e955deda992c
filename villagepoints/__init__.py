"""villagepoints: a household points scheme (积分制) for village committees."""
from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

from flask import Flask

from .extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")
TEMPLATES_DIR = str(Path(__file__).parent.parent / "templates")

DEFAULTS = {
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Served over HTTPS (the production guide): cookies are only ever sent encrypted.
    # Also VILLAGEPOINTS_COOKIE_SECURE=1 in the environment.
    "COOKIE_SECURE": False,
    "WTF_CSRF_TIME_LIMIT": None,
    # Uploads above the import limit (10 MB) are refused before they reach the import code.
    "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,
    # A pooled connection that died with a database restart is replaced before use,
    # instead of failing the first request each worker serves afterwards.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "IMPORT_MAX_BYTES": 10 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 100_000,
    "PER_PAGE": 50,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15,
    # Searches by ID or phone digits, per user: beyond this the register answers "wait".
    "SEARCH_MAX_PER_WINDOW": 60,
    "SEARCH_WINDOW_MINUTES": 10,
    # Photos of cards read on the server (phones that cannot scan), per staff member in that window.
    "SCAN_PHOTO_MAX_PER_WINDOW": 60,
    # Behind a reverse proxy (nginx), set to the number of proxies so that throttling
    # counts the resident's address, not the proxy's.
    "TRUSTED_PROXIES": 0,
}


def database_url_from_env(instance_path: str) -> str:
    """Read DATABASE_URL, defaulting to the SQLite file in instance/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "villagepoints.sqlite3")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _ensure_secret_key(instance_path: str) -> str:
    """Generate the instance's secret key on first run and keep it in instance/."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        # Several gunicorn workers start at once: the key is written aside and linked into
        # place, so exactly one key wins and nobody reads a half-written file.
        draft = key_file.with_name(f"secret_key.{os.getpid()}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip()


def _log_to_stdout(app: Flask) -> None:
    """Send the app's log to stdout at INFO, where gunicorn and journald collect it."""
    if app.debug or app.testing:
        return
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    # The app logger is shared by every app made in this process; one handler is enough.
    if not any(getattr(h, "_villagepoints", False) for h in app.logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"))
        handler._villagepoints = True
        app.logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the villagepoints application."""
    app = Flask(__name__, instance_relative_config=True, template_folder=TEMPLATES_DIR)
    app.config.from_mapping(DEFAULTS)
    os.makedirs(app.instance_path, exist_ok=True)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url_from_env(app.instance_path)
    if not app.config["SECRET_KEY"]:
        # Containers and test servers pass the key in; otherwise it lives in instance/.
        app.config["SECRET_KEY"] = os.environ.get("VILLAGEPOINTS_SECRET_KEY", "").strip() or None
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _ensure_secret_key(app.instance_path)
    if os.environ.get("VILLAGEPOINTS_COOKIE_SECURE", "").strip() in ("1", "true", "yes"):
        app.config["COOKIE_SECURE"] = True
    if app.config["COOKIE_SECURE"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    _log_to_stdout(app)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)

    from . import sqlite_tuning

    with app.app_context():
        sqlite_tuning.install(db.engine)

    from .web import register_web

    register_web(app)

    from .cli import register_cli

    register_cli(app)
    return app
