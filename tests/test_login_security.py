"""Logins and sessions under attack: atomic throttles, no lock-out from a fresh address, equal
timing for unknown names, sessions that end, cookies and headers. The concurrent tests run
on whatever database the suite runs on (SQLite, or PostgreSQL via VP_TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from concurrency import together
from conftest import PASSWORD, WebClient
from villagepoints import accounts, resident, villages
from villagepoints.extensions import db
from villagepoints.households import HouseholdFields, create_household
from villagepoints.models import LoginFailure
from villagepoints.personal_data import id_check_char

NOW = dt.datetime(2026, 5, 4, 9, 0, 0)
THREADS = 30


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def failures(app, kind: str = "login") -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(LoginFailure.id)).filter_by(kind=kind)).scalar_one()


def fire(app, attempt, n: int = THREADS) -> list[str]:
    """Run ``attempt()`` in n threads, each with its own app context and connection, all at once."""
    def run(_job, gate):
        with app.app_context():
            db.session.execute(db.select(1))
            db.session.rollback()  # a connection of its own, no transaction open at the gate
            gate()
            try:
                outcome = attempt()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the outcome is the refusal's name
                db.session.rollback()
                outcome = type(exc).__name__
            return outcome

    return together(range(n), run, what="an attempt")


# Atomic counting


def test_thirty_simultaneous_wrong_passwords_get_exactly_five_tries(app, make_user):
    make_user("clerk1", "clerk", slugs=())

    def attempt():
        return "tried" if accounts.authenticate("clerk1", "wrong-password", "10.0.0.1", now=NOW) is None else "in"

    outcomes = fire(app, attempt)
    assert outcomes.count("tried") == 5
    assert outcomes.count("LoginThrottled") == THREADS - 5
    assert failures(app) == 5


def test_thirty_simultaneous_wrong_lookups_get_exactly_five_tries(app, make_village):
    make_village()
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        first17 = "11010119800101123"
        code = create_household(None, village, HouseholdFields(
            head_name="张三", id_number=first17 + id_check_char(first17), joined_on=dt.date(2020, 1, 1),
        )).code
        db.session.commit()

    def attempt():
        try:
            resident.lookup(villages.get_by_slug("jiangba"), code, "0000", "10.0.0.1")
        except resident.LookupThrottled:
            raise
        except resident.LookupRefused:
            return "tried"  # the page commits the recorded failure, as here

    outcomes = fire(app, attempt)
    assert outcomes.count("tried") == 5
    assert outcomes.count("LookupThrottled") == THREADS - 5
    assert failures(app, "lookup") == 5


# Lock-out


def test_guesses_from_elsewhere_do_not_lock_the_right_password_out_of_a_fresh_address(ctx, make_user):
    make_user("admin", "admin", slugs=())
    for i in range(5):
        assert accounts.authenticate("admin", "wrong", "203.0.113.9", now=at(i)) is None
    for i in range(5):
        assert accounts.authenticate("admin", "wrong", f"198.51.100.{i}", now=at(5 + i)) is None
    user = accounts.authenticate("admin", PASSWORD, "192.168.1.20", now=at(10))
    assert user is not None and user.username == "admin"


def test_an_address_that_keeps_failing_waits_longer_after_each_failure(ctx, make_user):
    make_user("clerk1", "clerk", slugs=())
    for i in range(5):
        assert accounts.authenticate("clerk1", "wrong", "10.0.0.1", now=at(i)) is None
    # The 5th failure (at 4 s) asks for 2^5 = 32 s.
    with pytest.raises(accounts.LoginThrottled, match="该账号登录失败次数过多，请3[0-9]秒后再试"):
        accounts.authenticate("clerk1", PASSWORD, "10.0.0.1", now=at(5))
    assert accounts.authenticate("clerk1", "wrong", "10.0.0.1", now=at(37)) is None
    # The 6th (at 37 s) asks for 64 s: at 37 + 40 s it is still too early.
    with pytest.raises(accounts.LoginThrottled, match="请2[0-9]秒后再试"):
        accounts.authenticate("clerk1", PASSWORD, "10.0.0.1", now=at(77))
    assert accounts.authenticate("clerk1", PASSWORD, "10.0.0.1", now=at(102)) is not None


def test_an_address_failing_twenty_times_on_any_names_is_refused_even_the_right_password(ctx, make_user):
    make_user("clerk1", "clerk", slugs=())
    for i in range(20):
        accounts.authenticate(f"nobody{i}", "wrong", "10.0.0.66", now=at(i))
    with pytest.raises(accounts.LoginThrottled, match="这台设备登录失败次数过多，请15分钟后再试"):
        accounts.authenticate("clerk1", PASSWORD, "10.0.0.66", now=at(30))
    assert accounts.authenticate("clerk1", PASSWORD, "10.0.0.66", now=at(16 * 60 + 30)) is not None


def test_unknown_names_take_as_long_to_refuse_as_known_ones(app, make_user):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    make_user("clerk1", "clerk", slugs=())

    def timed(name: str, addr: str) -> float:
        best = float("inf")
        for _ in range(3):
            with app.app_context():
                start = time.perf_counter()
                accounts.authenticate(name, "wrong-password", addr)
                best = min(best, time.perf_counter() - start)
                db.session.rollback()
        return best

    with app.app_context():
        accounts._spend_a_hash("warm up")  # the dummy hash is made once per process
    known, unknown = timed("clerk1", "10.0.0.1"), timed("nobody-here", "10.0.0.2")
    assert unknown > known * 0.4, f"unknown name answered in {unknown:.3f}s, known in {known:.3f}s"


# Sessions end


def test_a_replayed_session_cookie_stops_working_after_logout(web, make_user):
    make_user("clerk1", "clerk", slugs=())
    web.login("clerk1")
    stolen = web.client.get_cookie("session").value
    assert web.get("/").status_code == 200
    web.post("/logout")
    thief = WebClient(web.client.application.test_client())
    thief.client.set_cookie("session", stolen)
    page = thief.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_the_remember_me_cookie_stops_working_after_logout(web, make_user):
    make_user("clerk1", "clerk", slugs=())
    web.get("/login")
    web.post("/login", {"username": "clerk1", "password": PASSWORD, "remember": "y"})
    remembered = web.client.get_cookie("remember_token").value
    fresh = web.client.application.test_client()
    fresh.set_cookie("remember_token", remembered)
    assert fresh.get("/").status_code == 200  # the cookie does log a browser in on its own
    web.post("/logout")
    later = web.client.application.test_client()
    later.set_cookie("remember_token", remembered)
    page = later.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, make_user):
    make_user("clerk1", "clerk", slugs=())
    here, phone = WebClient(app.test_client()), WebClient(app.test_client())
    here.login("clerk1")
    phone.get("/login")
    phone.post("/login", {"username": "clerk1", "password": PASSWORD, "remember": "y"})
    remembered = phone.client.get_cookie("remember_token").value
    page = here.post("/account/password", {"current": PASSWORD, "password": "new-password-77",
                                           "confirm": "new-password-77"}, follow_redirects=True)
    assert "密码已修改" in page.get_data(as_text=True)
    assert here.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered)
    assert replay.get("/").status_code == 302


def test_an_admin_resetting_a_password_ends_that_users_sessions(app, make_user):
    make_user("admin", "admin", slugs=())
    make_user("clerk1", "clerk", slugs=())
    admin, clerk = WebClient(app.test_client()), WebClient(app.test_client())
    admin.login("admin")
    clerk.login("clerk1")
    with app.app_context():
        from villagepoints.models import User

        clerk_id = db.session.execute(db.select(User.id).filter_by(username="clerk1")).scalar_one()
    admin.get(f"/users/{clerk_id}/edit")
    admin.post(f"/users/{clerk_id}/edit", {"role": "clerk", "active": "y", "display_name": "",
                                          "password": "reset-by-admin-1", "confirm": "reset-by-admin-1"})
    assert clerk.get("/").status_code == 302
    assert admin.get("/").status_code == 200


# Cookies and headers


def test_remember_me_cookie_is_samesite_lax_and_httponly(web, make_user):
    make_user("clerk1", "clerk", slugs=())
    web.get("/login")
    page = web.post("/login", {"username": "clerk1", "password": PASSWORD, "remember": "y"})
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie


def test_cookies_are_secure_when_configured(database_url, tmp_path, make_user):
    from conftest import _make_app

    make_user("clerk1", "clerk", slugs=())
    secure = _make_app(database_url, tmp_path / "secure", COOKIE_SECURE=True)
    web = WebClient(secure.test_client())
    web.get("/login", base_url="https://localhost")
    # Over HTTPS Flask-WTF also wants the form to come from our own page.
    page = web.post("/login", {"username": "clerk1", "password": PASSWORD, "remember": "y"},
                    base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    cookies = page.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} >= {"session", "remember_token"}
    assert all("; Secure" in c for c in cookies)
    with secure.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("url", ["/login", "/healthz", "/no-such-page", "/static/app.css", "/board/nowhere"])
def test_every_response_carries_the_security_headers(web, url):
    response = web.get(url)
    response.close()
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_templates_hold_no_inline_script_handler_or_style():
    import re
    from pathlib import Path

    from villagepoints import TEMPLATES_DIR

    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I)
    found = [f"{p.relative_to(TEMPLATES_DIR)}: {m.group(0)}"
             for p in sorted(Path(TEMPLATES_DIR).rglob("*.html")) for m in inline.finditer(p.read_text())]
    assert found == []


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/v/jiangba\n", "/\\evil.example"])
def test_login_next_with_a_line_break_or_backslash_goes_home(web, make_user, target):
    make_user("clerk1", "clerk", slugs=())
    web.get("/login")
    from urllib.parse import quote

    page = web.post("/login?next=" + quote(target, safe=""), {"username": "clerk1", "password": PASSWORD})
    assert page.status_code == 302
    assert page.headers["Location"] in ("/", "/v/jiangba")
