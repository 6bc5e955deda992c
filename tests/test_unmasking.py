"""Masked ID numbers and phones cannot be recovered by searching: non-admins search by the
last 4 characters only, searches by digits are limited per user, admins' are audited."""
import datetime as dt

import pytest

from villagepoints import households, villages
from villagepoints.extensions import db
from villagepoints.models import AuditEntry
from villagepoints.personal_data import id_check_char

ZHANG_ID = "11010119800101123" + id_check_char("11010119800101123")
ZHANG_PHONE = "13812345678"


@pytest.fixture
def zhang(make_village, make_household):
    make_village()
    return make_household(head_name="张三", id_number=ZHANG_ID, phone=ZHANG_PHONE, joined_on=dt.date(2020, 1, 1))


@pytest.fixture
def login(web, make_user):
    def as_role(role: str):
        web.login(make_user(f"{role}1", role))
        return web

    return as_role


def register_finds(web, q: str) -> bool:
    return "张三" in web.get(f"/v/jiangba/households?q={q}").get_data(as_text=True)


def lookup_finds(web, q: str) -> bool:
    return any(h["head_name"] == "张三" for h in web.get(f"/v/jiangba/households/lookup?q={q}").get_json())


@pytest.mark.parametrize("role", ["viewer", "storekeeper", "clerk", "reviewer"])
def test_a_growing_id_suffix_finds_nothing_for_non_admins(login, zhang, role):
    web = login(role)
    assert register_finds(web, ZHANG_ID[-4:]) and lookup_finds(web, ZHANG_ID[-4:])
    for length in (5, 6, 10, 17, 18):
        assert not register_finds(web, ZHANG_ID[-length:]), f"last {length} of the ID matched"
        assert not lookup_finds(web, ZHANG_ID[-length:]), f"last {length} of the ID matched"


@pytest.mark.parametrize("role", ["viewer", "storekeeper"])
def test_phone_digits_other_than_the_last_4_find_nothing_for_non_admins(login, zhang, role):
    web = login(role)
    assert register_finds(web, "5678") and lookup_finds(web, "5678")
    # 1234 sits in the middle of 13812345678: a substring search would reveal it digit by digit.
    for q in ("1234", "138", "45678", "345678", ZHANG_PHONE):
        assert not register_finds(web, q), q
        assert not lookup_finds(web, q), q


def test_admins_find_by_longer_fragments_and_each_such_search_is_audited(app, login, zhang):
    web = login("admin")
    assert register_finds(web, ZHANG_ID[-4:])  # what anyone may search: not audited
    assert register_finds(web, ZHANG_ID[-8:])
    assert lookup_finds(web, ZHANG_PHONE[2:9])
    with app.app_context():
        rows = db.session.execute(
            db.select(AuditEntry).filter_by(action="household.search").order_by(AuditEntry.id)
        ).scalars().all()
        assert [r.summary for r in rows] == [f"按完整身份证号或电话片段“{ZHANG_ID[-8:]}”查找",
                                             f"按完整身份证号或电话片段“{ZHANG_PHONE[2:9]}”查找"]
        assert all(r.user_id and r.village_id for r in rows)
    log = web.get("/audit").get_data(as_text=True)
    assert "按身份证号或电话查找农户" in log and ZHANG_ID[-8:] in log


def test_searches_by_digits_are_limited_per_user_with_a_message(app, login, zhang, web):
    app.config["SEARCH_MAX_PER_WINDOW"] = 3
    web = login("viewer")
    for _ in range(3):
        assert register_finds(web, "5678")
    page = web.get("/v/jiangba/households?q=5678")
    assert page.status_code == 429
    body = page.get_data(as_text=True)
    assert "按身份证号或电话查找过于频繁" in body and "请10分钟后再试" in body
    refused = web.get("/v/jiangba/households/lookup?q=5678")
    assert refused.status_code == 429 and "过于频繁" in refused.get_json()["error"]
    # Names and codes are not personal data: they still work.
    assert register_finds(web, "张三") and lookup_finds(web, "zs")


def test_the_search_limit_counts_each_user_apart(app, zhang, make_user):
    from conftest import WebClient

    app.config["SEARCH_MAX_PER_WINDOW"] = 2
    first, second = WebClient(app.test_client()), WebClient(app.test_client())
    first.login(make_user("viewer1", "viewer"))
    second.login(make_user("viewer2", "viewer"))
    for _ in range(2):
        assert register_finds(first, "5678")
    assert first.get("/v/jiangba/households?q=5678").status_code == 429
    assert register_finds(second, "5678")


def test_register_query_matches_tails_only_without_full_data(ctx, zhang):
    village = villages.get_by_slug("jiangba")

    def found(q, full):
        return [h.head_name for h in db.session.execute(households.register_query(village, q, full_data=full)).scalars()]

    assert found(ZHANG_ID[-4:], False) == found("5678", False) == ["张三"]
    assert found(ZHANG_ID[-5:], False) == found("12345678", False) == found("1234", False) == []
    assert found(ZHANG_ID[-5:], True) == found("12345678", True) == found("1234", True) == ["张三"]


def test_the_limit_window_passes(ctx, zhang, make_user):
    from villagepoints.models import User

    make_user("viewer1", "viewer")
    village = villages.get_by_slug("jiangba")
    viewer = db.session.execute(db.select(User).filter_by(username="viewer1")).scalar_one()
    start = dt.datetime(2026, 5, 1, 8, 0)
    for minute in range(3):
        households.record_search(viewer, village, "5678", full_data=False, limit=3,
                                 now=start + dt.timedelta(minutes=minute))
    with pytest.raises(households.SearchThrottled):
        households.record_search(viewer, village, "5678", full_data=False, limit=3, now=start + dt.timedelta(minutes=5))
    households.record_search(viewer, village, "5678", full_data=False, limit=3, now=start + dt.timedelta(minutes=11))
