"""Every route, every method, anonymous and as an admin, with values that once gave a 500:
integers beyond 2^63, NUL bytes, control characters, line breaks in ?next=. Deterministic:
the same requests in the same order on every run, on SQLite or PostgreSQL."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
from wtforms.fields.core import UnboundField

from villagepoints.extensions import db
from villagepoints.models import User
from villagepoints.web.forms_base import ChineseForm

HUGE = "9" * 25  # far above 2^63
QUERY_NAMES = ("page", "group", "clerk", "rule", "item", "refresh", "year", "version", "q", "status",
               "category", "household", "date_from", "date_to", "by", "quarter", "kind", "next", "ids", "format")
# Names read from request.form without a form class.
EXTRA_FORM_NAMES = ("ids", "versions", "token", "quarter", "next", "q")

VARIANTS = {
    # name: (path text, path int, every query/form value)
    "huge numbers": (None, HUGE, HUGE),
    "negative huge numbers": (None, "1", "-" + HUGE),
    "NUL in values": (None, "1", "a\x00b"),
    "control characters in values": (None, "1", "张\x07三\x0b"),
    "line breaks": (None, "1", "/\r\nSet-Cookie: x=1"),
    "NUL in the path": ("jiangba\x00", "1", "1"),
    "control characters in the path": ("0001\x07", "1", "1"),
}


def _form_names() -> list[str]:
    names: set[str] = set(EXTRA_FORM_NAMES)
    stack = [ChineseForm]
    from flask_wtf import FlaskForm

    stack.append(FlaskForm)
    seen = set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    return sorted(names)


def _path(rule, text: str | None, number: str, real: dict[str, str]) -> str:
    def part(match: re.Match) -> str:
        converter, name = (match.group(1) or ""), match.group(2)
        if converter.startswith("int"):
            return number
        if converter.startswith("path"):
            return quote(text or "app.css")
        return quote(text if text is not None else real.get(name, "1"), safe="")

    return re.sub(r"<(?:([a-z]+(?:\([^)]*\))?):)?([a-z_]+)>", part, rule.rule)


@pytest.fixture
def fuzz_app(database_url, tmp_path):
    from conftest import _make_app, empty_database

    app = _make_app(database_url, tmp_path / "fuzz", WTF_CSRF_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    yield app
    with app.app_context():
        db.session.rollback()
        empty_database()
        db.engine.dispose()


def _world(app) -> dict:
    from villagepoints import accounts, households, villages
    from villagepoints.households import HouseholdFields

    with app.app_context():
        village = villages.create_village(None, "蒋坝村", "jiangba", ["一组", "二组"])
        admin = accounts.create_user(None, "admin", "correct-horse-9", "admin")
        households.create_household(None, village, HouseholdFields(
            head_name="张三", group=village.groups[0], joined_on=dt.date(2020, 1, 1)))
        db.session.commit()
        return {"admin": admin.id}


def _sign_in(app, client, user_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.active, user.role = True, "admin"  # a fuzzed form may have changed them
        db.session.commit()
        cookie_id = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = cookie_id
        session["_fresh"] = True


def test_no_route_answers_500_to_odd_values(fuzz_app):
    ids = _world(fuzz_app)
    rules = sorted(fuzz_app.url_map.iter_rules(), key=lambda r: r.rule)
    real = {"slug": "jiangba", "code": "0001", "quarter": "2026Q2", "kind": "register", "filename": "app.css"}
    form_names = _form_names()
    failures = []
    count = 0
    for identity in ("anonymous", "admin"):
        client = fuzz_app.test_client()
        for rule in rules:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for variant, (text, number, value) in VARIANTS.items():
                    if identity == "admin":
                        _sign_in(fuzz_app, client, ids["admin"])
                    path = _path(rule, text, number, real)
                    query = {name: value for name in QUERY_NAMES}
                    data = {name: value for name in form_names} if method == "POST" else None
                    response = client.open(path, method=method, query_string=query, data=data)
                    response.close()
                    count += 1
                    if response.status_code >= 500:
                        failures.append(f"{identity} {method} {rule.rule} [{variant}] -> {response.status_code}")
    assert count > 900
    assert failures == []
