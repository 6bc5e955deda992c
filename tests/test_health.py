"""GET /healthz: what a load balancer or uptime check sees."""
from __future__ import annotations

from pathlib import Path

from villagepoints import create_app


def test_health_check_answers_ok_without_login_when_the_database_is_up(web):
    response = web.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_check_answers_503_when_the_database_is_unreachable(tmp_path: Path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no-such-folder' / 'vp.sqlite3'}",
    })

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "unreachable"
    # The endpoint is public: the driver's error stays in the log.
    assert "no-such-folder" not in response.get_data(as_text=True)
