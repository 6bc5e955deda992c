"""The household register pages, through the test client with CSRF on."""
import datetime as dt

import pytest
from sqlalchemy import event

from villagepoints import accounts, households, townships, villages
from villagepoints.extensions import db
from villagepoints.households import CodeAllocator, HouseholdFields
from villagepoints.models import AuditEntry, Household
from villagepoints.personal_data import id_check_char

ZHANG_ID = "11010119800101123" + id_check_char("11010119800101123")
ZHANG_PHONE = "13812345678"


@pytest.fixture
def village(make_village):
    return make_village()


@pytest.fixture
def zhang(village, make_household):
    """张三 of 一组, with an ID number, a phone and two categories; returns the code."""
    return make_household(
        head_name="张三", id_number=ZHANG_ID, phone=ZHANG_PHONE,
        categories=["党员户", "脱贫户"], joined_on=dt.date(2020, 1, 1),
    )


@pytest.fixture
def li(village, make_household):
    return make_household(head_name="李四", group="二组", code="A-17", categories=["低保户"], joined_on=dt.date(2021, 1, 1))


@pytest.fixture
def as_role(web, village, make_user):
    """Log in as a user of the given role scoped to the village."""

    def login(role: str):
        web.login(make_user(f"{role}1", role))
        return web

    return login


@pytest.fixture
def many_households(app):
    """Register n households spread over the groups and categories in one transaction."""

    def make(n: int, slug: str = "jiangba", prefix: str = "村民", start: int = 0) -> None:
        with app.app_context():
            village = villages.get_by_slug(slug)
            codes = CodeAllocator(village)
            for i in range(start, start + n):
                fields = HouseholdFields(
                    head_name=f"{prefix}{i - start}", group=village.groups[i % len(village.groups)],
                    categories=[village.categories[i % len(village.categories)]],
                    id_number=f"1101011980{i:07d}"[:17] + "X", phone=f"139{i:08d}",
                )
                households.create_household(None, village, fields, codes, check=False)
            db.session.commit()

    return make


def text(response) -> str:
    return response.get_data(as_text=True)


def codes_listed(page) -> list[str]:
    return [line.split(">")[1].split("<")[0] for line in text(page).splitlines() if "households/" in line and "<td><a" in line]


def household(app, code, slug="jiangba"):
    with app.app_context():
        h = households.get_household(villages.get_by_slug(slug), code)
        return None if h is None else households.state(h) | {"id_full": h.id_number, "phone_full": h.phone}


# The list, its search and filters


@pytest.mark.parametrize("q", ["张三", "张", "zs", "ZS", "0001", ZHANG_ID[-4:], ZHANG_PHONE[-4:]])
def test_search_finds_a_household_by_name_initials_code_id_tail_or_phone_tail(as_role, zhang, li, q):
    page = as_role("clerk").get(f"/v/jiangba/households?q={q}")
    assert page.status_code == 200
    assert "张三" in text(page) and "李四" not in text(page)


def test_search_finds_a_code_with_letters(as_role, zhang, li):
    page = as_role("viewer").get("/v/jiangba/households?q=A-17")
    assert "李四" in text(page) and "张三" not in text(page)


def test_search_without_a_match_says_so(as_role, zhang):
    page = as_role("viewer").get("/v/jiangba/households?q=王五")
    assert "没有符合条件的农户" in text(page)
    assert "符合条件 <strong>0</strong> 户" in text(page)


def test_filters_by_group_category_and_status(app, as_role, zhang, li):
    web = as_role("clerk")
    with app.app_context():
        village = villages.get_by_slug("jiangba")
        group2 = villages.find_group(village, "二组").id
    assert "张三" not in text(web.get(f"/v/jiangba/households?group={group2}"))
    assert "李四" in text(web.get(f"/v/jiangba/households?group={group2}"))
    by_category = text(web.get("/v/jiangba/households?category=党员户"))
    assert "张三" in by_category and "李四" not in by_category
    web.post(f"/v/jiangba/households/{li}/deactivate", {"on": "2026-03-01", "reason": "moved"}, follow_redirects=True)
    active = text(web.get("/v/jiangba/households?status=active"))
    assert "张三" in active and "李四" not in active
    inactive = text(web.get("/v/jiangba/households?status=inactive"))
    assert "李四" in inactive and "张三" not in inactive
    everyone = text(web.get("/v/jiangba/households"))
    assert "张三" in everyone and "李四" in everyone
    assert "在册 1 户，已注销 1 户" in everyone


