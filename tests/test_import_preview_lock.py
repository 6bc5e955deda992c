"""An upload preview only reads: while it parses a file, other users of the embedded SQLite
database can still write (log in, enter points) instead of waiting for it."""
from __future__ import annotations

import datetime as dt
import io
import sqlite3
import threading

import pytest
from test_entry_import_pages import HEADERS
from test_import_pages import GOOD

from villagepoints import entry_import, household_import
from villagepoints.extensions import db

from import_workbooks import xlsx

UPLOADS = {
    "households": ("/v/jiangba/import", household_import, "plan_import", lambda: xlsx(GOOD), "导入预览"),
    "entries": (
        "/v/jiangba/entries/import", entry_import, "plan_entry_import",
        lambda: xlsx([HEADERS, ["0001", None, None, "P01", None, dt.date(2026, 1, 5), ""]]), "积分导入预览",
    ),
}


@pytest.fixture
def clerk(app, web, make_village, make_user, make_household):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock; PostgreSQL locks rows")
    make_village()
    make_household(head_name="张三", group="一组", code="0001", joined_on=dt.date(2020, 1, 1))
    make_user("clerk1", "clerk")
    web.login("clerk1")
    return web


@pytest.mark.parametrize("kind", sorted(UPLOADS))
def test_another_connection_can_write_while_a_preview_is_parsing(app, clerk, monkeypatch, kind):
    url, module, name, workbook, heading = UPLOADS[kind]
    parsing, finish = threading.Event(), threading.Event()
    real = getattr(module, name)

    def slow_parse(*args, **kwargs):
        parsing.set()
        finish.wait(timeout=20)  # a large file takes this long to read and check
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow_parse)
    data = workbook()
    answer = {}
    clerk.get(url)
    token = clerk.token

    def preview():
        answer["page"] = clerk.client.post(
            url, data={"file": (io.BytesIO(data), "文件.xlsx"), "csrf_token": token}, content_type="multipart/form-data"
        )

    thread = threading.Thread(target=preview)
    thread.start()
    try:
        assert parsing.wait(timeout=20), "the preview never started parsing"
        with app.app_context():
            path = db.engine.url.database
        other = sqlite3.connect(path, timeout=1, isolation_level=None)
        try:
            # Another clerk's write: it gets the write lock at once rather than "database is locked".
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE villages SET name = name")
            other.execute("COMMIT")
        finally:
            other.close()
    finally:
        finish.set()
        thread.join(timeout=30)
    assert answer["page"].status_code == 200
    assert heading in answer["page"].get_data(as_text=True)
