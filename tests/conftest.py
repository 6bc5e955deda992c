"""Fixtures: a real database (SQLite file, or PostgreSQL via VP_TEST_DATABASE_URL),
its schema built once by the migrations, and emptied after every test.

The whole suite runs on one fixed day, SUITE_DAY, whatever the calendar says: the clock
travels there (time-machine, ticking) before any test module is imported, so module-level
``dt.date.today()`` sees it too. The hard days of the year (quarter ends, 1 January,
29 February …) are covered on purpose by tests/test_hard_days.py, which travels on.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from villagepoints import accounts, create_app, households, quarter_points, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields

PASSWORD = "correct-horse-9"

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")
# A Wednesday in the middle of a quarter, in office hours in China.
SUITE_DAY = dt.datetime(2026, 11, 18, 10, 0, tzinfo=BEIJING)
_suite_clock = time_machine.travel(SUITE_DAY, tick=True)
_suite_clock.start()


def pytest_unconfigure(config) -> None:
    _suite_clock.stop()


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("VP_TEST_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{tmp_root / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _tmp_root() -> Path:
    with tempfile.TemporaryDirectory(prefix="villagepoints-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def database_url(_tmp_root: Path) -> str:
    """Build the schema once with the migrations, as `init-db` does."""
    url = _database_url(_tmp_root)
    app = _make_app(url, _tmp_root / "instance-migrate")
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        # A leftover schema from an aborted run on the same PostgreSQL is dropped first.
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
    return url


def _make_app(url: str, instance: Path, **extra) -> Flask:
    instance.mkdir(parents=True, exist_ok=True)
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }
    app = create_app(config)
    app.instance_path = str(instance)
    return app


def empty_database() -> None:
    """Delete every row, children first; the schema stays."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Flask:
    app = _make_app(database_url, tmp_path / "instance")
    yield app
    with app.app_context():
        db.session.rollback()
        # Whatever the test wrote, the quarter sums the database keeps must equal the entries.
        drift = quarter_points.drift()
        empty_database()
        db.engine.dispose()
    assert not drift, "季度累计与积分记录不符：\n" + "\n".join(d.line() for d in drift[:10])


@pytest.fixture
def ctx(app: Flask):
    """An application context for tests that call the domain functions directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_village(app: Flask):
    """Create and commit a village; returns its slug."""

    def make(name: str = "蒋坝村", slug: str = "jiangba", groups=("一组", "二组", "三组"), **settings) -> str:
        with app.app_context():
            villages.create_village(None, name, slug, list(groups), **settings)
            db.session.commit()
        return slug

    return make


@pytest.fixture
def make_user(app: Flask):
    """Create and commit a user with the test password; returns the username."""

    def make(username: str = "clerk1", role: str = "clerk", slugs=("jiangba",), password: str = PASSWORD) -> str:
        with app.app_context():
            scoped = [villages.get_by_slug(s) for s in slugs]
            accounts.create_user(None, username, password, role, [v for v in scoped if v])
            db.session.commit()
        return username

    return make


@pytest.fixture
def make_household(app: Flask):
    """Register and commit a household; returns its code."""

    def make(slug: str = "jiangba", head_name: str = "张三", group: str | None = "一组", **fields) -> str:
        with app.app_context():
            village = villages.get_by_slug(slug)
            grp = villages.find_group(village, group) if group else None
            h = households.create_household(None, village, HouseholdFields(head_name=head_name, group=grp, **fields))
            db.session.commit()
            return h.code

    return make


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class WebClient:
    """The test client with CSRF on: posts carry the token a real page would hold."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self._remember_token(response)
        return response

    def post(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        if "csrf_token" not in data:
            if self.token is None:
                self.get(url)
            data["csrf_token"] = self.token
        response = self.client.post(url, data=data, **kwargs)
        self._remember_token(response)
        return response

    def _remember_token(self, response) -> None:
        if response.mimetype == "text/html":
            match = _CSRF.search(response.get_data(as_text=True))
            if match:
                self.token = match.group(1)

    def login(self, username: str, password: str = PASSWORD):
        self.get("/login")
        return self.post("/login", {"username": username, "password": password}, follow_redirects=True)


@pytest.fixture
def web(app: Flask) -> WebClient:
    return WebClient(app.test_client())