def test_pages_of_fifty_with_counts_and_filters_kept_in_pager_links(as_role, village, many_households):
    many_households(120)
    web = as_role("viewer")
    first = text(web.get("/v/jiangba/households"))
    assert "符合条件 <strong>120</strong> 户" in first and "第 1 / 3 页" in first
    assert first.count("<tr data-href=") + first.count('<tr class="inactive" data-href=') == 50
    filtered = text(web.get("/v/jiangba/households?q=村民1&status=active"))
    # 村民1, 村民10..19, 村民100..119: 31 households
    assert "符合条件 <strong>31</strong> 户" in filtered and "在册 31 户，已注销 0 户" in filtered
    assert "第 1 / 1 页" in filtered
    filtered = text(web.get("/v/jiangba/households?category=党员户&q=村民"))
    assert "符合条件 <strong>17</strong> 户" in filtered  # every 7th of 120
    last = text(web.get("/v/jiangba/households?page=3"))
    assert "第 3 / 3 页" in last and "村民119" in last and "下一页" not in last
    pager = text(web.get("/v/jiangba/households?q=村民&status=active&page=2"))
    assert "q=%E6%9D%91%E6%B0%91" in pager and "status=active" in pager and "page=3" in pager


def test_a_page_past_the_end_is_empty_not_an_error(as_role, zhang):
    page = as_role("viewer").get("/v/jiangba/households?page=9")
    assert page.status_code == 200


def test_the_list_runs_the_same_few_queries_for_5_or_50_households(app, as_role, village, many_households):
    web = as_role("clerk")

    def queries_for_list() -> int:
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert web.get("/v/jiangba/households").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    many_households(5)
    few = queries_for_list()
    many_households(45, prefix="新户", start=5)
    assert queries_for_list() == few
    assert few <= 10


# Personal data


def test_a_clerk_sees_masked_id_and_phone_everywhere(as_role, zhang):
    web = as_role("clerk")
    for url in ("/v/jiangba/households", f"/v/jiangba/households/{zhang}", f"/v/jiangba/households/{zhang}/edit"):
        page = text(web.get(url))
        assert ZHANG_ID not in page and ZHANG_PHONE not in page, url
        assert "110101********" + ZHANG_ID[-4:] in page and "138****5678" in page, url


def test_an_admin_sees_full_id_and_phone(web, zhang, make_user):
    web.login(make_user("admin1", "admin", slugs=()))
    for url in ("/v/jiangba/households", f"/v/jiangba/households/{zhang}", f"/v/jiangba/households/{zhang}/edit"):
        page = text(web.get(url))
        assert ZHANG_ID in page and ZHANG_PHONE in page, url


# Adding and editing


def test_adding_a_household_generates_its_code_and_opens_its_page(app, as_role, village):
    web = as_role("clerk")
    page = web.post("/v/jiangba/households/new", {
        "head_name": "王五", "id_number": ZHANG_ID.lower()[:-1] + ZHANG_ID[-1].lower(), "phone": "138 1234 5678",
        "group": "0", "members": "4", "categories": ["党员户", "监测户"], "address": "蒋坝村3号",
        "joined_on": "2024-03-01", "note": "",
    }, follow_redirects=True)
    assert page.status_code == 200
    assert "已添加农户 0001 王五" in text(page)
    stored = household(app, "0001")
    assert stored["id_full"] == ZHANG_ID and stored["phone_full"] == ZHANG_PHONE
    assert stored["categories"] == ["党员户", "监测户"] and stored["members"] == 4
    assert stored["group"] is None and stored["joined_on"] == dt.date(2024, 3, 1)


def test_adding_with_a_bad_id_number_shows_the_reason_and_adds_nothing(app, as_role, village):
    web = as_role("clerk")
    bad = ZHANG_ID[:-1] + ("0" if ZHANG_ID[-1] != "0" else "1")
    page = web.post("/v/jiangba/households/new", {"head_name": "王五", "id_number": bad, "group": "0", "members": "1"})
    assert page.status_code == 200
    assert "身份证号校验位不正确" in text(page)
    page = web.post("/v/jiangba/households/new", {"head_name": "王五", "id_number": "1101011980", "group": "0", "members": "1"})
    assert "身份证号应为18位，这里是10位" in text(page)
    with app.app_context():
        assert db.session.execute(db.select(Household)).first() is None


def test_adding_with_a_bad_phone_or_members_shows_chinese_reasons(as_role, village):
    web = as_role("clerk")
    page = text(web.post("/v/jiangba/households/new", {"head_name": "王五", "phone": "12345", "group": "0", "members": "abc"}))
    assert "电话号码格式不正确" in page
    assert "不是有效的整数" in page


