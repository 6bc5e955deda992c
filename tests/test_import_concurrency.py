"""One upload confirmed from five tabs at once, each request in its own thread and connection, on
whatever database the suite runs on (SQLite, or PostgreSQL via VP_TEST_DATABASE_URL): it is
imported exactly once and every tab lands on that import's result."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from concurrency import together
from conftest import WebClient
from test_entry_import_pages import HEADERS, confirm_fields
from test_import_pages import GOOD, form_fields

from villagepoints.extensions import db
from villagepoints.models import AuditEntry, Entry, Household, ImportClaim

from import_workbooks import xlsx

TABS = 5


def tabs(app, n: int = TABS) -> list[WebClient]:
    """Return n browsers, each logged in as clerk1 with its own session and form token."""
    clients = []
    for _ in range(n):
        client = WebClient(app.test_client())
        client.login("clerk1")
        client.get("/v/jiangba/import")
        clients.append(client)
    return clients


def confirm_at_once(clients: list[WebClient], url: str, fields: dict) -> list[str]:
    """Post the same confirmation from every client at once; return each outcome (status and place, or error)."""
    def run(client: WebClient, gate) -> str:
        data = {**fields, "csrf_token": client.token}
        gate()
        try:
            response = client.client.post(url, data=data)
            return f"{response.status_code} {response.headers.get('Location', '')}"
        except Exception as exc:  # a 500 in testing mode propagates; record it as the outcome
            return type(exc).__name__

    return together(clients, run, what="a confirmation")


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(model.id))).scalar_one()


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.execute(
            db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action == action)
        ).scalar_one()


@pytest.fixture
def village(make_village, make_user):
    make_village()
    make_user("clerk1", "clerk")


def test_household_import_confirmed_from_five_tabs_at_once_imports_once(app, village):
    clients = tabs(app)
    preview = clients[0].post(
        "/v/jiangba/import", {"file": (io.BytesIO(xlsx(GOOD)), "名册.xlsx")}, content_type="multipart/form-data"
    )
    fields = form_fields(preview, "confirm")

    outcomes = confirm_at_once(clients, "/v/jiangba/import/confirm", fields)

    assert outcomes == ["302 /v/jiangba/import/result"] * TABS
    assert count(app, Household) == 2 and count(app, ImportClaim) == 1
    assert audit_count(app, "household.import") == 1
    for client in clients:
        page = client.get("/v/jiangba/import/result").get_data(as_text=True)
        assert "文件：名册.xlsx" in page and "新增</dt><dd>2 户" in page


def test_entry_import_confirmed_from_five_tabs_at_once_imports_once(app, village, make_household):
    make_household(head_name="张三", group="一组", code="0001", joined_on=dt.date(2020, 1, 1))
    make_household(head_name="李四", group="二组", code="0002", joined_on=dt.date(2020, 1, 1))
    clients = tabs(app)
    today = dt.date.today()  # the import refuses dates after today; the outcome does not depend on it
    sheet = xlsx([HEADERS, ["0001", None, None, "P01", None, today, ""], ["0002", None, None, "P05", 3, today, ""]])
    preview = clients[0].post(
        "/v/jiangba/entries/import", {"file": (io.BytesIO(sheet), "积分.xlsx")}, content_type="multipart/form-data"
    )
    fields = confirm_fields(preview)

    outcomes = confirm_at_once(clients, "/v/jiangba/entries/import/confirm", fields)

    assert outcomes == ["302 /v/jiangba/entries/import/result"] * TABS
    assert count(app, Entry) == 2 and count(app, ImportClaim) == 1
    assert audit_count(app, "entry.import") == 1
    for client in clients:
        page = client.get("/v/jiangba/entries/import/result").get_data(as_text=True)
        assert "积分导入完成" in page