def test_a_duplicate_code_is_refused_under_the_code_field(app, as_role, zhang):
    web = as_role("clerk")
    page = web.post("/v/jiangba/households/new", {"head_name": "王五", "code": zhang, "group": "0", "members": "1"})
    assert f"户编号“{zhang}”已被本村其他农户使用" in text(page)
    assert 'class="field-error"' in text(page)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Household.id))).scalar_one() == 1


def test_a_duplicate_id_number_is_refused(as_role, zhang):
    web = as_role("clerk")
    page = web.post("/v/jiangba/households/new", {"head_name": "王五", "id_number": ZHANG_ID, "group": "0", "members": "1"})
    assert f"该身份证号已登记在户编号 {zhang}（张三）下" in text(page)


def test_editing_changes_the_household_and_is_shown_in_its_history(app, as_role, zhang):
    web = as_role("clerk")
    page = web.post(f"/v/jiangba/households/{zhang}/edit", {
        "code": zhang, "head_name": "张三丰", "group": "0", "members": "3", "categories": ["党员户"],
        "address": "新址", "joined_on": "2020-01-01",
    }, follow_redirects=True)
    assert "已保存修改" in text(page)
    assert "户主：张三 → 张三丰" in text(page)
    assert "类别：党员户、脱贫户 → 党员户" in text(page)
    stored = household(app, zhang)
    assert stored["head_name"] == "张三丰" and stored["members"] == 3 and stored["group"] is None
    # The clerk's boxes were empty because the numbers are masked; they are kept.
    assert stored["id_full"] == ZHANG_ID and stored["phone_full"] == ZHANG_PHONE


def test_editing_with_a_bad_id_number_shows_the_reason_and_changes_nothing(app, as_role, zhang):
    web = as_role("clerk")
    before = household(app, zhang)
    page = web.post(f"/v/jiangba/households/{zhang}/edit", {
        "code": zhang, "head_name": "张三丰", "id_number": "11010119800101123Y", "group": "0", "members": "2",
    })
    assert "身份证号前17位应为数字，最后一位为数字或X" in text(page)
    assert household(app, zhang) == before


def test_changing_the_code_moves_the_page(app, as_role, zhang):
    web = as_role("clerk")
    page = web.post(f"/v/jiangba/households/{zhang}/edit", {
        "code": "0100", "head_name": "张三", "group": "0", "members": "1", "categories": ["党员户", "脱贫户"],
    })
    assert page.headers["Location"].endswith("/v/jiangba/households/0100")
    assert web.get(f"/v/jiangba/households/{zhang}").status_code == 404


# Deactivating


def test_deactivating_keeps_the_household_and_shows_date_and_reason(app, as_role, zhang):
    web = as_role("clerk")
    form = text(web.get(f"/v/jiangba/households/{zhang}/deactivate"))
    assert dt.date.today().isoformat() in form
    page = web.post(f"/v/jiangba/households/{zhang}/deactivate", {
        "on": "2026-03-01", "reason": "merged", "note": "并入0002户",
    }, follow_redirects=True)
    body = text(page)
    assert "已注销（合户）" in body
    assert "2026-03-01" in body and "并入0002户" in body
    assert household(app, zhang)["status"] == "inactive"
    assert "张三" in text(web.get("/v/jiangba/households?status=inactive"))


def test_deactivating_before_joining_is_refused_under_the_date(app, as_role, zhang):
    web = as_role("clerk")
    page = web.post(f"/v/jiangba/households/{zhang}/deactivate", {"on": "2019-01-01", "reason": "moved"})
    assert "注销日期不能早于登记日期" in text(page)
    assert household(app, zhang)["status"] == "active"


def test_deactivating_needs_a_reason(app, as_role, zhang):
    web = as_role("clerk")
    page = web.post(f"/v/jiangba/households/{zhang}/deactivate", {"on": "2026-03-01", "reason": "sold"})
    assert page.status_code == 200 and "不是有效的选择" in text(page)
    assert household(app, zhang)["status"] == "active"


def test_opening_the_deactivate_form_changes_nothing(app, as_role, zhang):
    as_role("clerk").get(f"/v/jiangba/households/{zhang}/deactivate")
    assert household(app, zhang)["status"] == "active"


def test_only_an_admin_can_reactivate(app, web, zhang, make_user):
    make_user("admin1", "admin", slugs=())
    web.login(make_user("clerk1", "clerk"))
    web.post(f"/v/jiangba/households/{zhang}/deactivate", {"on": "2026-03-01", "reason": "moved"})
    assert web.post(f"/v/jiangba/households/{zhang}/reactivate").status_code == 403
    web.post("/logout")
    web.login("admin1")
    assert "恢复在册" in text(web.get(f"/v/jiangba/households/{zhang}"))
    page = web.post(f"/v/jiangba/households/{zhang}/reactivate", follow_redirects=True)
    assert "已恢复在册" in text(page)
    assert household(app, zhang)["status"] == "active"


def test_a_township_admin_is_offered_reactivation_in_its_township(app, web, zhang, make_user):
    """Reactivating is an admin's power a township admin holds in its villages: the page offers it."""
    web.login(make_user("clerk1", "clerk"))
    web.post(f"/v/jiangba/households/{zhang}/deactivate", {"on": "2026-03-01", "reason": "moved"})
    web.post("/logout")
    with app.app_context():
        township = townships.create_township(None, "东乡镇", "dongxiang", ["jiangba"])
        accounts.create_user(None, "ta", "correct-horse-9", "township_admin", [], township=township)
        db.session.commit()
    web.login("ta")
    assert "恢复在册" in text(web.get(f"/v/jiangba/households/{zhang}"))
    page = web.post(f"/v/jiangba/households/{zhang}/reactivate", follow_redirects=True)
    assert "已恢复在册" in text(page)
    assert household(app, zhang)["status"] == "active"


def test_writes_without_the_csrf_token_are_refused(app, as_role, zhang):
    web = as_role("clerk")
    page = web.client.post(f"/v/jiangba/households/{zhang}/deactivate", data={"on": "2026-03-01", "reason": "moved"})
    assert page.status_code == 400
    assert household(app, zhang)["status"] == "active"


# Who may do what


@pytest.mark.parametrize("role", ["viewer", "reviewer", "storekeeper"])
def test_read_only_roles_can_read_but_not_change(app, as_role, zhang, role):
    web = as_role(role)
    listing = text(web.get("/v/jiangba/households"))
    assert "张三" in listing and "/v/jiangba/households/new" not in listing
    assert f"/v/jiangba/households/{zhang}/edit" not in text(web.get(f"/v/jiangba/households/{zhang}"))
    for url in ("/v/jiangba/households/new", f"/v/jiangba/households/{zhang}/edit", f"/v/jiangba/households/{zhang}/deactivate"):
        assert web.get(url).status_code == 403, url
    assert web.post(f"/v/jiangba/households/{zhang}/edit", {"head_name": "改名", "group": "0", "members": "1"}).status_code == 403
    assert web.post(f"/v/jiangba/households/{zhang}/deactivate", {"on": "2026-03-01", "reason": "moved"}).status_code == 403
    assert web.post("/v/jiangba/households/new", {"head_name": "王五", "group": "0", "members": "1"}).status_code == 403
    assert household(app, zhang)["status"] == "active" and household(app, zhang)["head_name"] == "张三"


def test_a_clerk_sees_add_and_import_links(as_role, village):
    page = text(as_role("clerk").get("/v/jiangba/households"))
    assert "/v/jiangba/households/new" in page and "/v/jiangba/import" in page


def test_another_villages_household_is_out_of_reach(web, zhang, make_village, make_user):
    make_village("新村", "xincun")
    web.login(make_user("clerk2", "clerk", slugs=("xincun",)))
    assert web.get(f"/v/jiangba/households/{zhang}").status_code == 403
    assert web.get(f"/v/jiangba/households/{zhang}/edit").status_code == 403
    assert web.post(f"/v/jiangba/households/{zhang}/deactivate", {"on": "2026-03-01", "reason": "moved"}).status_code == 403
    # The same code under the user's own village is simply not there.
    assert web.get(f"/v/xincun/households/{zhang}").status_code == 404


def test_an_unknown_code_is_not_found(as_role, village):
    assert as_role("viewer").get("/v/jiangba/households/9999").status_code == 404


# The household page


def test_the_household_page_shows_its_fields_and_history(app, as_role, zhang):
    web = as_role("viewer")
    body = text(web.get(f"/v/jiangba/households/{zhang}"))
    for shown in ("张三", "一组", "党员户", "脱贫户", "2020-01-01", "在册", "变更记录", "登记", "命令行"):
        assert shown in body, shown


def test_history_shows_only_this_households_entries(app, as_role, zhang, make_household):
    other = make_household(head_name="王五", code=f"{zhang}0")
    web = as_role("viewer")
    body = text(web.get(f"/v/jiangba/households/{zhang}"))
    assert "王五" not in body
    with app.app_context():
        assert db.session.execute(
            db.select(db.func.count(AuditEntry.id)).where(AuditEntry.target.like(f"农户 {other} %"))
        ).scalar_one() == 1
